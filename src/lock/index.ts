/**
 * Locked dependencies (issue 17): the Bento's requirements resolved once per distinct input by uv into a hashed
 * lock for the image's Python and platform, cached in the store. The build service calls `lockForBuild`; the plan
 * writes the lock where BentoML 1.4.40 holds it.
 */
import {type IndexOptions, indexOptionLines, type Lock, lockCacheDir, lockPlatform, lockRequirements} from './lock.js'
import type {Cleanup} from '../cleanup.js'
import {LockError} from '../errors.js'
import {hasLiteralCredentials} from './mask.js'
import {checkRequirementsCovered, findProjectLock, type ProjectLockFile, readProjectLock} from './static.js'
import {entryFor, readBentoLockFile} from './project-file.js'
import {type Env, findUvPath, uvNotFound, uvTool} from './uv.js'

export {hasLiteralCredentials, maskCredentials, maskSecrets} from './mask.js'
export {indexOptionLines, type Lock, lockKey, lockPlatform, type LockPlatform, lockRequirements} from './lock.js'
export {findUvPath, runUv, uvNotFound, uvTool, type UvTool} from './uv.js'
export {checkRequirementsCovered, findProjectLock, PROJECT_LOCK_FILES, type ProjectLockFile, readProjectLock, type StaticLock} from './static.js'
export {evaluateMarker, markerEnvironment} from './markers.js'
export {BENTO_LOCK_FILE, type BentoLockEntry, inputsDigest, type LockInputs, readBentoLockFile, writeBentoLockFile} from './project-file.js'

export {LOCK_LABEL} from './label.js'

export interface LockForBuild {
  /** The Bento's requirement lines (plan.requirements). */
  requirements: string[]
  /** Spec 1: the config's index options (spec 2 has them among its requirement lines). */
  indexOptions?: IndexOptions
  pythonVersion: string
  /** python.lock_packages / Image(lock_python_packages=…) after the merge (default true). */
  lockPackages: boolean
  /** The bentofile said `python.lock_packages: true` itself: without uv that is an error, not an unlocked build. */
  explicit: boolean
  /** `--no-lock` */
  noLock?: boolean
  /** `--platform` */
  platform?: string
  /** `Image(...).uv_lock()`: the project's uv.lock is the lock (it must exist). */
  uvLock?: boolean
  home: string
  cwd: string
  env: Env
  signal?: AbortSignal
  cleanup?: Cleanup
}

export type LockOutcome =
  | {locked: true; lock: Lock; inputs: {requirements: string[]; optionLines: string[]; pythonVersion: string}}
  | {locked: false; reason: 'disabled' | 'no-uv'; inputs: {requirements: string[]; optionLines: string[]; pythonVersion: string}}

/**
 * Lock the requirements unless `--no-lock` or lock_packages is false. No uv found: an error when the bentofile asked
 * for the lock itself, else an unlocked build (the outcome says why, for the log and `--json`).
 */
export async function lockForBuild(opts: LockForBuild): Promise<LockOutcome> {
  const platform = lockPlatform(opts.platform)
  const inputs = {requirements: opts.requirements, optionLines: opts.indexOptions ? indexOptionLines(opts.indexOptions) : [], pythonVersion: opts.pythonVersion}
  if (opts.noLock === true) return {locked: false, reason: 'disabled', inputs}
  // The project's own lock (uv.lock, pylock.toml), read statically: no resolver runs.
  const file: ProjectLockFile | null = opts.uvLock === true ? 'uv.lock' : opts.lockPackages ? findProjectLock(opts.cwd) : null
  if (opts.uvLock === true && findProjectLock(opts.cwd) !== 'uv.lock') {
    throw new LockError('The image calls uv_lock() but the project holds no uv.lock', {hint: 'run `uv lock` in the project directory (and keep uv.lock with it), or drop .uv_lock()', data: {file: 'uv.lock'}})
  }
  if (file !== null) {
    const s = await readProjectLock({projectDir: opts.cwd, file, platform, pythonVersion: opts.pythonVersion})
    checkRequirementsCovered(s, opts.requirements, platform)
    return {locked: true, inputs, lock: {text: s.text, sha256: s.sha256, platform: s.platform, pythonVersion: s.pythonVersion, uvVersion: '', packages: s.packages, cached: true, key: s.sha256, source: file}}
  }
  if (!opts.lockPackages) return {locked: false, reason: 'disabled', inputs}
  // The project's bento-lock.json (bento lock): its entry for the same inputs is the lock, as written.
  const entry = entryFor(await readBentoLockFile(opts.cwd), inputs, platform)
  if (entry !== null) {
    const l = {text: entry.lock, sha256: entry.sha256, platform: platform.name, pythonVersion: entry.pythonVersion, uvVersion: '', packages: entry.packages, cached: true, key: entry.inputs}
    return {locked: true, inputs, lock: {...l, source: 'bento-lock.json'}}
  }
  const path = findUvPath(opts.env)
  if (path === null) {
    if (opts.explicit) throw uvNotFound()
    return {locked: false, reason: 'no-uv', inputs}
  }
  const uv = await uvTool(path, opts.env, lockCacheDir(opts.home))
  const lock = await lockRequirements({
    requirements: opts.requirements,
    optionLines: inputs.optionLines,
    pythonVersion: opts.pythonVersion,
    platform,
    uv,
    home: opts.home,
    cwd: opts.cwd,
    env: opts.env,
    ...(opts.signal ? {signal: opts.signal} : {}),
    ...(opts.cleanup ? {cleanup: opts.cleanup} : {}),
  })
  return {locked: true, inputs, lock}
}

/** Index option values of the build config that hold literal credentials (they would be written into the Bento). */
export function literalCredentialKeys(p: IndexOptions): string[] {
  const keys: string[] = []
  if (p.index_url && hasLiteralCredentials(p.index_url)) keys.push('python.index_url')
  for (const [i, u] of (p.extra_index_url ?? []).entries()) if (hasLiteralCredentials(u)) keys.push(`python.extra_index_url[${i}]`)
  for (const [i, u] of (p.find_links ?? []).entries()) if (hasLiteralCredentials(u)) keys.push(`python.find_links[${i}]`)
  if (p.pip_args && hasLiteralCredentials(p.pip_args)) keys.push('python.pip_args')
  return keys
}

export {indexCredentialsFor, type IndexCredentials, indexHostsOf, indexOptionLinesOf} from './credentials.js'
