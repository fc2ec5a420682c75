/**
 * `bento lock`: the project's locks, one per platform, computed as `bento build` computes them (the same inputs, the
 * same cache in $BENTOML_HOME/.bento/locks) and written into the project's bento-lock.json, which the build then
 * takes as it is. `check`: no resolver runs and nothing is written; the inputs of every platform are compared with
 * the file's (E_LOCK_DRIFT, exit 10, listing what drifted).
 */
import type {Cleanup} from '../cleanup.js'
import {LockDriftError, LockError} from '../errors.js'
import {
  BENTO_LOCK_FILE,
  type BentoLockEntry,
  inputsDigest,
  lockPlatform,
  maskCredentials,
  readBentoLockFile,
  uvNotFound,
  writeBentoLockFile,
} from '../lock/index.js'
import type {Reporter} from '../reporter.js'
import {build} from './build.js'

export interface LockOptions {
  projectDir: string
  /** `-f`: the build config (default: looked up in the project, as bento build). */
  bentofile?: string
  home: string
  reporter: Reporter
  env?: Readonly<Record<string, string | undefined>>
  /** `--platform a,b`: default the platforms bento-lock.json holds, else linux/amd64. */
  platforms?: string[]
  /** `--check` */
  check?: boolean
  signal?: AbortSignal
  cleanup?: Cleanup
}

export interface LockSummary {
  platform: string
  pythonVersion: string
  sha256: string
  packages: number
  source: BentoLockEntry['source']
}

export interface DriftEntry {
  platform: string
  pythonVersion: string
  /** `missing`: the file holds no lock for the platform; `changed`: its inputs differ. */
  reason: 'missing' | 'changed'
  /** Requirement and index option lines in the project now and not in the lock's inputs. */
  added: string[]
  /** Lines in the lock's inputs no longer in the project. */
  removed: string[]
  /** The Python the lock was made for, when the image's Python changed since. */
  lockedPythonVersion?: string
}

export interface LockResult {
  /** The project's bento-lock.json. */
  file: string
  written: boolean
  locks: LockSummary[]
  /** Empty unless `check` found drift (then the command fails with E_LOCK_DRIFT and this list in its data). */
  drift: DriftEntry[]
}

function masked(line: string): string {
  return maskCredentials(line, '***@')
}

function summary(e: BentoLockEntry): LockSummary {
  return {platform: e.platform, pythonVersion: e.pythonVersion, sha256: e.sha256, packages: e.packages, source: e.source}
}

export async function lock(opts: LockOptions): Promise<LockResult> {
  const existing = await readBentoLockFile(opts.projectDir)
  const named = opts.platforms ?? [...new Set((existing?.locks ?? []).map((l) => l.platform))]
  const platforms = (named.length > 0 ? named : ['linux/amd64']).map((p) => lockPlatform(p))
  const file = `${opts.projectDir.replace(/\/+$/, '')}/${BENTO_LOCK_FILE}`
  const entries: BentoLockEntry[] = []
  const drift: DriftEntry[] = []
  for (const platform of platforms) {
    const r = await build({
      projectDir: opts.projectDir,
      ...(opts.bentofile === undefined ? {} : {bentofile: opts.bentofile}),
      home: opts.home,
      reporter: opts.reporter,
      env: opts.env ?? {},
      platform: platform.name,
      lockOnly: true,
      ...(opts.check === true ? {noLock: true} : {}),
      ...(opts.signal ? {signal: opts.signal} : {}),
      ...(opts.cleanup ? {cleanup: opts.cleanup} : {}),
    })
    const only = r.lockOnly
    if (only === undefined) throw new Error('build did not stop at the lock')
    const inputs = only.inputs
    const digest = inputsDigest(inputs, platform)
    const old = existing?.locks.find((l) => l.uvTarget === platform.uvTarget) ?? null
    if (opts.check === true) {
      const now = [...inputs.optionLines, ...inputs.requirements].map(masked)
      if (old === null) {
        drift.push({platform: platform.name, pythonVersion: inputs.pythonVersion, reason: 'missing', added: now, removed: []})
        continue
      }
      entries.push(old)
      if (old.inputs === digest) continue
      const then = [...old.optionLines, ...old.requirements]
      drift.push({
        platform: platform.name,
        pythonVersion: inputs.pythonVersion,
        reason: 'changed',
        added: now.filter((l) => !then.includes(l)),
        removed: then.filter((l) => !now.includes(l)),
        ...(old.pythonVersion === inputs.pythonVersion ? {} : {lockedPythonVersion: old.pythonVersion}),
      })
      continue
    }
    if (only.text === null || r.lock === null) {
      if (only.reason === 'no-uv') throw uvNotFound()
      throw new LockError('Nothing to lock: the build config turns locking off (python.lock_packages: false or Image(lock_python_packages=False))', {
        hint: 'remove lock_packages: false to lock the requirements',
      })
    }
    if (r.lock.source === 'bento-lock.json' && old !== null) {
      entries.push(old)
      continue
    }
    entries.push({
      platform: platform.name,
      uvTarget: platform.uvTarget,
      pythonVersion: inputs.pythonVersion,
      inputs: digest,
      // Literal `user:password@` never reaches the file (it is committed): masked as in every message.
      requirements: inputs.requirements.map(masked),
      optionLines: inputs.optionLines.map(masked),
      sha256: r.lock.sha256,
      packages: r.lock.packages,
      source: r.lock.source === 'bento-lock.json' ? 'uv' : r.lock.source,
      lock: only.text,
    })
  }
  if (opts.check === true) {
    if (drift.length > 0) {
      const what = drift.map((d) => `${d.platform} (python ${d.pythonVersion}): ${d.reason === 'missing' ? 'no lock' : [...d.added.map((l) => `+${l}`), ...d.removed.map((l) => `-${l}`), ...(d.lockedPythonVersion ? [`python was ${d.lockedPythonVersion}`] : [])].join(', ') || 'changed'}`)
      throw new LockDriftError(`${BENTO_LOCK_FILE} is out of date: ${what.join('; ')}`, {
        hint: 'run `bento lock` and commit bento-lock.json',
        data: {file, drift},
      })
    }
    return {file, written: false, locks: entries.map(summary), drift}
  }
  // Platforms not asked for this time are kept as they were.
  const kept = (existing?.locks ?? []).filter((l) => !entries.some((e) => e.uvTarget === l.uvTarget))
  await writeBentoLockFile(opts.projectDir, [...entries, ...kept])
  for (const e of entries) opts.reporter.log(`Locked ${e.packages} packages for python ${e.pythonVersion}, ${e.platform}: sha256 ${e.sha256.slice(0, 16)}…`)
  return {file, written: true, locks: entries.map(summary), drift}
}
