import {rm} from 'node:fs/promises'

import {SPEC1_LOCK_FILE, SPEC2_LOCK_FILE} from '../bentoml/lock-facts.js'
import {gatherBuild} from '../bento/inputs.js'
import {planBuild, planIdentity, type PlanIdentity} from '../bento/plan.js'
import {literalCredentialKeys, lockForBuild, type LockOutcome} from '../lock/index.js'
import {locateDiagnostics} from '../config/locate.js'
import {diskFullError, type Diagnostic, formatDiagnostic, InterruptedError, isDiskFull, StoreError} from '../errors.js'
import type {Reporter} from '../reporter.js'
import {dirSize} from '../store/fs-utils.js'
import {makeTempDir, Store, storeFsError} from '../store/store.js'
import {formatTag} from '../store/tag.js'
import {type BuildOptions, type BuildResult, checkFlags, sourceDateEpoch} from './build-options.js'

export type {BuildOptions, BuildResult} from './build-options.js'
export {sourceDateEpoch} from './build-options.js'

/**
 * `bento build`: gather (bento/inputs.ts) → the plan's identity (bento/plan.ts `planIdentity`: version
 * digest, requirements, warnings) → lock (src/lock, then the identity again with it) → plan (renders every file) →
 * write (bento/write.ts) into a temp directory → install into the store. Same inputs, same tag: an existing Bento is
 * reported before anything is rendered (a no-op build), not rewritten.
 */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  const started = performance.now()
  const {projectDir} = opts
  const warnings: Diagnostic[] = []
  const checkAbort = (): void => {
    if (opts.signal?.aborted) throw new InterruptedError('Build interrupted; the store is unchanged.')
  }
  // Progress callbacks run inside long reads (hashing a multi-GiB model): they are where an interrupt lands.
  const reporter: Reporter = {
    log: (m) => opts.reporter.log(m),
    warn: (m) => opts.reporter.warn(m),
    status: (m) => opts.reporter.status(m),
    progress: (label, done, total) => {
      checkAbort()
      opts.reporter.progress(label, done, total)
    },
  }
  checkFlags(opts)
  const now = opts.now ?? sourceDateEpoch(opts.env) ?? new Date()
  const {loaded, config, configFile, files, models, envRead, entryConfig, planInputs, inConfig} = await gatherBuild(opts, reporter, warnings, checkAbort, now)
  let plan: PlanIdentity = await inConfig(async () => planIdentity(planInputs))
  // The lock (src/lock): resolved from the plan's requirements for its Python, then planned into the Bento.
  for (const key of literalCredentialKeys(config.python)) {
    warnings.push({file: configFile, key, severity: 'warning', message: 'this index URL holds credentials: they are written into the Bento (bento.yaml, the copied build config)', hint: 'write them as ${VAR} references (https://${INDEX_USER}:${INDEX_TOKEN}@host/simple): uv and pip expand them from the environment, and the Bento holds only the names'})
  }
  const locked: LockOutcome = await lockForBuild({
    requirements: plan.requirements,
    ...(plan.spec === 2 ? {} : {indexOptions: config.python}),
    pythonVersion: plan.pythonVersion,
    lockPackages: plan.lockPackages,
    explicit: loaded.raw.python?.lock_packages === true,
    ...(opts.noLock === undefined ? {} : {noLock: opts.noLock}),
    ...(opts.platform === undefined ? {} : {platform: opts.platform}),
    uvLock: entryConfig?.image?.uvLock === true,
    home: opts.home,
    cwd: projectDir,
    env: opts.env ?? {},
    ...(opts.signal ? {signal: opts.signal} : {}),
    ...(opts.cleanup ? {cleanup: opts.cleanup} : {}),
  })
  checkAbort()
  if (locked.locked) {
    plan = await inConfig(async () => planIdentity({...planInputs, lock: locked.lock}))
    const l = locked.lock
    const how = l.source === 'uv.lock' || l.source === 'pylock.toml' ? ` (read from ${l.source}: no resolver ran)` : l.cached ? ' (cached lock: no resolver ran)' : ` (uv ${l.uvVersion})`
    reporter.log(`Locked ${l.packages} packages for python ${l.pythonVersion}, ${l.platform}${how}: sha256 ${l.sha256.slice(0, 16)}…`)
  } else if (locked.reason === 'no-uv') {
    reporter.log('The requirements are not locked: uv is not found (set BENTO_UV or put uv on PATH; --no-lock says it is meant)')
  }
  warnings.push(...plan.warnings)
  warnings.splice(0, warnings.length, ...locateDiagnostics(warnings, configFile, loaded.locate))
  for (const w of warnings) reporter.warn(formatDiagnostic(w))

  const store = Store.bentos(opts.home, {cleanup: opts.cleanup})
  const result = (created: boolean, path: string, size: number): BuildResult => ({
    tag: plan.tag,
    name: plan.name,
    version: plan.version,
    path,
    size,
    created,
    bentomlVersion: plan.bentomlVersion,
    models: models.map((m) => ({tag: formatTag(m), module: m.module, size: m.size})),
    files: files.length,
    warnings: warnings.map(formatDiagnostic),
    envRead: envRead.map((r) => r.name),
    lock: locked.locked
      ? {
          sha256: locked.lock.sha256,
          file: plan.spec === 2 ? SPEC2_LOCK_FILE : SPEC1_LOCK_FILE,
          platform: locked.lock.platform,
          pythonVersion: locked.lock.pythonVersion,
          packages: locked.lock.packages,
          cached: locked.lock.cached,
          uvVersion: locked.lock.uvVersion,
          source: locked.lock.source ?? 'uv',
        }
      : null,
    durationMs: Math.round(performance.now() - started),
  })

  if (opts.lockOnly === true) return {...result(false, '', 0), lockOnly: {inputs: locked.inputs, ...(locked.locked ? {text: locked.lock.text} : {text: null, reason: locked.reason})}}
  const existing = await findExact(store, plan.name, plan.version)
  if (existing && opts.version) {
    throw new StoreError(`Bento "${plan.tag}" already exists in the store`, {
      code: 'E_ALREADY_EXISTS',
      hint: `delete it first (bento delete ${plan.tag}) or choose another --version`,
      data: {tag: plan.tag, path: existing},
    })
  }
  if (existing) {
    reporter.log(`Bento "${plan.tag}" is up to date (same inputs); nothing to do.`)
    return result(false, existing, await dirSize(existing))
  }

  // Only now is every file rendered: a no-op build returned above.
  const full = await inConfig(async () => planBuild(locked.locked ? {...planInputs, lock: locked.lock} : planInputs))
  let tmp: {dir: string; forget: () => void} | undefined
  try {
    tmp = await makeTempDir(opts.home, plan.name, {cleanup: opts.cleanup})
    const {writePlan} = await import('../bento/write.js')
    await writePlan(full, tmp.dir, reporter)
    checkAbort()
    const item = await store.install(tmp.dir, {name: plan.name, version: plan.version})
    reporter.log(`Wrote ${item.path}`)
    return result(true, item.path, await dirSize(item.path))
  } catch (error) {
    if (tmp !== undefined) await rm(tmp.dir, {recursive: true, force: true})
    if (error instanceof StoreError && error.code === 'E_ALREADY_EXISTS' && !opts.version) {
      // A concurrent build of the same inputs won the race: same content, same tag.
      const path = store.itemPath({name: plan.name, version: plan.version})
      return result(false, path, await dirSize(path))
    }
    if (isDiskFull(error)) throw diskFullError(`No space left while writing the Bento into ${opts.home}; the store is unchanged.`, error)
    throw storeFsError(error, opts.home)
  } finally {
    tmp?.forget()
  }
}

async function findExact(store: Store<{creationTime: Date}>, name: string, version: string): Promise<string | null> {
  const items = await store.list(formatTag({name, version}))
  return items[0]?.path ?? null
}
