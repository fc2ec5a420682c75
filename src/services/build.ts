import {lstat, readFile, rm} from 'node:fs/promises'
import {isAbsolute, join, relative, resolve} from 'node:path'

import {hashFile} from '../bento/digest.js'
import {modelDigest} from '../bento/model-digest.js'
import {checkBentomlVersionFlag} from '../bentoml/target.js'
import {selectFiles} from '../bento/files.js'
import {type BuildPlan, findModel, type PlanFile, type PlanModel, planBuild} from '../bento/plan.js'
import {writePlan} from '../bento/write.js'
import {type BuildConfig, loadBuildConfig} from '../config/index.js'
import {bentoTemplates} from '../bento/templates.js'
import {populateImageFromBuildConfig} from '../bentoml/image.js'
import type {Path, Position} from '../config/context.js'
import {openApiFor, readService, runnableTypeForModule} from '../python/index.js'
import {
  ConfigError,
  diskFullError,
  type Diagnostic,
  formatDiagnostic,
  InterruptedError,
  isDiskFull,
  NotFoundError,
  StoreError,
} from '../errors.js'
import type {Cleanup} from '../cleanup.js'
import type {Reporter} from '../reporter.js'
import {dirSize, isDirectory} from '../store/fs-utils.js'
import {ensureHome} from '../store/home.js'
import {recoverHome} from '../store/recover.js'
import {makeTempDir, Store, storeFsError} from '../store/store.js'
import {InvalidTagError, isValidTagPart, validateTagPart} from '../store/tag.js'
import {TOOL_VERSION} from '../version.js'

export interface BuildOptions {
  projectDir: string
  /** `-f`: a bentofile.yaml or pyproject.toml, absolute or relative to projectDir. */
  bentofile?: string
  home: string
  version?: string
  bentomlVersion?: string
  reporter: Reporter
  signal?: AbortSignal
  /** Where the build directory is registered while it exists (removed on a forced exit). */
  cleanup?: Cleanup
  /** The environment of the build: `${VAR}` in a `docker.env` dotenv file expands from it, as BentoML reads os.environ. */
  env?: Readonly<Record<string, string | undefined>>
  /** For tests: the clock. */
  now?: Date
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
  durationMs: number
}

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
  if (!(await isDirectory(projectDir))) {
    throw new NotFoundError(`Build context ${projectDir} does not exist or is not a directory`, {
      code: 'E_BUILD_CONTEXT',
      hint: 'pass the project directory (the one holding bentofile.yaml) as the argument, or run bento build inside it',
      data: {path: projectDir},
    })
  }

  const loaded = await loadBuildConfig({projectDir, file: opts.bentofile, environ: opts.env ?? {}})
  warnings.push(...loaded.warnings)
  const {config} = loaded
  const configFile = relative(projectDir, loaded.path) || loaded.path

  await ensureHome(opts.home)
  await recoverHome(opts.home)

  // Problems found after the config was read still point at the line of their key in the file read.
  const inConfig = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step()
    } catch (error) {
      throw withLines(error, configFile, loaded.locate)
    }
  }
  const selected = await inConfig(() => selectFiles({ctxDir: projectDir, include: config.include, exclude: config.exclude, configFile}))
  warnings.push(...selected.warnings)

  // Static reading of the service: its name, runners, APIs and the models it loads.
  const sources = new Map<string, string>()
  for (const f of selected.files) {
    if (f.rel.endsWith('.py') && f.symlinkTarget === undefined) sources.set(f.rel, await projectRead(f.rel, () => readFile(f.abs, 'utf8')))
  }
  const service = readService({
    files: sources,
    service: config.service,
    declaredModels: config.models?.map((m) => m.tag),
    configFile,
  })
  // A problem with `service` itself is in the build config file: it gets the line of its value.
  const located = locateDiagnostics(
    service.diagnostics.map((d) => ({...d, file: d.file || configFile})),
    configFile,
    loaded.locate,
  )
  const serviceErrors = located.filter((d) => d.severity === 'error')
  if (serviceErrors.length > 0) throw new ConfigError(`${configFile}: the service cannot be read`, serviceErrors)
  warnings.push(...located)
  if (service.kind === 'sdk') warnings.push(...bentoV2Warnings(config, configFile, loaded.locate))

  const name = (config.name ?? service.bentoName ?? '').toLowerCase()
  if (!isValidTagPart(name)) {
    throw new ConfigError(`${configFile}: invalid Bento name`, locateDiagnostics([
      {
        file: configFile,
        key: 'name',
        severity: 'error',
        message: name
          ? `"${name}" is not a valid Bento name: lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters`
          : 'the Bento has no name: the service name could not be read from the service code',
        hint: 'set `name:` in the bentofile',
      },
    ], configFile, loaded.locate))
  }
  checkAbort()
  const models = await resolveModels({...opts, reporter}, config.models, service.modelTags, configFile)
  checkAbort()

  const extras = await inConfig(() => readExtras(projectDir, configFile, config))
  const readme = await inConfig(() => readReadme(projectDir, configFile, config.description))

  const files: PlanFile[] = []
  for (const f of selected.files) {
    files.push({...f, sha256: f.symlinkTarget === undefined ? await projectRead(f.rel, () => hashFile(f.abs)) : ''})
  }
  checkAbort()

  const templates = bentoTemplates({
    userDockerfileTemplate: extras.dockerfileTemplate
      ? {content: await readFile(extras.dockerfileTemplate.abs, 'utf8'), file: extras.dockerfileTemplate.rel}
      : undefined,
  })
  const plan: BuildPlan = planBuild({
    config,
    configFile,
    files,
    service: {
      importString: service.importString,
      kind: service.kind,
      legacyStyle: service.legacyStyle,
      file: service.at?.file ?? service.entryFile,
      line: service.at?.line ?? null,
      name,
      runners: service.runners.map((r) => ({
        ...r,
        runnableType: r.runnableType || runnableTypeForModule(findModel(models, r.modelTag)?.module ?? '') || 'Runnable',
      })),
      apis: service.apis,
    },
    models,
    readme,
    extras,
    now: opts.now ?? new Date(),
    versionOverride: opts.version,
    bentomlVersionOverride: opts.bentomlVersion,
    toolVersion: TOOL_VERSION,
    templates: {...templates, openapi: (o) => openApiFor(service, o)},
  })
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
    bentomlVersion: plan.manifest.bentoml_version,
    models: models.map((m) => ({tag: `${m.name}:${m.version}`, module: m.module, size: m.size})),
    files: files.length,
    warnings: warnings.map(formatDiagnostic),
    durationMs: Math.round(performance.now() - started),
  })

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

  let tmp: {dir: string; forget: () => void} | undefined
  try {
    tmp = await makeTempDir(opts.home, plan.name, {cleanup: opts.cleanup})
    await writePlan(plan, tmp.dir, reporter)
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

/**
 * Read a file of the build context; one it cannot read (permissions, I/O) is a typed error naming it (D15), as an
 * unreadable directory is, with the two ways out.
 */
async function projectRead<T>(rel: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    if (code === undefined || code === 'ENOSPC') throw error
    throw new NotFoundError(`Cannot read "${rel}" of the build context (${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code})`, {
      code: 'E_BUILD_CONTEXT',
      cause: error,
      hint: `Make it readable (chmod), or leave it out of the Bento: add "${rel}" to exclude in the bentofile or to a .bentoignore.`,
      data: {path: rel, errno: code},
    })
  }
}

/** Command-line values, checked before anything is read: a bad flag is a usage error (exit 2). */
function checkFlags(opts: BuildOptions): void {
  if (opts.version !== undefined) {
    const problem = opts.version === 'latest' ? "'latest' is reserved: it names the newest version, it cannot be one" : validateTagPart(opts.version)
    if (problem !== null) {
      throw new InvalidTagError(`invalid --version "${opts.version}": ${problem}`, {
        hint: "use lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit (at most 63 characters)",
        data: {version: opts.version},
      })
    }
  }
  if (opts.bentomlVersion !== undefined) checkBentomlVersionFlag(opts.bentomlVersion)
}

async function findExact(store: Store<{creationTime: Date}>, name: string, version: string): Promise<string | null> {
  const items = await store.list(`${name}:${version}`)
  return items[0]?.path ?? null
}

type ResolvedModel = PlanModel & {size: number}

async function resolveModels(
  opts: BuildOptions,
  configured: Array<{tag: string; alias?: string}> | null,
  fromCode: string[],
  configFile: string,
): Promise<ResolvedModel[]> {
  const wanted: Array<{tag: string; alias?: string}> = configured ?? fromCode.map((tag) => ({tag}))
  const store = Store.models(opts.home)
  const out: ResolvedModel[] = []
  const seen = new Set<string>()
  for (const w of wanted) {
    let item
    try {
      item = await store.get(w.tag)
    } catch (error) {
      if (error instanceof NotFoundError) {
        const listed = await store.list()
        // Versions of this name exist but none is readable: say which file is broken, not "not found".
        const [wantName = '', wantVersion = 'latest'] = w.tag.toLowerCase().split(':')
        const broken = listed.find(
          (m) => m.error && m.tag.name === wantName && (wantVersion === 'latest' || m.tag.version.startsWith(wantVersion)),
        )
        if (broken?.error) throw broken.error
        const available = listed.filter((m) => !m.error).map((m) => `${m.tag.name}:${m.tag.version}`)
        throw new NotFoundError(`Model "${w.tag}" not found in the model store ${join(opts.home, 'models')}`, {
          code: 'E_MODEL_NOT_FOUND',
          hint:
            (configured ? `it is listed under \`models:\` in ${configFile}; ` : `the service code loads it; `) +
            (available.length > 0
              ? `the store has: ${available.slice(0, 20).join(', ')}${available.length > 20 ? ', …' : ''}`
              : 'the model store is empty: save the model first (e.g. bentoml.sklearn.save_model(...)) with the same BENTOML_HOME'),
          data: {tag: w.tag, available},
          cause: error,
        })
      }
      throw error
    }
    const key = `${item.tag.name}:${item.tag.version}`
    if (seen.has(key)) continue
    seen.add(key)
    const info = item.info
    // Read once per model version, ever: later builds find the digest cached under the model's file manifest.
    const {digest, size} = await modelDigest(opts.home, {name: item.tag.name, version: item.tag.version, dir: item.path}, opts.reporter)
    out.push({
      name: item.tag.name,
      version: item.tag.version,
      module: info.module,
      creationTime: info.creation_time,
      dir: item.path,
      digest,
      size,
      bentomlVersion: info.context.bentoml_version ?? null,
      pythonVersion: info.context.python_version ?? null,
      frameworkVersions: info.context.framework_versions ?? {},
      ...(w.alias ? {alias: w.alias} : {}),
    })
  }
  return out
}

async function readExtras(
  projectDir: string,
  configFile: string,
  config: Awaited<ReturnType<typeof loadBuildConfig>>['config'],
): Promise<Parameters<typeof planBuild>[0]['extras']> {
  const problems: Diagnostic[] = []
  const file = async (p: string | null, key: string): Promise<PlanFile | undefined> => {
    if (!p) return undefined
    const abs = isAbsolute(p) ? p : resolve(projectDir, p)
    try {
      const st = await lstat(abs)
      if (!st.isFile() && !st.isSymbolicLink()) throw Object.assign(new Error('not a file'), {code: 'EISDIR'})
      return {rel: relative(projectDir, abs), abs, size: st.size, mode: st.mode, sha256: await hashFile(abs)}
    } catch {
      problems.push({file: configFile, key, severity: 'error', message: `file "${p}" does not exist`, hint: `paths are relative to ${projectDir}`})
      return undefined
    }
  }
  const setupScript = await file(config.docker.setup_script, 'docker.setup_script')
  const dockerfileTemplate = await file(config.docker.dockerfile_template, 'docker.dockerfile_template')
  const wheels: PlanFile[] = []
  for (const [i, w] of (config.python.wheels ?? []).entries()) {
    const f = await file(w, `python.wheels[${i}]`)
    if (f) wheels.push(f)
  }
  let requirementsTxt: {rel: string; text: string} | undefined
  const req = await file(config.python.requirements_txt, 'python.requirements_txt')
  if (req) requirementsTxt = {rel: req.rel, text: await readFile(req.abs, 'utf8')}
  if (problems.length > 0) throw new ConfigError(`${configFile}: files it names are missing`, problems)
  return {setupScript, dockerfileTemplate, wheels, requirementsTxt}
}

/** `python.wheels[0]` → ['python', 'wheels', 0]. */
function keyPath(key: string): Path {
  return [...key.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] === undefined ? (m[1] ?? '') : Number(m[2])))
}

/** Diagnostics about the build config file without a line get the line of their key in it. */
function locateDiagnostics(ds: Diagnostic[], configFile: string, locate: (path: Path) => Position | undefined): Diagnostic[] {
  return ds.map((d) => {
    if (d.file !== configFile || d.line !== undefined || d.key === undefined) return d
    const at = locate(keyPath(d.key))
    return at ? {...d, line: at.line, col: at.col} : d
  })
}

/** A ConfigError about the config file, its diagnostics located; anything else unchanged. */
function withLines(error: unknown, configFile: string, locate: (path: Path) => Position | undefined): unknown {
  if (!(error instanceof ConfigError) || !error.diagnostics.some((d) => d.file === configFile && d.line === undefined)) return error
  return new ConfigError(error.message.split('\n')[0] ?? error.message, locateDiagnostics(error.diagnostics, configFile, locate), {
    hint: error.hint,
    cause: error.cause,
  })
}

const DEFAULT_README = (name: string): string =>
  `# ${name}\n\nThis is a Machine Learning Service created with BentoML and built with bento.\n`

async function readReadme(
  projectDir: string,
  configFile: string,
  description: string | null,
): Promise<Parameters<typeof planBuild>[0]['readme']> {
  if (description) {
    const m = description.match(/^\s*file:\s*(.+?)\s*$/)
    if (!m) return {text: description, source: 'description'}
    const p = resolve(projectDir, m[1]!)
    try {
      return {text: await readFile(p, 'utf8'), source: 'description-file'}
    } catch {
      throw new ConfigError(`${configFile}: description file missing`, [
        {file: configFile, key: 'description', severity: 'error', message: `file "${m[1]}" does not exist`},
      ])
    }
  }
  try {
    return {text: await readFile(join(projectDir, 'README.md'), 'utf8'), source: 'project'}
  } catch {
    return {text: DEFAULT_README('BentoML Service'), source: 'default'}
  }
}

/**
 * BentoML 1.4.40 builds a `@bentoml.service` (new SDK) as a v2 Bento unless the bentofile uses a key that v2 does
 * not support (conda, docker.cuda_version, docker.dockerfile_template, python.wheels): then it warns and falls back
 * to v1. The same warning, at the key's line; BentoML's merge (src/bentoml/image.ts) decides which key and says what.
 */
const V2_HINTS: Record<string, string> = {
  conda: 'SDK images have no conda: list the packages under python.packages, or use a base image that has conda',
  'docker.cuda_version': 'use docker.base_image with a CUDA image instead, e.g. nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04',
  'docker.dockerfile_template': 'SDK images take extra build steps as commands (Image.run) instead of a Dockerfile template',
}

function bentoV2Warnings(config: BuildConfig, configFile: string, locate: (path: Path) => Position | undefined): Diagnostic[] {
  let merged: ReturnType<typeof populateImageFromBuildConfig>
  try {
    merged = populateImageFromBuildConfig(null, config)
  } catch {
    return [] // a merge that fails needs files or a v2 image; only its warnings matter here, and they come first
  }
  return merged.warnings.map(({key, message}) => {
    const [first = message, ...rest] = message.split('\n')
    const at = locate(key.split('.'))
    return {
      file: configFile,
      ...(at ? {line: at.line, col: at.col} : {}),
      key,
      severity: 'warning' as const,
      message: `${first} (BentoML 1.4.40)`,
      hint: rest.join(' ') || V2_HINTS[key] || `remove ${key} to let BentoML 1.4.40 build a v2 Bento`,
    }
  })
}
