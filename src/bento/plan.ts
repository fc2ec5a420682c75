import {createHash} from 'node:crypto'
import {posix} from 'node:path'

import {DEFAULT_PYTHON_VERSION} from '../bentoml/config-facts.js'
import {clip} from '../config/context.js'
import {defaultServiceReadme} from '../bentoml/readme.js'
import {formatTag, splitTag} from '../bentoml/tag.js'
import {chooseTarget, type ServiceStyle} from '../bentoml/target.js'
import type {BentomlFacts} from '../bentoml/versions.js'
import {ConfigError, type Diagnostic} from '../errors.js'
import {LOCK_LABEL} from '../lock/label.js'
import {parseBentoYaml} from '../store/info.js'
import {base32Lower} from '../store/tag.js'
import {dockerfileInputsOf} from './dockerfile-inputs.js'
import type {BuildPlan, PlanConfig, PlanInputs, PlanModel, PlannedText, PlanService} from './plan-types.js'
import {bentomlRequirements, buildRequirements, imageRequirements, pipArgs} from './plan-requirements.js'
import {type BentoManifest, type BentoModelEntry, type BentoServiceEntry, dumpManifest, dumpYaml, isoWithOffset} from './manifest.js'
import {dependencyEntry, hfKey, imageBlock, sdkTargetProblems} from './sdk.js'

export type {HfArgs, PlanHfModel, PlanImage, PlanSdk, PlanSdkService} from './sdk.js'
export {hfKey} from './sdk.js'

export type {DockerfileInputs} from './dockerfile-inputs.js'
export type {BuildPlan, PlanConfig, PlanFile, PlanInputs, PlanModel, PlannedText, PlanService, PlanTemplates} from './plan-types.js'
export {requirementName} from './plan-requirements.js'

/**
 * The build plan: everything `bento build` will write, computed as pure data from inputs that the
 * build service has already read from disk. `writeBento` (write.ts) then carries it out.
 * Nothing in this file touches the file system, the clock or the environment.
 */


/**
 * BentoInfo up to 1.3.9 declares `runners` right after `models` (the spec-1 fields moved to a subclass in 1.3.10):
 * the same keys in the order that release writes them.
 */
function runnersAfterModels(manifest: BentoManifest): BentoManifest {
  if (!('runners' in manifest)) return manifest
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(manifest)) {
    if (k === 'runners') continue
    out[k] = v
    if (k === 'models') out.runners = manifest.runners
  }
  return out as unknown as BentoManifest
}

/** `svc.schema()` without `paths` (mounted-app paths), for a target that does not write them (1.3.x). */
function withoutPaths(schema: Record<string, unknown>): Record<string, unknown> {
  const {paths: _paths, ...rest} = schema
  return rest
}

/** Bumped when the layout bento writes changes, so old and new outputs never share a version. */
const FORMAT_EPOCH = 1

/**
 * What a build is before anything is rendered: its identity (name, version from the input digest), target,
 * requirements, Python and every warning the plan gives. A no-op build (a Bento of this version is in the store)
 * stops here (services/build.ts); `planBuild` carries on from it.
 */
export interface PlanIdentity {
  name: string
  version: string
  tag: string
  digest: string
  bentomlVersion: string
  /** 2: an SDK service with its image (spec 2); 1 otherwise. */
  spec: 1 | 2
  requirements: string[]
  pythonVersion: string
  lockPackages: boolean
  warnings: Diagnostic[]
}

interface Head extends PlanIdentity {
  facts: BentomlFacts
  sdk: PlanInputs['sdk']
  image: PlanInputs['image'] | null
  allEnvs: PlanConfig['envs']
  flatten: boolean
}

/** The plan's identity and warnings, without rendering a file (see `PlanIdentity`). */
export function planIdentity(inputs: PlanInputs): PlanIdentity {
  const {facts: _f, sdk: _s, image: _i, allEnvs: _e, flatten: _l, ...identity} = planHead(inputs)
  return identity
}

function planHead(inputs: PlanInputs): Head {
  const {config, service} = inputs
  const warnings: Diagnostic[] = []

  const name = bentoName(config, service)
  const target = chooseTarget({
    style: serviceStyle(service),
    serviceAt: {file: service.file ?? inputs.configFile, ...(service.line ? {line: service.line} : {})},
    requirements: bentomlRequirements(inputs),
    ...(inputs.bentomlVersionOverride === undefined ? {} : {flag: inputs.bentomlVersionOverride}),
    models: inputs.models.map((m) => ({tag: formatTag(m), bentomlVersion: m.bentomlVersion, ...(m.at ? {at: m.at} : {})})),
    configFile: inputs.configFile,
  })
  warnings.push(...target.warnings)
  const bentomlVersion = target.version
  const facts = target.facts
  const sdk = service.kind === 'sdk' ? inputs.sdk : undefined
  if (sdk) {
    const problems = sdkTargetProblems(sdk, config.args ?? {}, facts, {serviceFile: service.file ?? inputs.configFile, ...(service.line ? {serviceLine: service.line} : {}), configFile: inputs.configFile})
    if (problems.length > 0) throw new ConfigError(`${problems[0]!.file}: the service needs a newer BentoML than the target ${bentomlVersion}`, problems)
  }
  // BentoML writes spec 2 for SDK services unless the bentofile forces spec 1 (populate_image_from_build_config);
  // before 1.3.21, spec 1 always (1.3.10–1.3.20 ignore the service's image= with a warning).
  const image = sdk !== undefined && facts.sdkSpec2 ? (inputs.image ?? null) : null
  if (sdk?.imageDeclared === true && !facts.sdkSpec2) {
    warnings.push({
      file: service.file ?? inputs.configFile,
      ...(service.line ? {line: service.line} : {}),
      key: 'image',
      severity: 'warning',
      message: `the service's image= is ignored by BentoML ${bentomlVersion}, which builds @bentoml.service Bentos as spec 1 from the build config (spec 2 needs BENTOML_ENABLE_FEATURES=bento_image before 1.3.21)`,
      hint: 'put the packages and system packages in the build config (python.packages, docker.system_packages), or target 1.3.21 or newer',
    })
  }
  // packages beside requirements_txt: spec 1 ignores them, and so does the image merge from 1.4.19 on; an older
  // spec-2 target installs both (imageRequirements), without the warning.
  const {requirements_txt: requirementsTxt, packages} = config.python
  if (requirementsTxt && packages && packages.length > 0 && (image === null || facts.imageIgnoresPackagesWithRequirementsTxt)) {
    warnings.push({file: inputs.configFile, key: 'python.packages', severity: 'warning', message: `python.requirements_txt '${clip(requirementsTxt)}' is used, so 'packages' is ignored`, hint: 'move the packages into the requirements file, or remove requirements_txt'})
  }
  if (image) {
    warnings.push(...image.warnings)
    // BentoML's image merge (populate_image_from_build_config) reads neither of these: a spec-2 Bento drops them.
    const ownEnv = config.docker.env !== null && JSON.stringify(config.docker.env) !== JSON.stringify(Object.fromEntries(config.envs.map((e) => [e.name, e.value])))
    if (ownEnv) {
      warnings.push({file: inputs.configFile, key: 'docker.env', severity: 'warning', message: 'docker.env is ignored for a @bentoml.service Bento (spec 2), as by BentoML 1.4.40', hint: 'move the variables to envs: (name/value entries)'})
    }
    if (config.python.pip_args) {
      warnings.push({file: inputs.configFile, key: 'python.pip_args', severity: 'warning', message: 'python.pip_args is ignored for a @bentoml.service Bento (spec 2), as by BentoML 1.4.40', hint: 'use index_url / extra_index_url / find_links / trusted_host, which spec 2 keeps'})
    }
  }
  if (image && sdk?.imageDeclared === true && facts.takesServiceImageAsIs) {
    const c = config
    const given: Array<[string, unknown]> = [
      ['python.requirements_txt', c.python.requirements_txt],
      ['python.packages', c.python.packages],
      ['python.index_url', c.python.index_url],
      ['python.extra_index_url', c.python.extra_index_url],
      ['python.find_links', c.python.find_links],
      ['python.trusted_host', c.python.trusted_host],
      ['python.no_index', c.python.no_index],
      ['docker.system_packages', c.docker.system_packages],
      ['docker.base_image', c.docker.base_image],
      ['docker.setup_script', c.docker.setup_script],
    ]
    for (const [key, v] of given) {
      if (v === null || v === false || (Array.isArray(v) && v.length === 0)) continue
      warnings.push({
        file: inputs.configFile,
        key,
        severity: 'warning',
        message: `BentoML ${bentomlVersion} ignores ${key} for a service with image= (it reads the build config only without one); bento merges it into the image, as BentoML 1.4 does`,
        hint: 'move it into the image (python_packages, requirements_file, system_packages), or target 1.4 or newer',
      })
    }
  }
  const pythonVersion = image ? image.info.python_version : choosePythonVersion(inputs)
  const requirements = image ? imageRequirements(inputs, image, target) : buildRequirements(inputs, target)

  const digest = inputDigest(inputs, name, bentomlVersion, requirements)
  const lockPackages = image ? image.lockPackages : config.python.lock_packages
  const version = inputs.versionOverride ?? versionFromDigest(digest)
  const tag = formatTag({name, version})

  // SDK services: the entry service's envs are appended and its labels merged over the bentofile's (Bento.create).
  const allEnvs = [...(config.envs ?? []), ...(sdk?.envs ?? [])]
  // `stage` exists from 1.4.31 on; older readers would not know it.
  if (!facts.envStage) {
    allEnvs.forEach((e, i) => {
      if (e.stage === 'all') return
      warnings.push({
        file: inputs.configFile,
        key: `envs[${i}].stage`,
        severity: 'warning',
        message: `envs stage "${e.stage}" (${e.name}) exists from BentoML 1.4.31 on; the target ${bentomlVersion} treats the variable as stage "all" (set at build and run time, its value in the image)`,
        hint: 'target 1.4.31 or newer, or drop the variable from the Bento',
      })
    })
  }
  // python.is_src_layout (1.4.38+): files under src/ go to the root of the Bento's src/.
  const flatten = facts.pythonIsSrcLayout && config.python.is_src_layout === true
  warnings.push(...srcLayoutWarnings(inputs, facts, bentomlVersion, flatten))
  return {
    name,
    version,
    tag,
    digest,
    bentomlVersion,
    spec: image ? 2 : 1,
    requirements,
    pythonVersion,
    lockPackages,
    warnings,
    facts,
    sdk,
    image,
    allEnvs,
    flatten,
  }
}

export function planBuild(inputs: PlanInputs): BuildPlan {
  const {config, service} = inputs
  const {name, version, tag, digest, bentomlVersion, requirements, pythonVersion, lockPackages, warnings, facts, sdk, image, allEnvs, flatten} = planHead(inputs)
  const creationTime = isoWithOffset(inputs.now)
  const envs = allEnvs.map((e) => ({name: e.name, value: e.value ?? '', ...(facts.envStage ? {stage: e.stage} : {})}))
  const labels: Record<string, string> = {...config.labels, ...(sdk?.labels ?? {})}
  const lock = inputs.lock
  const openaiEndpoint = sdk ? openaiEndpointOf(sdk.schema) : undefined
  if (openaiEndpoint !== undefined) labels.openai_endpoint = openaiEndpoint
  const modelEntry = (m: PlanModel, alias?: string): BentoModelEntry => ({
    tag: formatTag(m),
    module: m.module,
    creation_time: m.creationTime,
    ...(alias ? {alias} : {}),
  })
  // Legacy: the models the service and its runners use (or the bentofile's). SDK: the bentofile's `models:` only;
  // the services' own models go under services[].models.
  const topModels = sdk
    ? (config.models ?? []).flatMap((spec) => {
        const m = findModel(inputs.models, spec.tag)
        return m ? [modelEntry(m, spec.alias)] : []
      })
    : inputs.models.map((m) => modelEntry(m, m.alias))
  const services: BentoServiceEntry[] = (sdk?.services ?? []).map((s) => ({
    name: s.name,
    service: '',
    models: s.models.flatMap((ref): BentoModelEntry[] => {
      if (ref.registry === 'huggingface') {
        const hf = (inputs.hfModels ?? []).find((h) => h.key === hfKey(ref.tag, ref.hf))
        return hf ? [{tag: hf.tag, module: null, creation_time: creationTime, registry: 'huggingface', metadata: {...hf.metadata}}] : []
      }
      const m = findModel(inputs.models, ref.tag)
      return m ? [modelEntry(m)] : []
    }),
    // Up to 1.3.5 a dependency is the service's name (sdkTargetProblems refuses the others).
    dependencies: s.dependencies.map((d) => (facts.dependencyInfo ? dependencyEntry(d) : (d.service ?? ''))),
    config: s.config,
  }))
  const base = {
    service: service.importString,
    name,
    version,
    bentoml_version: bentomlVersion,
    creation_time: creationTime,
    labels: lock ? {...labels, [LOCK_LABEL]: lock.sha256} : labels,
    models: topModels,
    entry_service: sdk?.services[0]?.name ?? service.name ?? name,
    services,
    envs,
    schema: facts.schemaPaths ? (sdk?.schema ?? {}) : withoutPaths(sdk?.schema ?? {}),
    ...(facts.bentoArgs ? {args: {...config.args}} : {}),
  }
  const manifest: BentoManifest = image
    ? {
        ...base,
        spec: 2,
        image: {
          ...imageBlock(image.info, lock ? lock.text : requirements.join('\n') + '\n', facts),
          ...(facts.imageScripts ? {scripts: Object.fromEntries(image.scripts.map((sc) => [sc.from, sc.target]))} : {}),
        },
      }
    : {
        ...base,
        ...(facts.specKey ? {spec: 1 as const} : {}),
        // BentoInfo for a non-legacy service (spec-1 fallback of an SDK service): runners and apis are empty lists.
        runners: (service.kind === 'sdk' ? [] : service.runners).map((r) => ({
          name: r.name,
          runnable_type: r.runnableType,
          embedded: r.embedded,
          models: r.modelTag ? [resolveRunnerModel(r.modelTag, inputs.models)] : [],
          resource_config: null,
        })),
        apis: (service.kind === 'sdk' ? [] : service.apis).map((a) => ({name: a.name, input_type: a.inputType, output_type: a.outputType})),
        docker: {
          distro: config.docker.distro ?? 'debian',
          python_version: pythonVersion,
          cuda_version: config.docker.cuda_version,
          env: dockerEnvOption(config, allEnvs),
          system_packages: config.docker.system_packages,
          setup_script: config.docker.setup_script,
          base_image: config.docker.base_image,
          dockerfile_template: config.docker.dockerfile_template,
        },
        python: {
          requirements_txt: config.python.requirements_txt,
          packages: config.python.packages,
          lock_packages: config.python.lock_packages,
          pack_git_packages: config.python.pack_git_packages,
          index_url: config.python.index_url,
          no_index: config.python.no_index,
          trusted_host: config.python.trusted_host,
          find_links: config.python.find_links,
          extra_index_url: config.python.extra_index_url,
          pip_args: config.python.pip_args,
          wheels: config.python.wheels,
          // 1.4.38+ always writes it; older readers reject the key (python options are strict).
          ...(facts.pythonIsSrcLayout ? {is_src_layout: config.python.is_src_layout ?? false} : {}),
        },
        conda: {
          environment_yml: config.conda.environment_yml,
          channels: config.conda.channels,
          dependencies: config.conda.dependencies,
          pip: config.conda.pip,
        },
      }

  const texts: PlannedText[] = []
  const text = (path: string, content: string, mode = 0o644): void => {
    texts.push({path, content, mode})
  }

  const bentoYaml = dumpManifest(facts.specKey ? manifest : runnersAfterModels(manifest))
  text('bento.yaml', bentoYaml)
  // The README the Bento holds: also the stored Dockerfile's description label, as containerize reads it back.
  const readme =
    sdk && inputs.readme.source === 'default'
      ? defaultServiceReadme({serviceName: base.entry_service, version: inputs.versionOverride, bentomlVersion})
      : inputs.readme.text
  text('README.md', readme)
  // BentoML writes the filled build config into src/; a user bentofile.yaml that `include` selects wins.
  if (!inputs.files.some((f) => f.rel === 'bentofile.yaml')) {
    text('src/bentofile.yaml', dumpYaml(sortKeysDeep(filledConfigFor(config, allEnvs, labels, facts))))
  }
  text('apis/openapi.yaml', dumpYaml(inputs.templates.openapi({bentoName: name, version})))
  if (sdk) text('apis/schema.json', JSON.stringify(sdk.schema, null, 2))
  if (image) {
    // Spec 2 (Image.freeze): requirements.in and requirements.txt (the lock; unlocked: the same lines), no install.sh.
    if (facts.requirementsIn) text('env/python/requirements.in', requirements.join('\n') + '\n')
    text('env/python/requirements.txt', lock ? lock.text : requirements.join('\n') + '\n')
  } else {
    text('env/python/version.txt', fullPythonVersion(inputs, pythonVersion))
    text('env/python/requirements.txt', requirements.join('\n') + '\n')
    if (lock) text('env/python/requirements.lock.txt', lock.text)
    text(
      'env/python/install.sh',
      inputs.templates.renderInstallSh({bentomlVersion, pipArgs: pipArgs(config)}),
      0o755,
    )
  }
  text('env/docker/entrypoint.sh', inputs.templates.entrypoint, 0o755)
  const copies: BuildPlan['copies'] = inputs.files.map((f) => ({
    from: f.abs,
    path: posix.join('src', flatten && f.rel.startsWith('src/') ? f.rel.slice(4) : f.rel),
    mode: f.mode,
    sourceMode: true,
    ...(f.symlinkTarget === undefined ? {} : {symlinkTarget: f.symlinkTarget}),
  }))
  if (image) {
    for (const sc of image.scripts) copies.push({from: sc.from, path: posix.normalize(sc.target), mode: 0o755})
  } else if (inputs.extras.setupScript) {
    copies.push({from: inputs.extras.setupScript.abs, path: 'env/docker/setup_script', mode: 0o755})
  }
  // conda (spec 1): environment_yml copied, else dependencies/pip/channels written, as CondaOptions.write_to_bento.
  if (!image && inputs.extras.condaEnvironment) {
    copies.push({from: inputs.extras.condaEnvironment.abs, path: 'env/conda/environment.yml', mode: 0o644})
  } else if (!image && !config.conda.environment_yml) {
    const deps: unknown[] = [...(config.conda.dependencies ?? [])]
    if (config.conda.pip) deps.push({pip: config.conda.pip})
    if (deps.length > 0) text('env/conda/environment.yml', dumpYaml({channels: config.conda.channels ?? ['conda-forge'], dependencies: deps}))
  }
  if (inputs.extras.dockerfileTemplate && !image) {
    copies.push({from: inputs.extras.dockerfileTemplate.abs, path: 'env/docker/Dockerfile.template', mode: 0o644})
  }
  for (const w of image ? [] : inputs.extras.wheels) {
    copies.push({from: w.abs, path: posix.join('env/python/wheels', posix.basename(w.rel)), mode: 0o644})
  }

  const models = inputs.models.map((m) => ({
    from: m.dir,
    path: posix.join('models', m.name, m.version),
    name: m.name,
    version: m.version,
  }))
  // `models/<name>/latest` as BentoML writes it: the version, no newline.
  const latestByName = new Map<string, string>()
  for (const m of inputs.models) latestByName.set(m.name, m.version)
  for (const [modelName, modelVersion] of [...latestByName].sort()) {
    text(posix.join('models', modelName, 'latest'), modelVersion)
  }

  // The stored Dockerfile: the same inputs `bento containerize` derives from the stored Bento — the bento.yaml
  // written above read back through the store's parser, the files and the README written above.
  const bentoFiles = [...texts.map((t) => t.path), 'env/docker/Dockerfile', ...copies.map((c) => c.path), ...models.map((m) => `${m.path}/model.yaml`)]
  text('env/docker/Dockerfile', inputs.templates.renderDockerfile(dockerfileInputsOf(parseBentoYaml(bentoYaml), bentoFiles, readme)))

  texts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return {name, version, tag, manifest, texts, copies, models, requirements, warnings, digest, pythonVersion, lockPackages}
}

/** The `python.is_src_layout` warnings: the target does not flatten src/, or the service module is not in the Bento. */
function srcLayoutWarnings(inputs: PlanInputs, facts: BentomlFacts, bentomlVersion: string, flatten: boolean): Diagnostic[] {
  const {service} = inputs
  const out: Diagnostic[] = []
  if (inputs.config.python.is_src_layout === true && !facts.pythonIsSrcLayout) {
    out.push({
      file: inputs.configFile,
      key: 'python.is_src_layout',
      severity: 'warning',
      message: `a src/ layout is flattened into the Bento by BentoML 1.4.38+ only; the target ${bentomlVersion} copies src/ as it is (src/src/…), so imports from src/ fail when served`,
      hint: 'target 1.4.38 or newer (--bentoml-version), or set python.is_src_layout: false and import through src.',
    })
  }
  // BentoML 1.4.40 writes `service` as it imported it from the build context (`src.pkg.service:Svc`) and flattens
  // src/ all the same: `bentoml serve` of the Bento (its src/ the working directory) cannot import that module.
  const serviceModule = service.importString.split(':')[0] ?? ''
  const modulePath = serviceModule.split('.').join('/')
  const inBento = (p: string): boolean => inputs.files.some((f) => (f.rel.startsWith('src/') ? f.rel.slice(4) : f.rel) === p)
  if (flatten && serviceModule !== '' && !inBento(`${modulePath}.py`) && !inBento(`${modulePath}/__init__.py`)) {
    const flat = serviceModule.startsWith('src.') ? `${serviceModule.slice(4)}${service.importString.slice(serviceModule.length)}` : null
    out.push({
      file: inputs.configFile,
      key: 'service',
      severity: 'warning',
      message: `the service module "${serviceModule}" is not in the Bento: a src/ layout puts the files of src/ at the root of the Bento's src/, so \`bentoml serve\` of the Bento cannot import it (BentoML ${bentomlVersion} builds the same Bento)`,
      hint: flat
        ? `name the module as the Bento holds it, service = "${flat}" (bentoml build then needs the project installed, or src/ on PYTHONPATH), or set python.is_src_layout = false to keep src/ in the Bento`
        : 'set python.is_src_layout = false to keep src/ in the Bento',
    })
  }
  return out
}

/** The Bento name: `name:` from the bentofile, else the service's name (BentoML §2). */
export function bentoName(config: PlanConfig, service: PlanService): string {
  const raw = config.name ?? service.name ?? ''
  return raw.toLowerCase()
}

/** How the service is written, for the target rule (src/bentoml/target.ts). */
export function serviceStyle(service: Pick<PlanService, 'kind' | 'legacyStyle'>): ServiceStyle {
  if (service.kind === 'sdk') return 'sdk'
  if (service.kind === 'legacy') return service.legacyStyle === 'legacy' ? 'legacy' : service.legacyStyle === 'internal' ? 'unknown' : 'runner'
  return 'unknown'
}

function choosePythonVersion(inputs: PlanInputs): string {
  const configured = inputs.config.docker.python_version
  if (configured) return configured
  const fromModel = inputs.models.map((m) => m.pythonVersion).find((v) => v && /^\d+\.\d+/.test(v))
  if (fromModel) return fromModel.split('.').slice(0, 2).join('.')
  return DEFAULT_PYTHON_VERSION
}

function fullPythonVersion(inputs: PlanInputs, pythonVersion: string): string {
  const exact = inputs.models.map((m) => m.pythonVersion).find((v) => v && v.startsWith(`${pythonVersion}.`))
  return exact ?? pythonVersion
}

/** The `openai_endpoint` label BentoML adds when a route ends in `/chat/completions` (its prefix). */
function openaiEndpointOf(schema: Record<string, unknown>): string | undefined {
  const paths = schema.paths
  if (paths === null || typeof paths !== 'object') return undefined
  const hit = Object.keys(paths).find((p) => p.endsWith('/chat/completions'))
  return hit === undefined ? undefined : hit.slice(0, -'/chat/completions'.length)
}

/**
 * `docker.env` as `with_defaults` fills it: the bentofile's own, else every env entry (the bentofile's and, for SDK
 * services, the entry service's). The normalized config has already filled it from the bentofile's envs.
 */
function dockerEnvOption(config: PlanConfig, allEnvs: ReadonlyArray<{name: string; value: string}>): Record<string, string> | null {
  const own = config.docker.env
  const fromBentofileEnvs = Object.fromEntries(config.envs.map((e) => [e.name, e.value]))
  const filled = own !== null && JSON.stringify(own) === JSON.stringify(fromBentofileEnvs)
  if (own !== null && !filled) return {...own}
  return allEnvs.length > 0 ? Object.fromEntries(allEnvs.map((e) => [e.name, e.value])) : null
}

/** Python options with `is_src_layout` only for targets that read it (filled: false when not set). */
function pythonFor(p: PlanConfig['python'], facts: BentomlFacts): Record<string, unknown> {
  const {is_src_layout: srcLayout, ...rest} = p
  return facts.pythonIsSrcLayout ? {...rest, is_src_layout: srcLayout ?? false} : rest
}

/** The filled build config BentoML writes to `src/bentofile.yaml`, with only the keys the target reads. */
function filledConfigFor(
  config: PlanConfig,
  allEnvs: PlanConfig['envs'],
  labels: Record<string, string>,
  facts: BentomlFacts,
): Record<string, unknown> {
  const {args, ...rest} = config
  return {
    ...rest,
    // BentoBuildConfig has `args` from 1.4 on (versions.ts bentoArgs).
    ...(facts.bentoArgs ? {args} : {}),
    docker: {...config.docker, env: dockerEnvOption(config, allEnvs)},
    labels,
    envs: allEnvs.map((e) => (facts.envStage ? {name: e.name, value: e.value, stage: e.stage} : {name: e.name, value: e.value})),
    python: pythonFor(config.python, facts),
    models: config.models ?? [],
  }
}

/** The resolved model a tag as written in the service code names (`name`, `name:latest`, a version prefix). */
export function findModel<M extends Pick<PlanModel, 'name' | 'version'>>(models: M[], tag: string): M | undefined {
  const {name, version} = splitTag(tag)
  return models.find((m) => m.name === name && (version === null || version === '' || version === 'latest' || m.version.startsWith(version)))
}

function resolveRunnerModel(tag: string, models: PlanModel[]): string {
  const hit = findModel(models, tag)
  return hit ? formatTag(hit) : tag
}

/** Digest of everything that determines the Bento's content. Same inputs → same digest → same version. */
function inputDigest(inputs: PlanInputs, name: string, bentomlVersion: string, requirements: string[]): string {
  const h = createHash('sha256')
  const feed = (v: unknown): void => {
    h.update(JSON.stringify(v))
    h.update('\0')
  }
  feed({epoch: FORMAT_EPOCH, tool: inputs.toolVersion.split('.').slice(0, 2).join('.')})
  feed({name, bentomlVersion, requirements})
  feed(sortKeysDeep(inputs.config))
  feed(inputs.service)
  for (const f of inputs.files) feed([f.rel, f.mode & 0o111 ? 'x' : '-', f.symlinkTarget ?? f.sha256])
  for (const m of inputs.models) feed([m.name, m.version, m.digest, m.alias ?? ''])
  const e = inputs.extras
  feed([e.setupScript?.sha256, e.dockerfileTemplate?.sha256, e.wheels.map((w) => [w.rel, w.sha256])])
  if (e.condaEnvironment) feed(['conda', e.condaEnvironment.sha256])
  feed(inputs.readme)
  if (inputs.sdk) feed(inputs.sdk)
  if (inputs.image) feed([inputs.image.info, inputs.image.lockPackages, inputs.image.scripts.map((sc) => [sc.target, sc.sha256])])
  for (const hf of inputs.hfModels ?? []) feed([hf.key, hf.tag])
  if (inputs.environment !== undefined && inputs.environment.length > 0) feed(['environment', inputs.environment])
  if (inputs.lock) feed(['lock', inputs.lock.sha256])
  return h.digest('hex')
}

/**
 * BentoML's version format: 10 bytes, base32, lowercase → 16 chars of `[a-z2-7]` (format §2).
 * BentoML takes the bytes from uuid1; we take them from the input digest so the tag is reproducible.
 */
export function versionFromDigest(hexDigest: string): string {
  return base32Lower(Buffer.from(hexDigest.slice(0, 20), 'hex'))
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep)
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeysDeep((v as Record<string, unknown>)[k])]),
    )
  }
  return v
}
