/**
 * One error hierarchy for the whole tool. Every error a user can see has a stable `code`
 * (documented in the README), an exit code, a message and optional next steps (`hint`).
 *
 * - `UserError` (and its subclasses): the user can fix it; printed without a stack trace.
 * - `BugError`: unexpected; printed with its stack so it can be reported.
 */

export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  config: 3,
  notFound: 4,
  store: 5,
  archive: 6,
  dockerUnavailable: 7,
  dockerBuild: 8,
  dockerPush: 9,
  interrupted: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** A problem located in a file: `file:line:col key.path: message`. */
export interface Diagnostic {
  file: string
  line?: number
  col?: number
  /** Dotted key path, e.g. `docker.python_version` or `include[2]`. */
  key?: string
  message: string
  hint?: string
  severity: 'error' | 'warning'
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col ?? 1}`
  const key = d.key ? ` ${d.key}:` : ''
  const hint = d.hint ? `\n    hint: ${d.hint}` : ''
  return `${where}${key} ${d.message}${hint}`
}

export interface BentoErrorOptions {
  hint?: string
  cause?: unknown
  /** Extra machine-readable data for the `--json` error object. */
  data?: Record<string, unknown>
}

export abstract class BentoError extends Error {
  abstract readonly code: string
  abstract readonly exitCode: ExitCodeValue
  readonly hint?: string
  readonly data?: Record<string, unknown>

  constructor(message: string, options: BentoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.hint = options.hint
    this.data = options.data
  }

  toJSON(): Record<string, unknown> {
    return {
      error: {code: this.code, exitCode: this.exitCode, message: this.message, hint: this.hint, ...this.data},
    }
  }
}

/** Something the user can fix. */
export abstract class UserError extends BentoError {}

export class UsageError extends UserError {
  readonly code = 'E_USAGE'
  readonly exitCode = ExitCode.usage
}

/** The build configuration (bentofile.yaml / pyproject.toml) is invalid. Carries every problem at once. */
export class ConfigError extends UserError {
  readonly code = 'E_CONFIG'
  readonly exitCode = ExitCode.config
  readonly diagnostics: Diagnostic[]

  constructor(message: string, diagnostics: Diagnostic[] = [], options: BentoErrorOptions = {}) {
    const errors = diagnostics.filter((d) => d.severity === 'error')
    const body = errors.length > 0 ? `${message}\n${errors.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}` : message
    super(body, {...options, data: {...options.data, diagnostics}})
    this.diagnostics = diagnostics
  }
}

/** A tag (Bento or model) or a file the user named does not exist. */
export class NotFoundError extends UserError {
  readonly code: string
  readonly exitCode = ExitCode.notFound
  constructor(message: string, options: BentoErrorOptions & {code?: string} = {}) {
    super(message, options)
    this.code = options.code ?? 'E_NOT_FOUND'
  }
}

/** A model file in the store is unreadable or corrupt. */
export class StoreError extends UserError {
  readonly code: string
  readonly exitCode = ExitCode.store
  constructor(message: string, options: BentoErrorOptions & {code?: string} = {}) {
    super(message, options)
    this.code = options.code ?? 'E_STORE'
  }
}

/** Whether a file-system error means the disk (or its quota or inodes) is full. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

/** The one `E_DISK_FULL` error (exit 5), whichever step ran out of space. */
export function diskFullError(message: string, cause: unknown, data?: Record<string, unknown>): StoreError {
  return new StoreError(message, {
    code: 'E_DISK_FULL',
    hint: 'free some disk space (or point BENTOML_HOME at a bigger disk) and run the command again',
    cause,
    data,
  })
}

/** An archive could not be written or was rejected on import. */
export class ArchiveError extends UserError {
  readonly code: string
  readonly exitCode = ExitCode.archive
  constructor(message: string, options: BentoErrorOptions & {code?: string} = {}) {
    super(message, options)
    this.code = options.code ?? 'E_ARCHIVE'
  }
}

export class DockerUnavailableError extends UserError {
  readonly code = 'E_DOCKER_UNAVAILABLE'
  readonly exitCode = ExitCode.dockerUnavailable
}

/** A Dockerfile step failed. `data.step` and `data.log` say which and why. */
export class DockerBuildError extends UserError {
  readonly code: string
  readonly exitCode = ExitCode.dockerBuild
  constructor(message: string, options: BentoErrorOptions & {code?: string} = {}) {
    super(message, options)
    this.code = options.code ?? 'E_DOCKER_BUILD'
  }
}

export class DockerPushError extends UserError {
  readonly code = 'E_DOCKER_PUSH'
  readonly exitCode = ExitCode.dockerPush
}

export class InterruptedError extends UserError {
  readonly code = 'E_INTERRUPTED'
  readonly exitCode = ExitCode.interrupted
}

/** Unexpected: a bug in bento. */
export class BugError extends BentoError {
  readonly code = 'E_BUG'
  readonly exitCode = ExitCode.bug
}

export function isBentoError(e: unknown): e is BentoError {
  return e instanceof BentoError
}
