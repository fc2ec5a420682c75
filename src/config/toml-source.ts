/**
 * pyproject.toml reading (`BentoBuildConfig.from_pyproject`). smol-toml gives no key positions, so a key's
 * line is found by a best-effort scan of the text: its `[table]` header, then a `key =` line in that table.
 */
import {parse, TomlError} from 'smol-toml'
import type {Diagnostic} from '../errors.js'
import {isMapping, type Path, type Position, type SourceMap} from './context.js'

export const BUILD_TABLE = ['tool', 'bentoml', 'build'] as const

export interface ParsedToml {
  /** The whole document, or undefined on a syntax error. */
  document?: Record<string, unknown>
  diagnostics: Diagnostic[]
}

export function parseToml(text: string, file: string): ParsedToml {
  try {
    return {document: parse(text) as Record<string, unknown>, diagnostics: []}
  } catch (e) {
    if (e instanceof TomlError) {
      const firstLine = e.message.split('\n')[0] ?? e.message
      return {
        diagnostics: [
          {file, line: e.line, col: e.column, message: `TOML syntax error: ${firstLine}`, hint: 'fix the TOML syntax at this position', severity: 'error'},
        ],
      }
    }
    throw e
  }
}

/** The `[tool.bentoml.build]` table, if present. */
export function buildTable(document: Record<string, unknown>): Record<string, unknown> | undefined {
  let current: unknown = document
  for (const key of BUILD_TABLE) {
    if (!isMapping(current)) return undefined
    current = current[key]
  }
  return isMapping(current) ? current : undefined
}

interface Line {
  text: string
  /** The table this line belongs to (dotted, from the last `[header]`). */
  table: string
  isHeader: boolean
}

function scanLines(text: string): Line[] {
  let table = ''
  return text.split(/\r\n|\r|\n/).map((raw) => {
    const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/.exec(raw)
    if (header?.[1] !== undefined) {
      table = normalizeKey(header[1])
      return {text: raw, table, isHeader: true}
    }
    return {text: raw, table, isHeader: false}
  })
}

/** `tool . "bentoml".build` → `tool.bentoml.build`. */
function normalizeKey(key: string): string {
  return key
    .split('.')
    .map((part) => part.trim().replace(/^["']|["']$/g, ''))
    .join('.')
}

/**
 * Positions inside `[tool.bentoml.build]`. `path` is relative to that table; `projectName` marks that
 * `name` came from `[project].name`.
 */
export function tomlSourceMap(text: string, options: {nameFromProject?: boolean; toolPackages?: number} = {}): SourceMap {
  const lines = scanLines(text)
  const base = BUILD_TABLE.join('.')

  const find = (table: string, keyPath: string[]): Position | undefined => {
    const dotted = keyPath.join('.')
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]
      if (!line || line.isHeader || line.table !== table) continue
      const m = /^\s*([^=#]+?)\s*=/.exec(line.text)
      if (m?.[1] === undefined) continue
      const key = normalizeKey(m[1])
      if (key === dotted || (keyPath.length > 0 && key === keyPath[0])) {
        return {line: i + 1, col: line.text.length - line.text.trimStart().length + 1}
      }
    }
    return undefined
  }
  const header = (table: string): Position | undefined => {
    const i = lines.findIndex((l) => l.isHeader && l.table === table)
    return i === -1 ? undefined : {line: i + 1, col: 1}
  }

  /** `[project].dependencies` are appended to python.packages after the tool's own `toolPackages` entries. */
  const dependency = (i: number): Position | undefined => {
    const start = find('project', ['dependencies'])
    if (start === undefined) return undefined
    let seen = 0
    for (let n = start.line - 1; n < lines.length; n++) {
      const body = (lines[n]?.text ?? '').slice(n === start.line - 1 ? (lines[n]?.text.indexOf('=') ?? 0) + 1 : 0)
      for (const m of body.matchAll(/"(?:[^"\\]|\\.)*"|'[^']*'|#.*$|\]/g)) {
        if (m[0] === ']') return start
        if (m[0].startsWith('#')) break
        if (seen++ === i) return {line: n + 1, col: (m.index ?? 0) + 1 + (n === start.line - 1 ? (lines[n]?.text.indexOf('=') ?? 0) + 1 : 0)}
      }
    }
    return start
  }

  const locate = (path: Path): Position | undefined => {
    const keys = path.filter((s): s is string => typeof s === 'string')
    if (options.nameFromProject && keys.length === 1 && keys[0] === 'name') return find('project', ['name'])
    const index = path[2]
    if (options.toolPackages !== undefined && path.length === 3 && path[0] === 'python' && path[1] === 'packages' && typeof index === 'number' && index >= options.toolPackages) {
      return dependency(index - options.toolPackages)
    }
    // Try `[tool.bentoml.build.a.b]` + `c = …`, then `[tool.bentoml.build.a]` + `b.c = …`, … then headers.
    for (let split = keys.length - 1; split >= 0; split--) {
      const table = [base, ...keys.slice(0, split)].join('.')
      const pos = find(table, keys.slice(split))
      if (pos) return pos
    }
    for (let split = keys.length; split >= 0; split--) {
      const pos = header([base, ...keys.slice(0, split)].join('.'))
      if (pos) return pos
    }
    return undefined
  }

  return {
    locate: (path) => locate(path),
    sourceText: () => undefined,
  }
}

/** The position of `key = …` directly in `[table]` (dotted, e.g. `project`), by the same line scan. */
export function tomlKeyPosition(text: string, table: string, key: string): Position | undefined {
  const lines = scanLines(text)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (!line || line.isHeader || line.table !== table) continue
    const m = /^\s*([^=#]+?)\s*=/.exec(line.text)
    if (m?.[1] !== undefined && normalizeKey(m[1]) === key) return {line: i + 1, col: line.text.length - line.text.trimStart().length + 1}
  }
  return undefined
}
