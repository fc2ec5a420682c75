import type {Diagnostic} from '../errors.js'
import type {ParseOptions} from './types.js'

export type PathSegment = string | number
export type Path = readonly PathSegment[]

export interface Position {
  line: number
  col: number
}

/** Where the parsed values came from: positions and raw scalar text, by key path. */
export interface SourceMap {
  /** `key`: the position of the key itself; `value`: of its value (falls back to the nearest known node). */
  locate(path: Path, part: 'key' | 'value'): Position | undefined
  /** The scalar exactly as written (`3.10` for the float 3.1), when known. */
  sourceText(path: Path): string | undefined
}

/** How many characters of a value messages echo back (a binary bentofile must not be printed in full). */
export const MAX_SHOWN = 60

/** `text` cut to `max` characters (code points), ending in `…` when cut. */
export function clip(text: string, max = MAX_SHOWN): string {
  const chars = [...text]
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
}

/** A string value as a JSON literal whose content is at most `max` characters (escapes count), `…` when cut. */
export function quoteClipped(value: string, max = MAX_SHOWN): string {
  const pieces = [...value].map((ch) => JSON.stringify(ch).slice(1, -1))
  if (pieces.reduce((n, p) => n + p.length, 0) <= max) return `"${pieces.join('')}"`
  let out = ''
  for (const piece of pieces) {
    if (out.length + piece.length > max - 1) break
    out += piece
  }
  return `"${out}…"`
}

/** `docker.python_version`, `include[2]`, `envs[0].name`. A long key is cut (see `clip`). */
export function formatPath(path: Path): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else out += out === '' ? clip(segment) : `.${clip(segment)}`
  }
  return out
}

/** Collects every diagnostic with its position; validation never stops at the first problem. */
export class DiagnosticCollector {
  readonly diagnostics: Diagnostic[] = []

  constructor(
    readonly file: string,
    readonly sourceMap: SourceMap,
    readonly options: ParseOptions = {},
  ) {}

  error(path: Path, message: string, hint?: string, part: 'key' | 'value' = 'value'): void {
    this.push('error', path, message, hint, part)
  }

  warn(path: Path, message: string, hint?: string, part: 'key' | 'value' = 'value'): void {
    this.push('warning', path, message, hint, part)
  }

  source(path: Path): string | undefined {
    return this.sourceMap.sourceText(path)
  }

  get hasErrors(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error')
  }

  private push(severity: Diagnostic['severity'], path: Path, message: string, hint: string | undefined, part: 'key' | 'value'): void {
    const pos = this.sourceMap.locate(path, part)
    const d: Diagnostic = {file: this.file, message, severity}
    if (pos) {
      d.line = pos.line
      d.col = pos.col
    }
    if (path.length > 0) d.key = formatPath(path)
    if (hint !== undefined) d.hint = hint
    this.diagnostics.push(d)
  }
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

export function isScalar(value: unknown): boolean {
  return value === null || value === undefined || (typeof value !== 'object' && typeof value !== 'function') || value instanceof Date
}
