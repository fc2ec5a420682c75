/**
 * What PyYAML's `safe_load` (BentoML's reader for bentofile.yaml, bento.yaml and model.yaml) refuses, checked on a
 * document parsed by the `yaml` package before anything is converted: tags it has no constructor for
 * (`!!python/object/apply:…`, local `!tags`), aliases used before (or without) their anchor, merge keys (`<<`) of
 * something that is not a mapping, and recursive aliases. Plus one limit of our own: an alias "bomb" that expands
 * to more nodes than any real file has. Each problem has the offset of the node, for file:line:col messages.
 *
 * A leaf: it imports only the `yaml` package.
 */
import {type Document, isAlias, isCollection, isMap, isPair, isScalar, isSeq, type Node, visit} from 'yaml'

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
  let aliasesOk = true
  visit(doc, {
    Node(_key, node) {
      const tag = (node as {tag?: string}).tag
      if (tag !== undefined && !SAFE_TAGS.has(tag) && !isAlias(node)) {
        const written = tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag
        problems.push({
          offset: start(node),
          message: `the tag '${shown(written)}' cannot be read: BentoML reads YAML with PyYAML's safe_load, which only knows the standard tags`,
          hint: 'remove the tag (write the plain value)',
        })
      }
      if (isAlias(node) && node.resolve(doc) === undefined) {
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
        const target = isAlias(s) ? s.resolve(doc) : s
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
    const expansion = expansionProblem(doc, maxNodes)
    if (expansion) problems.push(expansion)
  }
  return problems.sort((a, b) => a.offset - b.offset)
}

/** Node count with aliases expanded (memoized per node); a recursive alias or too many nodes is a problem. */
function expansionProblem(doc: Document, maxNodes: number): YamlProblem | undefined {
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
      const target = node.resolve(doc)
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
