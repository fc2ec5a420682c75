import {availableParallelism} from 'node:os'
import {readFile} from 'node:fs/promises'
import {realpathSync} from 'node:fs'
import {relative} from 'node:path'

import {hashFile} from './digest.js'
import {beforeDefaults, bentoV2Warnings, envReadWarning, projectDotenvs, projectImageFiles, projectRead, readExtras, readReadme, sdkImage} from './project-reads.js'
import type {EvaluateOptions, Evaluations} from '../python/eval/evaluate.js'
import type {SdkConfigResult} from '../python/service/sdk-config.js'
import {type ReadServiceOptions, readService, type ServiceInfo} from '../python/service/service.js'
import {type ResolvedModel, resolveModels} from './resolve-models.js'
import type {SdkServiceConfig} from '../python/service/sdk-config.js'
import type {EnvRead} from '../python/eval/evaluate.js'
import type {HfModelOptions} from '../python/service/service.js'
import {moduleSpace} from '../python/service/module-space.js'
import {prefixSchema} from '../python/service/sdk-schema.js'
import {toSnakeCase} from '../bentoml/names.js'
import {TAG_RULE} from '../bentoml/tag.js'
import {selectFiles} from './files.js'
import {findModel, type PlanFile, type PlanInputs, type PlanModel} from './plan.js'
import {type BuildConfig, loadBuildConfig} from '../config/index.js'
import {nearestDotenv} from '../config/dotenv.js'
import {locateDiagnostics, projectSite, withLines} from '../config/locate.js'
import {projectPythonDiagnostic} from '../config/project-python.js'
import {bentoTemplates} from './templates.js'
import {openApiFor, runnableTypeForModule} from '../python/index.js'
import {ConfigError, type Diagnostic, NotFoundError} from '../errors.js'
import type {Reporter} from '../reporter.js'
import {isDirectory} from '../store/fs-utils.js'
import {ensureHome} from '../store/home.js'
import {recoverHome} from '../store/recover.js'
import {isValidTagPart} from '../store/tag.js'
import {TOOL_VERSION} from '../version.js'
import {type BuildArgs, mergeArgs, readArgSources} from './build-args.js'

/** What the gather step reads its inputs from (services/build.ts passes its options). */
export interface GatherOptions {
  projectDir: string
  /** `-f`: a bentofile.yaml or pyproject.toml, absolute or relative to projectDir. */
  bentofile?: string
  home: string
  /** `--version`: the Bento's version instead of the one from the input digest. */
  version?: string
  /** `--bentoml-version`: the target BentoML release. */
  bentomlVersion?: string
  signal?: AbortSignal
  /**
   * The environment of the build: `${VAR}` in a `docker.env` dotenv file expands from it, as BentoML reads os.environ;
   * `HF_ENDPOINT` and `HF_TOKEN` for Hugging Face models; `os.environ`/`os.getenv` in the service module read it.
   */
  env?: Readonly<Record<string, string | undefined>>
  /** `--arg`/`--arg-file`, merged over the build config's `args`. */
  args?: BuildArgs
}

/** What `bento build` gathered: the plan's inputs, and what the lock and the result need besides. */
export interface Gathered {
  loaded: Awaited<ReturnType<typeof loadBuildConfig>>
  /** The build config with the command line's `--arg`/`--arg-file` merged into its `args`. */
  config: BuildConfig
  /** The build config file, relative to the project when inside it. */
  configFile: string
  files: PlanFile[]
  models: ResolvedModel[]
  envRead: EnvRead[]
  /** The entry SDK service's decorator values, as the evaluator read them (undefined for a runner-style service). */
  entryConfig: SdkServiceConfig | undefined
  planInputs: PlanInputs
  /** Runs a step whose ConfigError about the config file gets the line of its key. */
  inConfig: <T>(step: () => Promise<T>) => Promise<T>
}

/**
 * The gather step of `bento build`: everything the plan is made from, read from the project, the model store, the
 * service code (static reading and the bounded evaluator) and the Hugging Face hub. Warnings are pushed to
 * `warnings`; problems are typed errors at their line.
 */
export async function gatherBuild(
  opts: GatherOptions,
  reporter: Reporter,
  warnings: Diagnostic[],
  checkAbort: () => void,
  now: Date,
): Promise<Gathered> {
  const {projectDir} = opts
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
  // Read before the service: the module evaluation (shared by the Hugging Face reader, the schema and the decorators)
  // sees the image files the build config names and the project's .env files.
  const extras = await inConfig(() => readExtras(projectDir, configFile, config))
  const imageFiles = projectImageFiles(projectDir, extras)
  // The project's Python (requires-python / .python-version) stands in for BentoML's "the Python running the build".
  const defaultPython = loaded.python?.version ? {defaultPythonVersion: loaded.python.version} : {}
  const dotenvs = await projectDotenvs(projectDir, [...sources.keys()].map((f) => space.projectFile(f)))
  const {service, sdk: read} = await readServiceInputs({
    files: sources,
    service: config.service,
    declaredModels: config.models?.map((m) => m.tag),
    configFile,
    isProjectFile: space.isProjectFile,
    cpuCount: availableParallelism(),
    evaluate: {
      files: sources,
      args: config.args,
      imageFiles,
      ...defaultPython,
      environ: opts.env ?? {},
      dotenv: (file) => nearestDotenv(dotenvs, space.projectFile(file)),
    },
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
  // Loaded only for a service that names a Hugging Face model (start-up).
  const hasHf = sdkEntry !== undefined && service.services.some((s) => s.models.some((m) => m.registry === 'huggingface'))
  const hfModels = hasHf ? await (await import('../bento/huggingface/resolve.js')).resolveHfModels(service, {env: opts.env ?? {}, ...(opts.signal ? {signal: opts.signal} : {})}) : []
  checkAbort()

  // SDK services: what the decorators say (config, envs, labels, description, image), by the safe evaluator.
  let sdkConfigs: SdkServiceConfig[] = []
  let envRead: EnvRead[] = []
  if (sdkEntry && read) {
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
  return {loaded, config, configFile, files, models, envRead, entryConfig, planInputs, inConfig}
}

export interface ServiceInputsOptions extends Omit<ReadServiceOptions, 'evaluatedHfModel' | 'computedValue'> {
  /** What the modules are evaluated with (files, `args`, `environ`, image files, `.env` finder, default Python). */
  evaluate: Omit<EvaluateOptions, 'module'>
  cpuCount: number
}

export interface ServiceInputs {
  service: ServiceInfo
  /** SDK services whose reading found no error: what their decorators say. */
  sdk?: SdkConfigResult
  /** The module evaluations the build ran (none for a project that needs none), one per module. */
  evaluations?: Evaluations
}

/**
 * The service as the build reads it: discovery and the schema (python/service/), then, for SDK services, the
 * decorators (sdk-config). Every question the static reading cannot answer from literals — a computed Hugging Face
 * model id, a computed schema default, the decorators' arguments — is answered by ONE evaluation per module per build
 * (the bounded interpreter, loaded only when the project names an SDK service or a Hugging Face model: a runner-style
 * build never loads it).
 */
export async function readServiceInputs(opts: ServiceInputsOptions): Promise<ServiceInputs> {
  const needsInterpreter = [...opts.files.values()].some((src) => /HuggingFaceModel|bentoml\.service\b|@service\b|\bimport\b[^\n]*\bservice\b|\bcmd\s*=/.test(src))
  const interpreter = needsInterpreter ? await import('../python/eval/evaluate.js') : undefined
  const evaluations = interpreter ? new interpreter.Evaluations(opts.evaluate) : undefined
  const evaluatedHfModel = (at: {module: string; file: string; line: number; col: number; entryModule?: string}): {modelId: string; options: HfModelOptions} | undefined => {
    // The service module's evaluation imports the modules it imports: ask it first, the call's own module only when
    // that import never reached the call (it stopped at an error before).
    const key = `${at.file}:${at.line}:${at.col}`
    const hit = (at.entryModule === undefined ? undefined : evaluations?.of(at.entryModule).hfModels.get(key)) ?? evaluations?.of(at.module).hfModels.get(key)
    if (hit === undefined || !('modelId' in hit)) return undefined
    const {modelId, ...options} = hit
    return {modelId, options}
  }
  const {evaluate: _evaluate, cpuCount: _cpuCount, ...read} = opts
  const service = readService({
    ...read,
    ...(evaluations ? {evaluatedHfModel, computedValue: (module, e, file) => evaluations.classValue(module, e, file)} : {}),
  })
  const out: ServiceInputs = {service, ...(evaluations ? {evaluations} : {})}
  if (service.kind !== 'sdk' || service.services.length === 0 || service.diagnostics.some((d) => d.severity === 'error')) return out
  const {readSdkConfig} = await import('../python/service/sdk-config.js')
  const evaluation = evaluations?.of(service.module)
  out.sdk = readSdkConfig({
    ...opts.evaluate,
    module: service.module,
    services: service.services.map((x) => ({file: x.file, line: x.line})),
    cpuCount: opts.cpuCount,
    ...(evaluation ? {evaluation} : {}),
  })
  return out
}
