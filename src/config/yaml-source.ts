/**
 * YAML reading with positions. PyYAML `safe_load` follows YAML 1.1 (`yes` is a bool, `3.10` a float,
 * `1:20` an int, duplicate keys: the last wins), so the document is parsed with the 1.1 schema.
 */
import {isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type ScalarTag, type Tags} from 'yaml'
import type {Diagnostic} from '../errors.js'
import {pyyamlProblems, pyyamlTextProblems, toJSExpanded} from '../yaml-safety.js'
import {clip, MAX_SHOWN, type Path, type Position, quoteClipped, type SourceMap} from './context.js'

export interface ParsedSource {
  value: unknown
  sourceMap: SourceMap
  diagnostics: Diagnostic[]
  /** True when the document has no content (empty, or only comments). */
  empty: boolean
}

interface Found {
  key?: Node
  value?: Node | null
}

/**
 * The `yaml` package's 1.1 schema is broader than PyYAML's resolvers: it reads `y`/`n` as booleans,
 * `1e5` as a float and `09` as an int, where PyYAML keeps those strings. Narrow the tests to PyYAML's.
 */
const PYYAML_TESTS: ReadonlyArray<[string, RegExp, RegExp]> = [
  ['tag:yaml.org,2002:bool', /^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/, /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/],
  ['tag:yaml.org,2002:bool', /^(?:N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/, /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/],
  ['tag:yaml.org,2002:float', /^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/, /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)[eE][-+][0-9]+$/],
  ['tag:yaml.org,2002:float', /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*$/, /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/],
  ['tag:yaml.org,2002:int', /^[-+]?[0-9][0-9_]*$/, /^[-+]?(?:0|[1-9][0-9_]*)$/],
]

function pyyamlTags(tags: Tags): Tags {
  return tags.map((t) => {
    if (typeof t !== 'object' || !('test' in t) || !(t.test instanceof RegExp)) return t
    const test = t.test
    const replacement = PYYAML_TESTS.find(([tag, from]) => tag === t.tag && from.source === test.source)
    return replacement ? ({...t, test: replacement[2]} as ScalarTag) : t
  })
}

export function parseYamlSource(text: string, file: string): ParsedSource {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {version: '1.1', customTags: pyyamlTags, uniqueKeys: false, prettyErrors: false, lineCounter})
  const pos = (offset: number): Position => {
    const p = lineCounter.linePos(offset)
    return {line: p.line, col: p.col}
  }
  const diagnostics: Diagnostic[] = []
  const lines = text.split(/\r\n|\r|\n/)
  for (const e of doc.errors) {
    const p = pos(e.pos[0])
    const lineText = lines[p.line - 1] ?? ''
    diagnostics.push({
      file,
      line: p.line,
      col: p.col,
      message: `YAML syntax error: ${capEcho(e.message)}`,
      hint: /^(<{7}|={7}|>{7})/.test(lineText) ? 'the file contains git merge conflict markers; resolve the conflict' : syntaxHint(e.code),
      severity: 'error',
    })
  }
  for (const w of doc.warnings) {
    if (w.code === 'TAG_RESOLVE_FAILED') continue // an error below (pyyamlProblems)
    const p = pos(w.pos[0])
    diagnostics.push({file, line: p.line, col: p.col, message: `YAML: ${capEcho(w.message)}`, severity: 'warning'})
  }

  const sourceMap = yamlSourceMap(doc, pos)
  if (diagnostics.some((d) => d.severity === 'error')) return {value: undefined, sourceMap, diagnostics, empty: false}
  // What PyYAML (BentoML's reader) refuses: control characters, tabs between tokens, unknown tags, aliases before
  // their anchor, bad merge keys, values an explicit tag cannot construct, bombs.
  for (const problem of [...pyyamlTextProblems(text), ...pyyamlProblems(doc)]) {
    const p = pos(problem.offset)
    diagnostics.push({file, line: p.line, col: p.col, message: problem.message, hint: problem.hint, severity: 'error'})
  }
  if (diagnostics.some((d) => d.severity === 'error')) return {value: undefined, sourceMap, diagnostics, empty: false}
  diagnostics.push(...duplicateKeys(doc, file, pos))
  const empty = doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && doc.contents.source === '')
  let value: unknown
  try {
    // Bounded by pyyamlProblems (no bombs, no recursion): the `yaml` package's own alias heuristic is not needed.
    value = toJSExpanded(doc)
  } catch (error) {
    diagnostics.push({file, line: 1, col: 1, message: `YAML: ${capEcho((error as Error).message)}`, severity: 'error'})
    return {value: undefined, sourceMap, diagnostics, empty: false}
  }
  return {value, sourceMap, diagnostics, empty}
}

/**
 * The `yaml` package ends some messages with the offending source (`…: "<token>"`, `Unresolved tag: !<tag>`);
 * a binary file would be echoed whole. Cap that part like `describe()` does.
 */
function capEcho(message: string): string {
  const literal = /^(.*?: )(".*")$/s.exec(message)
  if (literal?.[1] !== undefined && literal[2] !== undefined) {
    try {
      const value: unknown = JSON.parse(literal[2])
      if (typeof value === 'string') return literal[1] + quoteClipped(value)
    } catch {
      // not a JSON string literal: fall through
    }
  }
  const labelled = /^([^:\n]{1,80}: )(.*)$/s.exec(message)
  if (labelled?.[1] !== undefined && labelled[2] !== undefined) return labelled[1] + clip(labelled[2])
  return clip(message, 2 * MAX_SHOWN)
}

function syntaxHint(code: string): string {
  switch (code) {
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return 'check the indentation and the characters at this position; values starting with { [ * & ! | > ` @ must be quoted'
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs'
    case 'MULTIPLE_DOCS':
      return 'a bentofile holds one YAML document; remove the extra "---"'
    default:
      return 'fix the YAML syntax at this position (quote values with special characters)'
  }
}

function duplicateKeys(doc: Document, file: string, pos: (offset: number) => Position): Diagnostic[] {
  const out: Diagnostic[] = []
  const visit = (node: unknown, path: string): void => {
    if (isMap(node)) {
      const seen = new Set<string>()
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
        const keyPath = path === '' ? key : `${path}.${key}`
        if (seen.has(key) && key !== '<<') {
          const range = (pair.key as Node | null)?.range
          const p = range ? pos(range[0]) : undefined
          out.push({
            file,
            ...(p ? {line: p.line, col: p.col} : {}),
            key: keyPath,
            message: `duplicate key '${clip(key)}'; the last value wins`,
            hint: 'remove one of the two',
            severity: 'warning',
          })
        }
        seen.add(key)
        visit(pair.value, keyPath)
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, `${path}[${i}]`))
    }
  }
  visit(doc.contents, '')
  return out
}

function yamlSourceMap(doc: Document, pos: (offset: number) => Position): SourceMap {
  const resolve = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node)

  /** Walks the path; returns the deepest node reached and whether the whole path was found. */
  const walk = (path: Path): {found?: Found; deepest?: Node} => {
    let current: unknown = doc.contents
    let deepest: Node | undefined = (doc.contents as Node | null) ?? undefined
    let found: Found | undefined = {value: deepest ?? null}
    for (const segment of path) {
      current = resolve(current)
      found = undefined
      if (typeof segment === 'number' && isSeq(current)) {
        const item = current.items[segment]
        if (item === undefined) break
        found = {value: item as Node | null}
      } else if (isMap(current)) {
        const pair = [...current.items].reverse().find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment))
        if (!pair) break
        found = {key: pair.key as Node, value: pair.value as Node | null}
      } else break
      current = found.value
      const node = (found.value && (found.value as Node).range ? found.value : found.key) as Node | undefined
      if (node) deepest = node
    }
    return {found, deepest}
  }

  const rangeStart = (node: Node | null | undefined): number | undefined => {
    const range = node?.range
    return range ? range[0] : undefined
  }

  return {
    locate(path, part) {
      const {found, deepest} = walk(path)
      let offset: number | undefined
      if (found) {
        offset = part === 'key' ? (rangeStart(found.key) ?? rangeStart(found.value)) : (rangeStart(resolveNode(found.value)) ?? rangeStart(found.key))
        // An empty value (`key:`) has a zero-length range at the end of the line: point at the key instead.
        const v = resolveNode(found.value)
        if (part === 'value' && isScalar(v) && v.value === null && v.source === '' && found.key) offset = rangeStart(found.key)
      }
      offset ??= rangeStart(deepest)
      return offset === undefined ? undefined : pos(offset)
    },
    sourceText(path) {
      const {found} = walk(path)
      const v = found ? resolveNode(found.value) : undefined
      return isScalar(v) && typeof v.source === 'string' ? v.source : undefined
    },
  }

  function resolveNode(node: Node | null | undefined): Node | null | undefined {
    return isAlias(node) ? (node.resolve(doc) as Node | undefined) : node
  }
}
