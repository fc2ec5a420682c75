/**
 * What PyYAML's `safe_load` (BentoML's reader for bentofile.yaml, bento.yaml and model.yaml) refuses, checked on a
 * document parsed by the `yaml` package before anything is converted: tags it has no constructor for
 * (`!!python/object/apply:…`, local `!tags`), aliases used before (or without) their anchor, merge keys (`<<`) of
 * something that is not a mapping, and recursive aliases. Plus one limit of our own: an alias "bomb" that expands
 * to more nodes than any real file has. Each problem has the offset of the node, for file:line:col messages.
 *
 * It also checks the text itself as PyYAML's reader and scanner do: characters PyYAML refuses (control characters,
 * C1 controls, surrogates…), tabs where PyYAML starts a token (unquoted: in indentation, around values, inside plain
 * scalars), and explicit standard tags whose value PyYAML cannot construct (`!!int x`, `!!bool Y`, `!!seq {}`).
 *
 * A leaf: it imports only the `yaml` package.
 */
import {type Alias, CST, type Document, isAlias, isCollection, isMap, isPair, isScalar, isSeq, Lexer, type Node, visit} from 'yaml'

export interface YamlProblem {
  /** Character offset in the source. */
  offset: number
  message: string
  hint: string
}

/** The tags PyYAML's SafeLoader constructs; any other tag is a ConstructorError there. */
const SAFE_TAGS = new Set(
  ['null', 'bool', 'int', 'float', 'binary', 'timestamp', 'omap', 'pairs', 'set', 'str', 'seq', 'map'].map(
    (t) => `tag:yaml.org,2002:${t}`,
  ),
)

/** Far above any real bentofile / bento.yaml / model.yaml (hundreds of nodes), far below what hurts. */
export const MAX_EXPANDED_NODES = 200_000

const SHOWN = 60

function shown(text: string): string {
  return text.length > SHOWN ? `${text.slice(0, SHOWN - 1)}…` : text
}

function start(node: {range?: [number, number, number] | null} | null | undefined): number {
  return node?.range?.[0] ?? 0
}

/**
 * Everything in `doc` that PyYAML's safe_load would refuse, or that expands beyond `maxNodes`, in source order.
 * When this returns [] `doc.toJS({maxAliasCount: -1})` is safe and equals what safe_load builds.
 */
export function pyyamlProblems(doc: Document, maxNodes = MAX_EXPANDED_NODES): YamlProblem[] {
  const problems: YamlProblem[] = []
  const targets = aliasTargets(doc)
  let aliasesOk = true
  visit(doc, {
    Node(_key, node) {
      const tag = (node as {tag?: string}).tag
      if (tag !== undefined && SAFE_TAGS.has(tag) && !isAlias(node)) {
        const wrong = constructionProblem(tag.slice('tag:yaml.org,2002:'.length), node)
        if (wrong !== null) {
          problems.push({
            offset: start(node),
            message: `!!${tag.slice('tag:yaml.org,2002:'.length)} ${wrong}: PyYAML's safe_load (BentoML's reader) cannot construct it`,
            hint: 'write a value of that type, or drop the tag',
          })
        }
      }
      if (tag !== undefined && !SAFE_TAGS.has(tag) && !isAlias(node)) {
        const written = tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag
        problems.push({
          offset: start(node),
          message: `the tag '${shown(written)}' cannot be read: BentoML reads YAML with PyYAML's safe_load, which only knows the standard tags`,
          hint: 'remove the tag (write the plain value)',
        })
      }
      if (isAlias(node) && targets.get(node) === undefined) {
        aliasesOk = false
        problems.push({
          offset: start(node),
          message: `the alias '*${shown(node.source)}' has no anchor '&${shown(node.source)}' before it`,
          hint: 'define the anchor (&name) before its first use (*name), or write the value out',
        })
      }
    },
    Pair(_key, pair) {
      if (!isScalar(pair.key) || pair.key.source !== '<<' || (pair.key as {type?: string}).type === 'QUOTE_DOUBLE' || (pair.key as {type?: string}).type === 'QUOTE_SINGLE') return
      const value = pair.value as Node | null
      const sources = isSeq(value) ? value.items : [value]
      const ok = sources.every((s) => {
        const target = isAlias(s) ? targets.get(s) : s
        return isMap(target) || (isAlias(s) && target === undefined) // an unresolved alias is reported above
      })
      if (!ok) {
        problems.push({
          offset: start(pair.key),
          message: "the merge key '<<' needs a mapping (or a list of mappings) to merge",
          hint: 'merge an anchored mapping (<<: *defaults), or remove the << line',
        })
      }
    },
  })
  if (aliasesOk) {
    const expansion = expansionProblem(doc, targets, maxNodes)
    if (expansion) problems.push(expansion)
  }
  return problems.sort((a, b) => a.offset - b.offset)
}

const PY_INT = /^[-+]?(?:0|0b[01]+|0x[0-9a-f]+|0o?[0-7]+|[1-9][0-9]*(?::[0-9]+)*|[0-9]+(?::[0-9]+)+)$/i
const PY_FLOAT = /^[-+]?(?:\.inf|\.nan|[-+]?\s*(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?|inf|infinity|nan)\s*|[0-9]+(?::[0-9]+)*(?::[0-9]*\.?[0-9]*)?)$/i
const PY_BOOL = /^(?:yes|no|true|false|on|off)$/i
const PY_TIMESTAMP =
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/

/** Why PyYAML's constructor for the standard `tag` fails on `node`, or null when it succeeds. */
function constructionProblem(tag: string, node: Node): string | null {
  const scalarTags = ['int', 'float', 'bool', 'null', 'str', 'timestamp', 'binary']
  if (scalarTags.includes(tag)) {
    if (!isScalar(node)) return 'on a collection'
    const text = String(node.source ?? node.value ?? '')
    const plain = text.replace(/_/g, '')
    switch (tag) {
      case 'int':
        return PY_INT.test(plain) ? null : `of ${JSON.stringify(shown(text))}`
      case 'float':
        return PY_FLOAT.test(plain) ? null : `of ${JSON.stringify(shown(text))}`
      case 'bool':
        return PY_BOOL.test(text) ? null : `of ${JSON.stringify(shown(text))}`
      case 'timestamp': {
        const m = PY_TIMESTAMP.exec(text)
        if (m === null) return `of ${JSON.stringify(shown(text))}`
        const [y, mo, d] = text.split(/[-T t]/).map(Number)
        const day = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1))
        return day.getUTCMonth() === (mo ?? 1) - 1 && day.getUTCDate() === d ? null : `of ${JSON.stringify(shown(text))} (no such date)`
      }
      case 'binary': {
        // base64.decodebytes: ASCII only, and the base64 characters must come in whole groups of four.
        if (/[^\x00-\x7f]/.test(text)) return 'of non-ASCII text'
        const chars = text.replace(/[^A-Za-z0-9+/=]/g, '').replace(/=+$/, '')
        return chars.length % 4 === 1 || (chars.length % 4 !== 0 && !/=$/.test(text.trim())) ? 'of malformed base64' : null
      }
      default:
        return null // str, null: anything scalar
    }
  }
  if (tag === 'seq') return isSeq(node) ? null : 'on something that is not a sequence'
  if (tag === 'map' || tag === 'set') return isMap(node) ? null : 'on something that is not a mapping'
  if (tag === 'omap' || tag === 'pairs') {
    // The `yaml` package already turns a valid one into pairs (YAMLOMap): items are pairs or one-key mappings.
    const items = (node as {items?: unknown}).items
    const ok = Array.isArray(items) && !isMap(node) && items.every((item) => isPair(item) || (isMap(item) && item.items.length === 1))
    return ok ? null : 'on something that is not a list of one-key mappings'
  }
  return null
}

/** PyYAML's reader: these characters are refused anywhere in a document (`Reader.NON_PRINTABLE`). */
const NON_PRINTABLE = /[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

/**
 * What PyYAML's reader and scanner refuse in the text, before any parsing: a character it does not accept, or a
 * tab where it would start a token (PyYAML allows tabs only inside quoted scalars, comments and block scalar
 * content; an unquoted `a: x\ty`, `a:\tx`, `[1,\t2]` or a tab in indentation all fail there).
 */
export function pyyamlTextProblems(text: string): YamlProblem[] {
  const problems: YamlProblem[] = []
  const bad = NON_PRINTABLE.exec(text)
  if (bad !== null) {
    const code = bad[0].codePointAt(0) ?? 0
    problems.push({
      offset: bad.index,
      message: `the character U+${code.toString(16).toUpperCase().padStart(4, '0')} is not allowed in YAML for BentoML (PyYAML refuses control characters)`,
      hint: 'remove it, or write it as an escape inside a double-quoted string ("\\x07")',
    })
  }
  if (text.includes('\t')) {
    let offset = 0
    let afterBlockHeader = false
    for (const token of new Lexer().lex(text)) {
      const type = CST.tokenType(token)
      const inSource = type !== 'doc-mode' && type !== 'scalar' && type !== 'flow-error-end'
      const tab = token.indexOf('\t')
      if (inSource && tab >= 0) {
        let refused = type !== 'double-quoted-scalar' && type !== 'single-quoted-scalar' && type !== 'comment'
        if (refused && afterBlockHeader) {
          // Block scalar content: a tab is fine after a line's indentation, not in it.
          refused = token.split('\n').some((line) => /^ *\t/.test(line))
        }
        if (refused) {
          problems.push({
            offset: offset + tab,
            message: 'a tab where PyYAML (BentoML\'s reader) does not allow one (only spaces may indent or separate YAML tokens)',
            hint: 'replace the tab with spaces, or quote the value',
          })
          break
        }
      }
      if (type === 'block-scalar-header') afterBlockHeader = true
      else if (type !== 'newline' && type !== 'scalar' && type !== 'space' && type !== 'comment') afterBlockHeader = false
      if (inSource) offset += token.length
    }
  }
  return problems
}

/**
 * `doc.toJS({maxAliasCount: -1})`, for a document `pyyamlProblems` found nothing in (every alias resolves, none is
 * recursive, the expansion is bounded). yaml's `toJS` looks each alias up in a list of every alias and anchor before
 * it (16,000 aliases: 2.4 s; 32,000: 12.5 s); here a copy of the document has its aliases replaced by the nodes they
 * name first, found in one walk, so the conversion is linear in the expanded size. The same values: a merge key
 * (`<<`) merges the mapping itself as it merged the alias's.
 */
export function toJSExpanded(doc: Document): unknown {
  if (!hasAlias(doc)) return doc.toJS({maxAliasCount: -1})
  const copy = doc.clone()
  const targets = aliasTargets(copy)
  visit(copy, {
    Alias(_key, node) {
      // Replaced, then visited: the aliases inside the named node are replaced too.
      return targets.get(node)
    },
  })
  return copy.toJS({maxAliasCount: -1})
}

function hasAlias(doc: Document): boolean {
  let found = false
  visit(doc, {
    Alias() {
      found = true
      return visit.BREAK
    },
  })
  return found
}

/**
 * Each alias of `doc` and the node it names: the last node with that anchor before it, in document order (what
 * yaml's `Alias.resolve` finds, and PyYAML), or undefined. One walk of the document: `Alias.resolve` walks the whole
 * document for every alias, and a 64 KB file of 16,000 aliases took 43 s to check that way.
 */
function aliasTargets(doc: Document): Map<Alias, Node | undefined> {
  const last = new Map<string, Node>()
  const targets = new Map<Alias, Node | undefined>()
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) targets.set(node, last.get(node.source))
      else if (node.anchor !== undefined) last.set(node.anchor, node)
    },
  })
  return targets
}

/** Node count with aliases expanded (memoized per node); a recursive alias or too many nodes is a problem. */
function expansionProblem(doc: Document, targets: ReadonlyMap<Alias, Node | undefined>, maxNodes: number): YamlProblem | undefined {
  const sizes = new Map<unknown, number>()
  const active = new Set<unknown>()
  let problem: YamlProblem | undefined
  let biggestAlias: {node: Node; size: number} | undefined
  const size = (node: unknown): number => {
    if (problem) return 0
    if (node === null || node === undefined) return 1
    const known = sizes.get(node)
    if (known !== undefined) return known
    if (isAlias(node)) {
      const target = targets.get(node)
      if (active.has(target)) {
        problem = {
          offset: start(node),
          message: `the alias '*${shown(node.source)}' is inside its own anchor: a recursive structure BentoML cannot use`,
          hint: 'write the value out instead of referring to the node that contains it',
        }
        return 0
      }
      const n = size(target)
      if (!biggestAlias || n > biggestAlias.size) biggestAlias = {node, size: n}
      return n
    }
    let total = 1
    if (isCollection(node)) {
      active.add(node)
      for (const item of node.items) {
        total += isPair(item) ? size(item.key) + size(item.value) : size(item)
        if (total > maxNodes) break
      }
      active.delete(node)
    }
    sizes.set(node, total)
    return total
  }
  const total = size(doc.contents)
  if (problem) return problem
  if (total > maxNodes) {
    const at = biggestAlias?.node
    return {
      offset: start(at),
      message: `aliases expand this document to more than ${maxNodes.toLocaleString('en-US')} values${at && isAlias(at) ? ` ('*${shown(at.source)}' alone to ${biggestAlias?.size.toLocaleString('en-US')})` : ''}: refused as an alias bomb`,
      hint: 'write the values out, or use fewer nested aliases',
    }
  }
  return undefined
}
