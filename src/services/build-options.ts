import type {GatherOptions} from '../bento/inputs.js'
import {checkBentomlVersionFlag} from '../bentoml/target.js'
import {TAG_RULE} from '../bentoml/tag.js'
import type {Cleanup} from '../cleanup.js'
import {UsageError} from '../errors.js'
import type {LockInputs} from '../lock/index.js'
import type {Lock} from '../lock/index.js'
import type {Reporter} from '../reporter.js'
import {InvalidTagError, tagPartProblem} from '../store/tag.js'

/** `bento build`'s options: what the gather step reads (bento/inputs.ts `GatherOptions`), and the build's own. */
export interface BuildOptions extends GatherOptions {
  reporter: Reporter
  /** Where the build directory is registered while it exists (removed on a forced exit). */
  cleanup?: Cleanup
  /** For tests: the clock. */
  now?: Date
  /** `--no-lock`: write the requirements unlocked (as `python.lock_packages: false`). */
  noLock?: boolean
  /** `--platform`: the lock's target (default linux/amd64). */
  platform?: string
  /** `bento lock`: stop once the requirements are locked (nothing is written); the result's `lockOnly` has the lock. */
  lockOnly?: boolean
}

export interface BuildResult {
  tag: string
  name: string
  version: string
  path: string
  /** Bytes of the stored Bento (models included). */
  size: number
  created: boolean
  bentomlVersion: string
  models: Array<{tag: string; module: string; size: number}>
  files: number
  warnings: string[]
  /**
   * The environment variables the service module read while bento evaluated it (sorted names; values are not
   * listed, they may be secrets). Their values are part of the version: a different value is a different Bento.
   */
  envRead: string[]
  /** The lock the Bento holds (src/lock), or null when it is unlocked (`--no-lock`, lock_packages false, no uv). */
  lock: {sha256: string; file: string; platform: string; pythonVersion: string; packages: number; cached: boolean; uvVersion: string; source: NonNullable<Lock['source']>} | null
  durationMs: number
  /** With `lockOnly`: the lock's inputs and text (null when unlocked); the Bento is not written (`path` is ''). */
  lockOnly?: {inputs: LockInputs; text: string | null; reason?: 'disabled' | 'no-uv'}
}

/**
 * `SOURCE_DATE_EPOCH` (reproducible-builds.org): the build's clock, so two builds of the same inputs on two
 * machines write the same bytes (bento.yaml creation_time, the Dockerfile's created label). Malformed: E_USAGE.
 */
export function sourceDateEpoch(env: Readonly<Record<string, string | undefined>> | undefined): Date | undefined {
  const raw = env?.SOURCE_DATE_EPOCH
  if (raw === undefined || raw === '') return undefined
  const seconds = /^\d{1,12}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN
  if (!Number.isSafeInteger(seconds) || seconds * 1000 > 8.64e15) {
    throw new UsageError(`invalid SOURCE_DATE_EPOCH "${raw.slice(0, 40)}": not a number of seconds since 1970-01-01 UTC`, {
      hint: 'set it to an integer such as $(git log -1 --format=%ct), or unset it',
      data: {SOURCE_DATE_EPOCH: raw.slice(0, 40)},
    })
  }
  return new Date(seconds * 1000)
}

/** Command-line values, checked before anything is read: a bad flag is a usage error (exit 2). */
export function checkFlags(opts: BuildOptions): void {
  if (opts.version !== undefined) {
    const problem = tagPartProblem(opts.version, {version: true})
    if (problem !== null) {
      throw new InvalidTagError(`invalid --version "${opts.version}": ${problem}`, {
        hint: `use ${TAG_RULE}`,
        data: {version: opts.version},
      })
    }
  }
  if (opts.bentomlVersion !== undefined) checkBentomlVersionFlag(opts.bentomlVersion)
}
