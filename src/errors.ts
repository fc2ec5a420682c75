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
  lockDrift: 10,
  smoke: 11,
  interrupted: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** What each exit code means (the README's exit-code table; a unit test keeps the two equal). */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCodeValue, string>> = {
  0: 'success',
  1: 'unexpected error (a bug: the stack is printed)',
  2: 'bad command line or tag (a malformed tag or `--version`, a version prefix matching several versions)',
  3: 'invalid bentofile / pyproject.toml / service (all problems listed), or requirements that cannot be locked',
  4: 'a Bento, model, image, build context directory, archive or file does not exist, or a Hugging Face model cannot be resolved',
  5: 'the store cannot be read or written (nothing is left half-written)',
  6: 'an archive (or the Docker build context, or a `containerize --output`) cannot be written, or was rejected on import',
  7: 'no Docker daemon answers',
  8: 'the image build failed',
  9: 'the push failed',
  10: 'the project\'s bento-lock.json is out of date (`bento lock --check`): the requirements changed since `bento lock` wrote it',
  11: 'the image failed its smoke test (`bento smoke`)',
  130: 'interrupted (Ctrl-C); nothing half-written is left',
}

/**
 * THE error contract: every error code a user can see, its exit code and what it means. Error classes take
 * their exit code from here (`BentoError.exitCode`), never choose one of their own; the README's tables are
 * checked against this registry by a unit test.
 */
export const ERROR_CODES = {
  E_BUG: {exitCode: ExitCode.bug, meaning: 'a bug in bento'},
  E_USAGE: {exitCode: ExitCode.usage, meaning: 'unknown or missing flag or argument'},
  E_INVALID_TAG: {exitCode: ExitCode.usage, meaning: 'a malformed tag or --version'},
  E_AMBIGUOUS_TAG: {exitCode: ExitCode.usage, meaning: 'a version prefix that matches several versions'},
  E_CONFIG: {exitCode: ExitCode.config, meaning: 'the build config or the service is invalid (every problem listed with file:line)'},
  E_LOCK: {exitCode: ExitCode.config, meaning: 'the requirements cannot be locked (a package or version the index does not have, a conflict, an index that cannot be reached or refuses the credentials); the requirement and the index are named, credentials masked, nothing is stored'},
  E_NOT_FOUND: {exitCode: ExitCode.notFound, meaning: 'a file or item that does not exist'},
  E_UV_NOT_FOUND: {exitCode: ExitCode.notFound, meaning: 'the lock needs uv and none is found (BENTO_UV, else uv on PATH)'},
  E_BENTO_NOT_FOUND: {exitCode: ExitCode.notFound, meaning: 'no Bento with this tag in the store'},
  E_MODEL_NOT_FOUND: {exitCode: ExitCode.notFound, meaning: 'no model with this tag in the model store'},
  E_IMAGE_NOT_FOUND: {exitCode: ExitCode.notFound, meaning: 'no such image in the Docker engine'},
  E_BUILD_CONTEXT: {exitCode: ExitCode.notFound, meaning: 'the build context directory (or a file or directory in it) cannot be read, or vanished during the build'},
  E_ARCHIVE_NOT_FOUND: {exitCode: ExitCode.notFound, meaning: 'the archive to import does not exist'},
  E_HF_HUB: {exitCode: ExitCode.notFound, meaning: 'a Hugging Face model cannot be resolved on the hub (not there, gated, or no network) or, with HF_HUB_OFFLINE=1, in the local Hugging Face cache'},
  E_STORE: {exitCode: ExitCode.store, meaning: 'the store cannot be read or written'},
  E_STORE_NOT_WRITABLE: {exitCode: ExitCode.store, meaning: 'BENTOML_HOME is not writable'},
  E_STORE_NOT_A_DIRECTORY: {exitCode: ExitCode.store, meaning: 'BENTOML_HOME or one of its directories is a file'},
  E_STORE_NOT_READABLE: {exitCode: ExitCode.store, meaning: 'a directory or file of the store cannot be read (permissions)'},
  E_MODEL_CORRUPT: {exitCode: ExitCode.store, meaning: "a stored model's model.yaml cannot be read"},
  E_BENTO_CORRUPT: {exitCode: ExitCode.store, meaning: "a stored Bento's bento.yaml cannot be read"},
  E_DISK_FULL: {exitCode: ExitCode.store, meaning: 'no space (or no inode) left on the device'},
  E_ALREADY_EXISTS: {exitCode: ExitCode.store, meaning: 'the store already holds this tag (build --version, import)'},
  E_STORE_LOCKED: {exitCode: ExitCode.store, meaning: 'another process holds the lock for this name too long (or, for a delete, still reads that Bento)'},
  E_ARCHIVE: {exitCode: ExitCode.archive, meaning: 'the archive (or a `containerize --output` image layout or docker-archive) cannot be written'},
  E_ARCHIVE_UNSAFE: {exitCode: ExitCode.archive, meaning: 'the archive was rejected: an entry would land outside the Bento'},
  E_ARCHIVE_INVALID: {exitCode: ExitCode.archive, meaning: 'the archive was rejected: not a Bento archive BentoML can read'},
  E_ARCHIVE_TOO_LARGE: {exitCode: ExitCode.archive, meaning: 'the archive was rejected: it passes an import limit (size, entries, compression ratio)'},
  E_DOCKER_CONTEXT: {exitCode: ExitCode.archive, meaning: 'the Docker build context cannot be written'},
  E_DOCKER_UNAVAILABLE: {exitCode: ExitCode.dockerUnavailable, meaning: 'no Docker daemon answers'},
  E_DOCKER_BUILD: {exitCode: ExitCode.dockerBuild, meaning: 'the image build failed'},
  E_DOCKER_BUILD_STEP: {exitCode: ExitCode.dockerBuild, meaning: 'a Dockerfile step failed (the step and its last log lines are given)'},
  E_DOCKER_BASE_IMAGE: {exitCode: ExitCode.dockerBuild, meaning: 'the base image cannot be pulled'},
  E_DOCKER_DAEMON_LOST: {exitCode: ExitCode.dockerBuild, meaning: 'the Docker daemon went away during the build'},
  E_PLATFORM_BASE_IMAGE: {exitCode: ExitCode.dockerBuild, meaning: 'containerize --platform: the base image has no variant of that platform locally and none can be pulled (give one with --base-image PLATFORM=REF)'},
  E_PLATFORM_EMULATION: {exitCode: ExitCode.dockerBuild, meaning: "containerize --platform: a foreign platform's RUN steps need QEMU user emulation (binfmt_misc with qemu-<arch>, F flag) and the daemon's host has none"},
  E_DOCKER_PUSH: {exitCode: ExitCode.dockerPush, meaning: 'the push failed'},
  E_REGISTRY: {exitCode: ExitCode.dockerPush, meaning: 'bento push / --direct-push: the registry cannot be reached or answered an error (the request and the answer are named); an interrupted push leaves no tag'},
  E_REGISTRY_AUTH: {exitCode: ExitCode.dockerPush, meaning: 'bento push / --direct-push: the registry refused the credentials (or gave no token); run `docker login REGISTRY`'},
  E_PUSH_EXPORT: {exitCode: ExitCode.dockerPush, meaning: "bento push / --direct-push: the engine's export (`docker save`) has no layer for a diff id of the image, or its bytes do not hash to it: push with the engine (`docker push`, `containerize --push`)"},
  E_LOCK_DRIFT: {exitCode: ExitCode.lockDrift, meaning: 'bento lock --check: the requirements (or the Python, or a platform) changed since bento-lock.json was written; `drift` in the error (`--json`) lists what drifted'},
  E_SMOKE_EXITED: {exitCode: ExitCode.smoke, meaning: 'bento smoke: the container exited before it was ready (its last log lines are given)'},
  E_SMOKE_NOT_READY: {exitCode: ExitCode.smoke, meaning: 'bento smoke: /readyz did not answer 200 within the timeout'},
  E_SMOKE_PROBE: {exitCode: ExitCode.smoke, meaning: 'bento smoke: /livez or /metrics did not answer 200 once ready'},
  E_SMOKE_API: {exitCode: ExitCode.smoke, meaning: 'bento smoke: an API answered no 2xx, or its answer failed --expect / --error-contains (every API is called; all failures listed)'},
  E_INTERRUPTED: {exitCode: ExitCode.interrupted, meaning: 'interrupted (SIGINT/SIGTERM); nothing half-written is left'},
} as const satisfies Record<string, {exitCode: ExitCodeValue; meaning: string}>

export type ErrorCode = keyof typeof ERROR_CODES

/** The error codes whose exit code is `N`: an error class accepts only the codes of its exit code. */
export type CodesExiting<N extends ExitCodeValue> = {
  [K in ErrorCode]: (typeof ERROR_CODES)[K]['exitCode'] extends N ? K : never
}[ErrorCode]

export function exitCodeOf(code: ErrorCode): ExitCodeValue {
  return ERROR_CODES[code].exitCode
}

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
  abstract readonly code: ErrorCode
  readonly hint?: string
  readonly data?: Record<string, unknown>

  constructor(message: string, options: BentoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.hint = options.hint
    this.data = options.data
  }

  /** From the registry (`ERROR_CODES`): the exit code follows from the code, never from the class. */
  get exitCode(): ExitCodeValue {
    return exitCodeOf(this.code)
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
}

/** The build configuration (bentofile.yaml / pyproject.toml) is invalid. Carries every problem at once. */
export class ConfigError extends UserError {
  readonly code = 'E_CONFIG'
  readonly diagnostics: Diagnostic[]

  constructor(message: string, diagnostics: Diagnostic[] = [], options: BentoErrorOptions = {}) {
    const errors = diagnostics.filter((d) => d.severity === 'error')
    const body = errors.length > 0 ? `${message}\n${errors.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}` : message
    super(body, {...options, data: {...options.data, diagnostics}})
    this.diagnostics = diagnostics
  }
}

/** The requirements cannot be locked by the resolver (uv). */
export class LockError extends UserError {
  readonly code = 'E_LOCK'
}

/** `bento lock --check`: the project's lock file no longer matches its requirements. */
export class LockDriftError extends UserError {
  readonly code = 'E_LOCK_DRIFT'
}

/** A tag (Bento or model) or a file the user named does not exist. */
export class NotFoundError extends UserError {
  readonly code: CodesExiting<4>
  constructor(message: string, options: BentoErrorOptions & {code?: CodesExiting<4>} = {}) {
    super(message, options)
    this.code = options.code ?? 'E_NOT_FOUND'
  }
}

/** A model file in the store is unreadable or corrupt. */
export class StoreError extends UserError {
  readonly code: CodesExiting<5>
  constructor(message: string, options: BentoErrorOptions & {code?: CodesExiting<5>} = {}) {
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
  readonly code: CodesExiting<6>
  constructor(message: string, options: BentoErrorOptions & {code?: CodesExiting<6>} = {}) {
    super(message, options)
    this.code = options.code ?? 'E_ARCHIVE'
  }
}

export class DockerUnavailableError extends UserError {
  readonly code = 'E_DOCKER_UNAVAILABLE'
}

/** A Dockerfile step failed. `data.step` and `data.log` say which and why. */
export class DockerBuildError extends UserError {
  readonly code: CodesExiting<8>
  constructor(message: string, options: BentoErrorOptions & {code?: CodesExiting<8>} = {}) {
    super(message, options)
    this.code = options.code ?? 'E_DOCKER_BUILD'
  }
}

export class DockerPushError extends UserError {
  readonly code = 'E_DOCKER_PUSH'
}

/** `bento push`: the registry (or the engine's export) failed the direct push; nothing was tagged. */
export class RegistryError extends UserError {
  readonly code: CodesExiting<9>
  constructor(message: string, options: BentoErrorOptions & {code?: CodesExiting<9>} = {}) {
    super(message, options)
    this.code = options.code ?? 'E_REGISTRY'
  }
}

/** `bento smoke` found the image wanting. `data.report` holds what was measured up to the failure. */
export class SmokeError extends UserError {
  readonly code: CodesExiting<11>
  constructor(message: string, options: BentoErrorOptions & {code: CodesExiting<11>}) {
    super(message, options)
    this.code = options.code
  }
}

export class InterruptedError extends UserError {
  readonly code = 'E_INTERRUPTED'
}

/** Unexpected: a bug in bento. */
export class BugError extends BentoError {
  readonly code = 'E_BUG'
}

export function isBentoError(e: unknown): e is BentoError {
  return e instanceof BentoError
}
