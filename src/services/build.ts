import {readFileSync, realpathSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {lstat, readFile, rm, stat} from 'node:fs/promises'
import {isAbsolute, join, relative, resolve, sep} from 'node:path'

import {hashFile} from '../bento/digest.js'
import {modelDigest} from '../bento/model-digest.js'
import {hfKey, type PlanHfModel, type PlanImage} from '../bento/plan.js'
import {BentoArgError, type BentoArgSource, mergeBentoArgs} from '../bentoml/args.js'
import {type Image, type ImageBuildConfig, type ImageFiles, imageFilesFor, type ImageOptions, ImageMergeError, populateImageFromBuildConfig} from '../bentoml/image.js'
import type {EnvRead, Evaluation} from '../python/eval/evaluate.js'
import type {HfModelOptions} from '../python/service/service.js'
import type {SdkServiceConfig} from '../python/service/sdk-config.js'
import {moduleSpace} from '../python/service/module-space.js'
import {prefixSchema} from '../python/service/sdk-schema.js'
import {toSnakeCase} from '../bentoml/names.js'
import {legacyDefaultReadme} from '../bentoml/readme.js'
import {checkBentomlVersionFlag} from '../bentoml/target.js'
import {TAG_RULE} from '../bentoml/tag.js'
import {bentomlFacts} from '../bentoml/versions.js'
import {SPEC1_LOCK_FILE, SPEC2_LOCK_FILE} from '../bentoml/lock-facts.js'
import {selectFiles, vanishedError} from '../bento/files.js'
import {type BuildPlan, findModel, type PlanFile, type PlanInputs, type PlanModel, planBuild} from '../bento/plan.js'
import {type Lock, type LockInputs, literalCredentialKeys, lockForBuild, type LockOutcome} from '../lock/index.js'
import {type BuildConfig, loadBuildConfig} from '../config/index.js'
import {dotenvDirs, nearestDotenv} from '../config/dotenv.js'
import {projectPythonDiagnostic} from '../config/project-python.js'
import {bentoTemplates} from '../bento/templates.js'
import type {Path, Position} from '../config/context.js'
import {parseYamlSource} from '../config/yaml-source.js'
import {openApiFor, readService, runnableTypeForModule} from '../python/index.js'
import {inlineRequirements, nestedRequirementRefs} from '../python/requirements.js'
import {
  ConfigError,
  diskFullError,
  type Diagnostic,
  formatDiagnostic,
  InterruptedError,
  isDiskFull,
  NotFoundError,
  StoreError,
  UsageError,
} from '../errors.js'
import type {Cleanup} from '../cleanup.js'
import type {Reporter} from '../reporter.js'
import {dirSize, isDirectory} from '../store/fs-utils.js'
import {ensureHome} from '../store/home.js'
import {recoverHome} from '../store/recover.js'
import {makeTempDir, Store, storeFsError} from '../store/store.js'
import {formatTag, InvalidTagError, isValidTagPart, splitTag, tagPartProblem} from '../store/tag.js'
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
  /**
   * The environment of the build: `${VAR}` in a `docker.env` dotenv file expands from it, as BentoML reads os.environ;
   * `HF_ENDPOINT` and `HF_TOKEN` for Hugging Face models; `os.environ`/`os.getenv` in the service module read it.
   */
  env?: Readonly<Record<string, string | undefined>>
  /** For tests: the clock. */
  now?: Date
  /**
   * `--arg KEY=VALUE` (repeatable) and `--arg-file FILE` (absolute path) of `bentoml build`, with the order they first
   * appear on the command line (the first wins a shared key); merged over the build config's `args`.
   */
  args?: {order: ReadonlyArray<'arg' | 'file'>; values: readonly string[]; file?: string}
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
  if (!(await isDirectory(projectDir))) {
    throw new NotFoundError(`Build context ${projectDir} does not exist or is not a directory`, {
      code: 'E_BUILD_CONTEXT',
      hint: 'pass the project directory (the one holding bentofile.yaml) as the argument, or run bento build inside it',
      data: {path: projectDir},
    })
  }

  const argSources = await readArgSources(opts.args)
  const loaded = await loadBuildConfig({projectDir, file: opts.bentofile, environ: opts.env ?? {}})
  warnings.push(...loaded.warnings)
  const config = argSources.length > 0 ? {...loaded.config, args: mergeArgs(argSources, loaded.config.args)} : loaded.config
  const configFile = relative(projectDir, loaded.path) || loaded.path
  if (loaded.defaults) reporter.log(`No bentofile.yaml or pyproject.toml in ${projectDir}: building service.py with BentoML's default build config`)

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

  // Static reading of the service: its name, runners, APIs and the models it loads. The modules as `bentoml build`
  // imports them (python/module-space.ts): every file at its project path (the build context is on sys.path) and, in
  // a src/ layout (python.is_src_layout), the files of src/ also where the Bento puts them (src/ flattened).
  const projectSources = new Map<string, string>()
  for (const f of selected.files) {
    if (f.rel.endsWith('.py') && f.symlinkTarget === undefined) {
      projectSources.set(f.rel, await projectRead(f.rel, () => readFile(f.abs, 'utf8')))
    }
  }
  const space = moduleSpace(projectSources, config.python.is_src_layout === true)
  const sources = space.sources
  // Messages name the project's files (src/pkg/service.py), not their import path.
  const projectFile = <D extends {file: string}>(d: D): D => ({...d, file: space.projectFile(d.file)})
  // A Hugging Face model id or option that is not a literal (`HuggingFaceModel(args.model_id.lower(), exclude=…)`):
  // the module is imported by the bounded interpreter, once, with the build's arguments and environment.
  // Loaded only for a project that names HuggingFaceModel: a runner-style build never loads the interpreter (start-up).
  const interpreter = [...sources.values()].some((src) => src.includes('HuggingFaceModel')) ? await import('../python/eval/evaluate.js') : undefined
  const evaluations = new Map<string, Evaluation>()
  const evaluatedHfModel = (at: {module: string; file: string; line: number; col: number}): {modelId: string; options: HfModelOptions} | undefined => {
    if (interpreter === undefined) return undefined
    let evaluation = evaluations.get(at.module)
    if (evaluation === undefined) {
      evaluation = interpreter.evaluateModule({files: sources, module: at.module, args: config.args, environ: opts.env ?? {}, imageFiles: projectImageFiles(projectDir, {wheels: []})})
      evaluations.set(at.module, evaluation)
    }
    const hit = evaluation.hfModels.get(`${at.file}:${at.line}:${at.col}`)
    if (hit === undefined || !('modelId' in hit)) return undefined
    const {modelId, ...options} = hit
    return {modelId, options}
  }
  const service = readService({
    files: sources,
    service: config.service,
    declaredModels: config.models?.map((m) => m.tag),
    configFile,
    isProjectFile: space.isProjectFile,
    evaluatedHfModel,
  })
  // A problem with `service` itself is in the build config file: it gets the line of its value.
  const located = locateDiagnostics(
    service.diagnostics.map(projectFile).map((d) => ({...d, file: d.file || configFile})),
    configFile,
    loaded.locate,
  )
  const serviceErrors = located.filter((d) => d.severity === 'error')
  if (serviceErrors.length > 0) throw new ConfigError(`${configFile}: the service cannot be read`, serviceErrors)
  warnings.push(...located)
  if (service.kind === 'sdk') warnings.push(...bentoV2Warnings(config, configFile, loaded.locate))

  checkAbort()
  const sdkEntry = service.kind === 'sdk' ? service.services[0] : undefined
  // Where the project names each model, for messages about it: the bentofile entry, else the first line loading it.
  const modelAt = (tag: string, configured?: number): PlanModel['at'] => {
    if (configured !== undefined) return {file: configFile, key: `models[${configured}]`}
    const ref = service.models.find((m) => m.registry === 'bentoml' && m.tag === tag)
    return ref ? {file: space.projectFile(ref.file), line: ref.line} : undefined
  }
  const models = await resolveModels({...opts, reporter}, config.models, service.modelTags, configFile, sdkEntry !== undefined, modelAt)
  checkAbort()
  const hfModels = sdkEntry ? await resolveHfModels(service, {env: opts.env ?? {}, ...(opts.signal ? {signal: opts.signal} : {})}) : []
  checkAbort()

  const extras = await inConfig(() => readExtras(projectDir, configFile, config))
  const imageFiles = projectImageFiles(projectDir, extras)
  // The project's Python (requires-python / .python-version) stands in for BentoML's "the Python running the build".
  const defaultPython = loaded.python?.version ? {defaultPythonVersion: loaded.python.version} : {}
  // SDK services: what the decorators say (config, envs, labels, description, image), by the safe evaluator.
  let sdkConfigs: SdkServiceConfig[] = []
  let envRead: EnvRead[] = []
  if (sdkEntry) {
    // Loaded here: a runner-style service never needs the evaluator (start-up, issue 20).
    const {readSdkConfig} = await import('../python/service/sdk-config.js')
    const dotenvs = await projectDotenvs(projectDir, [...sources.keys()].map((f) => space.projectFile(f)))
    const read = readSdkConfig({
      files: sources,
      module: service.module,
      args: config.args,
      imageFiles,
      services: service.services.map((x) => ({file: x.file, line: x.line})),
      cpuCount: availableParallelism(),
      ...defaultPython,
      environ: opts.env ?? {},
      dotenv: (file) => nearestDotenv(dotenvs, space.projectFile(file)),
    })
    const readDiagnostics = read.diagnostics.map(projectFile)
    const errors = readDiagnostics.filter((d) => d.severity === 'error')
    if (errors.length > 0) throw new ConfigError(`${configFile}: the service cannot be read`, errors)
    warnings.push(...readDiagnostics)
    envRead = read.evaluation.envRead
    if (envRead.length > 0) warnings.push(envReadWarning(envRead.map((r) => ({...r, site: projectFile(r.site)}))))
    sdkConfigs = read.services.map((c, i) => {
      const svc = service.services[i]!
      return c ?? {name: svc.name, className: svc.className, file: svc.file, line: svc.line, description: null, pathPrefix: null, envs: [], labels: {}, image: null, cmd: null, config: {}}
    })
  }
  const entryConfig = sdkConfigs[0]
  const sdkNames = new Map(service.services.map((x, i) => [x.name, sdkConfigs[i]?.name ?? x.name]))
  const sdkName = (n: string): string => sdkNames.get(n) ?? n
  // SDK services: the name the decorator gives, as the evaluator reads it (an f-string over bento_args included).
  const name = (config.name ?? (entryConfig ? toSnakeCase(entryConfig.name) : service.bentoName) ?? '').toLowerCase()
  if (!isValidTagPart(name)) {
    throw new ConfigError(`${configFile}: invalid Bento name`, locateDiagnostics([
      {
        file: configFile,
        key: 'name',
        severity: 'error',
        message: name
          ? `"${name}" is not a valid Bento name: ${TAG_RULE}`
          : 'the Bento has no name: the service name could not be read from the service code',
        hint: 'set `name:` in the bentofile',
      },
    ], configFile, loaded.locate))
  }
  // SDK services: the decorator's description= when the bentofile has none (Bento.create).
  const readme = await inConfig(() => readReadme(projectDir, configFile, config.description ?? entryConfig?.description ?? null))
  const image = sdkEntry
    ? await inConfig(async () => sdkImage(configFile, beforeDefaults(config, loaded.raw), entryConfig?.image ?? null, {files: imageFiles, ...defaultPython}, realpathSync(projectDir)))
    : undefined
  // Where each image requirement line was written, in project files (messages about a bentoml pin name it).
  if (image) image.requirementSites = (image.requirementSites ?? []).map((s) => projectSite(s, entryConfig?.file, configFile, space.projectFile, loaded.locate))
  if (image) image.scripts = await Promise.all(image.scripts.map(async (sc) => ({...sc, sha256: await projectRead(sc.from, () => hashFile(sc.from))})))
  // Neither the build config nor the image names the Python: say which the project's requirement chose, or refuse.
  if (loaded.python?.applies && image?.saysPythonVersion !== true) {
    const said = projectPythonDiagnostic(loaded.python)
    if (said.severity === 'error') throw new ConfigError(`${said.file}: no base image offers the Python the project asks for`, [said])
    warnings.push(said)
  }

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
  const planInputs: PlanInputs = {
    config,
    configFile,
    files,
    service: {
      importString: service.importString,
      kind: service.kind,
      legacyStyle: service.legacyStyle,
      file: service.at?.file ?? (service.entryFile === null ? null : space.projectFile(service.entryFile)),
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
    ...(sdkEntry
      ? {
          sdk: {
            services: service.services.map((x, i) => ({
              name: sdkName(x.name),
              models: x.models,
              dependencies: x.dependencies.map((d) => ({
                ...(d.on !== null ? {service: sdkName(d.on)} : {}),
                ...(d.deployment !== undefined ? {deployment: d.deployment} : {}),
                ...(d.cluster !== undefined ? {cluster: d.cluster} : {}),
                ...(d.url !== undefined ? {url: d.url} : {}),
              })),
              config: sdkConfigs[i]?.config ?? {},
            })),
            labels: entryConfig?.labels ?? {},
            envs: entryConfig?.envs ?? [],
            description: entryConfig?.description ?? null,
            // `Service.schema()` names the service as the decorator does (`name=args.name` evaluated).
            schema: prefixSchema(
              service.schema !== null && typeof service.schema.name === 'string' ? {...service.schema, name: sdkName(service.schema.name)} : (service.schema ?? {}),
              entryConfig?.pathPrefix ?? null,
            ),
            imageDeclared: (entryConfig?.image ?? null) !== null,
          },
          image,
          hfModels,
          environment: envRead.map((r) => ({name: r.name, value: r.value})),
        }
      : {}),
    now,
    versionOverride: opts.version,
    bentomlVersionOverride: opts.bentomlVersion,
    toolVersion: TOOL_VERSION,
    templates: {...templates, openapi: (o) => openApiFor(service, o)},
  }
  let plan: BuildPlan = await inConfig(async () => planBuild(planInputs))
  // The lock (src/lock): resolved from the plan's requirements for its Python, then planned into the Bento.
  for (const key of literalCredentialKeys(config.python)) {
    warnings.push({file: configFile, key, severity: 'warning', message: 'this index URL holds credentials: they are written into the Bento (bento.yaml, the copied build config)', hint: 'write them as ${VAR} references (https://${INDEX_USER}:${INDEX_TOKEN}@host/simple): uv and pip expand them from the environment, and the Bento holds only the names'})
  }
  const locked: LockOutcome = await lockForBuild({
    requirements: plan.requirements,
    ...(plan.manifest.spec === 2 ? {} : {indexOptions: config.python}),
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
    plan = await inConfig(async () => planBuild({...planInputs, lock: locked.lock}))
    const l = locked.lock
    const how = l.source === 'uv.lock' || l.source === 'pylock.toml' ? ` (read from ${l.source}: no resolver ran)` : l.cached ? ' (cached lock: no resolver ran)' : ` (uv ${l.uvVersion})`
    reporter.log(`Locked ${l.packages} packages for python ${l.pythonVersion}, ${l.platform}${how}: sha256 ${l.sha256.slice(0, 16)}…`)
  } else if (locked.reason === 'no-uv') {
    reporter.log('The requirements are not locked: uv is not found (set BENTO_UV or put uv on PATH; --no-lock says it is meant)')
  }
  // The config reader says packages are ignored beside requirements_txt (spec 1, and spec 2 from 1.4.19 on); a spec-2
  // Bento for an older target installs them (planBuild).
  if (plan.manifest.spec === 2 && !bentomlFacts(plan.manifest.bentoml_version).imageIgnoresPackagesWithRequirementsTxt) {
    const kept = warnings.filter((w) => !(w.key === 'python.packages' && w.file === configFile && w.message.includes("so 'packages' is ignored")))
    warnings.splice(0, warnings.length, ...kept)
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
    bentomlVersion: plan.manifest.bentoml_version,
    models: models.map((m) => ({tag: formatTag(m), module: m.module, size: m.size})),
    files: files.length,
    warnings: warnings.map(formatDiagnostic),
    envRead: envRead.map((r) => r.name),
    lock: locked.locked
      ? {
          sha256: locked.lock.sha256,
          file: plan.manifest.spec === 2 ? SPEC2_LOCK_FILE : SPEC1_LOCK_FILE,
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

  let tmp: {dir: string; forget: () => void} | undefined
  try {
    tmp = await makeTempDir(opts.home, plan.name, {cleanup: opts.cleanup})
    const {writePlan} = await import('../bento/write.js')
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
 * The `.env` files `load_dotenv()` may load for the service's modules (python-dotenv looks from the module's
 * directory up): directory in the build context → content, null where there is none. A `.env` that is not a file
 * (a directory, a FIFO) is none; one above the build context is not looked for.
 */
async function projectDotenvs(projectDir: string, moduleFiles: string[]): Promise<Map<string, string | null>> {
  const found = new Map<string, string | null>()
  for (const dir of new Set(moduleFiles.flatMap(dotenvDirs))) {
    const path = join(projectDir, dir, '.env')
    const st = await stat(path).catch(() => undefined)
    found.set(dir, st?.isFile() ? await readFile(path, 'utf8').catch(() => null) : null)
  }
  return found
}

/**
 * One warning for every read of the build's environment by the service module (names only: values may be
 * secrets), at the first read.
 */
function envReadWarning(reads: EnvRead[]): Diagnostic {
  const first = [...reads].sort((a, b) => (a.site.file === b.site.file ? a.site.line - b.site.line : a.site.file < b.site.file ? -1 : 1))[0] as EnvRead
  const files = [...new Set(reads.map((r) => r.site.file))].sort()
  return {
    ...first.site,
    severity: 'warning',
    message: `${files.join(', ')} ${files.length > 1 ? 'read' : 'reads'} the environment: ${reads.map((r) => r.name).join(', ')}; a different value gives a different Bento`,
    hint: 'the values read are part of the Bento\'s version (build with the same environment to get the same tag); --json lists the names as envRead',
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
    if (code === 'ENOENT' || code === 'ENOTDIR') throw vanishedError(rel, (error as NodeJS.ErrnoException).path ?? rel, error)
    throw new NotFoundError(`Cannot read "${rel}" of the build context (${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code})`, {
      code: 'E_BUILD_CONTEXT',
      cause: error,
      hint: `Make it readable (chmod), or leave it out of the Bento: add "${rel}" to exclude in the bentofile or to a .bentoignore.`,
      data: {path: rel, errno: code},
    })
  }
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
function checkFlags(opts: BuildOptions): void {
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

async function findExact(store: Store<{creationTime: Date}>, name: string, version: string): Promise<string | null> {
  const items = await store.list(formatTag({name, version}))
  return items[0]?.path ?? null
}

type ResolvedModel = PlanModel & {size: number}

async function resolveModels(
  opts: BuildOptions,
  configured: Array<{tag: string; alias?: string}> | null,
  fromCode: string[],
  configFile: string,
  sdk: boolean,
  where: (tag: string, configured?: number) => PlanModel['at'],
): Promise<ResolvedModel[]> {
  // Legacy: the bentofile's models replace the service's. SDK: both (top-level models + services[].models).
  const fromConfig = (configured ?? []).map((m, i) => ({...m, at: where(m.tag, i)}))
  const coded = fromCode.map((tag) => ({tag, at: where(tag)}))
  const wanted: Array<{tag: string; alias?: string; at: PlanModel['at']}> = sdk ? [...fromConfig, ...coded] : configured ? fromConfig : coded
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
        const want = splitTag(w.tag.toLowerCase())
        const wantVersion = want.version ?? 'latest'
        const broken = listed.find(
          (m) => m.error && m.tag.name === want.name && (wantVersion === 'latest' || m.tag.version.startsWith(wantVersion)),
        )
        if (broken?.error) throw broken.error
        const available = listed.filter((m) => !m.error).map((m) => formatTag(m.tag))
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
    const key = formatTag(item.tag)
    if (seen.has(key)) {
      const first = out.find((m) => formatTag(m) === key)
      if (first && w.alias && !first.alias) first.alias = w.alias
      continue
    }
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
      ...(w.at ? {at: w.at} : {}),
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
  const condaEnvironment = await file(config.conda.environment_yml, 'conda.environment_yml')
  const dockerfileTemplate = await file(config.docker.dockerfile_template, 'docker.dockerfile_template')
  const wheels: PlanFile[] = []
  for (const [i, w] of (config.python.wheels ?? []).entries()) {
    const f = await file(w, `python.wheels[${i}]`)
    if (f) wheels.push(f)
  }
  let requirementsTxt: {rel: string; text: string; sites: Array<{file: string; line: number}>} | undefined
  const req = await file(config.python.requirements_txt, 'python.requirements_txt')
  if (req) {
    // Nested -r/-c files are inlined, each relative to the file naming it (as BentoML), so the Bento's
    // requirements.txt stands alone.
    const texts = new Map<string, string | undefined>()
    const queue = [req.rel]
    while (queue.length > 0) {
      const rel = queue.shift() as string
      if (texts.has(rel)) continue
      let text: string | undefined
      try {
        text = await readFile(resolve(projectDir, rel), 'utf8')
      } catch {
        text = undefined
      }
      texts.set(rel, text)
      if (text !== undefined) queue.push(...nestedRequirementRefs(rel, text).map((r) => r.path))
    }
    const inlined = inlineRequirements(req.rel, (p) => texts.get(p))
    for (const pr of inlined.problems) problems.push({file: pr.file, line: pr.line, severity: 'error', message: pr.message, hint: pr.hint})
    requirementsTxt = {rel: req.rel, text: inlined.text, sites: inlined.sites}
  }
  if (problems.length > 0) throw new ConfigError(`${configFile}: files it names are missing`, problems)
  return {setupScript, dockerfileTemplate, wheels, requirementsTxt, ...(condaEnvironment ? {condaEnvironment} : {})}
}

/** A requirement line's site in the project: module keys as project files, bentofile keys with their line, else the service file. */
function projectSite(
  s: {file?: string; line?: number; key?: string},
  serviceFile: string | undefined,
  configFile: string,
  projectFile: (moduleFile: string) => string,
  locate: (path: Path) => Position | undefined,
): {file: string; line?: number; key?: string} {
  if (s.file !== undefined) return {...s, file: projectFile(s.file)}
  if (s.key === undefined) return serviceFile === undefined ? {file: configFile} : {file: projectFile(serviceFile)}
  const line = locate(keyPath(s.key))?.line
  return {file: configFile, key: s.key, ...(line === undefined ? {} : {line})}
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
    return {text: legacyDefaultReadme(), source: 'default'}
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

/** Every Hugging Face model of the SDK services, resolved on the hub (the one step of a build that needs the network). */
async function resolveHfModels(
  service: ReturnType<typeof readService>,
  opts: {env: Readonly<Record<string, string | undefined>>; signal?: AbortSignal},
): Promise<PlanHfModel[]> {
  const out = new Map<string, PlanHfModel>()
  for (const svc of service.services) {
    for (const m of svc.models) {
      if (m.registry !== 'huggingface') continue
      const key = hfKey(m.tag, m.hf)
      if (out.has(key)) continue
      const site = {file: svc.file, line: m.line ?? svc.line}
      const {resolveHfModel} = await import('./hf-models.js')
      out.set(key, await resolveHfModel(m.tag, m.hf, {env: opts.env, site, ...(opts.signal ? {signal: opts.signal} : {})}))
    }
  }
  return [...out.values()]
}

/**
 * The build context as BentoML's image SDK reads files (`resolve_user_filepath`, 1.4.34 rules), with
 * `requirements_txt` answered by its inlined text (nested -r/-c files included, see readExtras).
 */
function projectImageFiles(projectDir: string, extras: Parameters<typeof planBuild>[0]['extras']): ImageFiles {
  const ctx = realpathSync(projectDir)
  const files = imageFilesFor(ctx, {
    realpath: (abs) => {
      try {
        return realpathSync(abs)
      } catch {
        return undefined
      }
    },
    readText: (abs) => {
      try {
        return readFileSync(abs, 'utf8')
      } catch {
        return undefined
      }
    },
  })
  const req = extras.requirementsTxt
  return {
    read: (p) => {
      const r = files.read(p)
      return 'text' in r && req !== undefined && r.rel === req.rel.split(sep).join('/') ? {rel: r.rel, text: req.text, sites: req.sites} : r
    },
  }
}

/** The command line's Bento arguments: the `--arg-file` read as PyYAML reads it. Bad input is a usage error (exit 2), as BentoML's. */
async function readArgSources(args: BuildOptions['args']): Promise<BentoArgSource[]> {
  if (!args) return []
  const out: BentoArgSource[] = []
  for (const kind of args.order) {
    if (kind === 'arg') {
      out.push({kind, values: args.values})
      continue
    }
    const file = args.file ?? ''
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      throw new UsageError(`--arg-file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read'}`, {
        hint: 'pass a YAML file of `name: value` lines',
      })
    }
    const parsed = parseYamlSource(text, file)
    const bad = parsed.diagnostics.find((d) => d.severity === 'error')
    if (bad) throw new UsageError(`--arg-file ${file}: Invalid YAML file: ${formatDiagnostic(bad)}`, {hint: 'fix the YAML, or pass the values with --arg KEY=VALUE'})
    out.push({kind, path: file, data: parsed.empty ? null : parsed.value})
  }
  return out
}

function mergeArgs(sources: readonly BentoArgSource[], configArgs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return mergeBentoArgs(sources, configArgs)
  } catch (error) {
    if (error instanceof BentoArgError) throw new UsageError(error.message, {hint: error.hint})
    throw error
  }
}

/**
 * The options BentoML merges into an SDK image: the bentofile before `with_defaults()` (Bento.create merges first,
 * then fills the defaults), so an unset docker.distro / docker.python_version / python.lock_packages /
 * python.pack_git_packages leaves the image's own value (`Image(python_version="3.12")` stays 3.12).
 */
function beforeDefaults(config: BuildConfig, raw: {docker?: {distro?: string | null; python_version?: string | null}; python?: {lock_packages?: boolean | null; pack_git_packages?: boolean | null}}): ImageBuildConfig {
  return {
    ...config,
    docker: {...config.docker, distro: raw.docker?.distro ?? null, python_version: raw.docker?.python_version ?? null},
    python: {...config.python, lock_packages: raw.python?.lock_packages ?? null, pack_git_packages: raw.python?.pack_git_packages ?? null},
  }
}

/**
 * The image of an SDK service's Bento: BentoML's `populate_image_from_build_config(svc.image, bentofile)`. Null when
 * there is no SDK image and the bentofile forces spec 1 (conda, cuda_version, dockerfile_template, wheels), as
 * BentoML. Script digests are filled in by the caller.
 */
function sdkImage(
  configFile: string,
  config: ImageBuildConfig,
  sdk: Image | null,
  options: ImageOptions,
  ctxAbs: string,
): PlanImage | null {
  let merged
  try {
    merged = populateImageFromBuildConfig(sdk, config, options)
  } catch (error) {
    if (error instanceof ImageMergeError) throw new ConfigError(`${configFile}: ${error.message}`, [error.rule.toDiagnostic({file: configFile, key: error.key})])
    throw error
  }
  // The merge's own warnings ("not supported by bento v2") are reported at their key's line by bentoV2Warnings.
  if (merged.image === null) return null
  const img = merged.image
  const warnings: Diagnostic[] = []
  if (merged.bentomlDrops.includes('scripts')) {
    warnings.push({
      file: configFile,
      key: 'docker.setup_script',
      severity: 'warning',
      message: 'BentoML 1.4.40 loses the run_script files of an SDK image when it merges the bentofile into it; bento keeps them',
    })
  }
  const scripts: PlanImage['scripts'] = [...img.scripts].map(([rel, target]) => ({from: join(ctxAbs, rel), target, sha256: ''}))
  return {info: img.info(), lockPackages: img.lock_python_packages, scripts, warnings, saysPythonVersion: img.saysPythonVersion, requirementSites: img.requirementSites}
}
