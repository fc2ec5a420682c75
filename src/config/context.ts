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

/** `docker.python_version`, `include[2]`, `envs[0].name`. */
export function formatPath(path: Path): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else out += out === '' ? segment : `.${segment}`
  }
  return out
}

/** Collects every diagnostic with its position; validation never stops at the first problem. */
export class Reporter {
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
