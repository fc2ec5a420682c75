import type {BentomlFacts} from '../bentoml/versions.js'
import type {ImageInfo} from '../bentoml/image.js'
import type {Diagnostic} from '../errors.js'

/**
 * The parts of a Bento that exist for `@bentoml.service` services (BentoML 1.4.40 `Bento.create`): the
 * `services:` entries (`BentoServiceInfo.from_service` over `all_services()`), the spec-2 `image:` block as the
 * target release writes it. Pure. (The default README is BentoML's text: src/bentoml/readme.ts.)
 */

/** One service reachable from the entry service, as the static reader found it (`all_services()` order). */
export interface PlanSdkService {
  name: string
  /** Class-attribute models in `dir()` order, as written (a tag, or a Hugging Face model id and its arguments). */
  models: Array<{tag: string; registry: 'bentoml' | 'huggingface'; hf?: HfArgs}>
  /** `BentoDependencyInfo`: `service` for `bentoml.depends(Svc)`, `url` / `deployment` / `cluster` for remote ones. */
  dependencies: Array<{service?: string; deployment?: string; cluster?: string; url?: string}>
  /** `svc.config`: the decorator's keyword arguments (`resources`, `traffic`, `workers`, …), as BentoML keeps them. */
  config: Record<string, unknown>
}

/** What an SDK service adds to the build. */
export interface PlanSdk {
  services: PlanSdkService[]
  /** The entry service's `labels=`, merged over the bentofile's. */
  labels: Record<string, string>
  /** The entry service's `envs=`, appended to the bentofile's. */
  envs: Array<{name: string; value: string; stage: 'all' | 'build' | 'runtime'}>
  /** The entry service's `description=`, used when the bentofile has none. */
  description: string | null
  /** `svc.schema()`. */
  schema: Record<string, unknown>
  /** The entry service declares `image=` (BentoML 1.3.10–1.3.20 ignore it; before 1.3.10 it does not exist). */
  imageDeclared?: boolean
}

/** `HuggingFaceModel(model_id, revision, endpoint, include, exclude)` besides the id; endpoint null = `$HF_ENDPOINT`. */
export interface HfArgs {
  revision: string
  endpoint: string | null
  include: string[] | null
  exclude: string[] | null
}

/** The key that ties a service's Hugging Face reference to its resolution. */
export function hfKey(id: string, args: HfArgs | undefined): string {
  return JSON.stringify([id, args?.revision ?? 'main', args?.endpoint ?? null, args?.include ?? null, args?.exclude ?? null])
}

/** A resolved Hugging Face model reference (`HuggingFaceModel(...).to_info()`). */
export interface PlanHfModel {
  /** `hfKey` of the reference as written in the service code. */
  key: string
  /** `<model id lowercased, / → -->:<md5 of the metadata>`. */
  tag: string
  metadata: {model_id: string; revision: string; endpoint: string; include: string[] | null; exclude: string[] | null}
}

/** The image an SDK service's Bento is built with (spec 2): BentoML's `Image` after the bentofile merge. */
export interface PlanImage {
  /** `image.info()` before locking. */
  info: ImageInfo
  lockPackages: boolean
  /** `run_script` files: the project file → its target in the Bento (`./env/docker/script__<md5>`). */
  scripts: Array<{from: string; target: string; sha256: string}>
  warnings: Diagnostic[]
  /** The image (or the bentofile merged into it) names its Python: `python_version` or `base_image` set. */
  saysPythonVersion?: boolean
  /** Where each line of `info.python_requirements` was written (the build fills `file`); for messages about a bentoml pin. */
  requirementSites?: Array<{file?: string; line?: number; key?: string}>
}

/** `BentoDependencyInfo` unstructured: `None` fields omitted. */
export function dependencyEntry(d: PlanSdkService['dependencies'][number]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of ['service', 'deployment', 'cluster', 'url'] as const) {
    const v = d[k]
    if (v !== undefined) out[k] = v
  }
  return out
}

/**
 * The `image:` block the target writes. `python_requirements` is what `env/python/requirements.txt` holds: bento
 * does not lock, so it is the requirement lines themselves. Releases before 1.4.29 had no `--force-confdef` in the
 * debian install command; `build_include` exists in 1.4.31 and 1.4.36+.
 */
export function imageBlock(info: ImageInfo, requirementsTxt: string, facts: BentomlFacts): Record<string, unknown> {
  const fixCommand = (c: string): string =>
    facts.aptInstallForceConfdef ? c : c.replace(/^apt-get install -q -y -o Dpkg::Options::=--force-confdef /, 'apt-get install -q -y ')
  return {
    base_image: info.base_image,
    python_version: info.python_version,
    commands: info.commands.map(fixCommand),
    python_requirements: requirementsTxt,
    post_commands: info.post_commands.map(fixCommand),
    ...(facts.imageBuildInclude ? {build_include: info.build_include} : {}),
  }
}

/**
 * What an SDK service asks of its target that the release cannot hold (a 1.3.x target; see versions.ts): each an
 * error at the service (or the build config for `args`), naming the release that has it. BentoML would fail to
 * import the service, or write a Bento that loses it.
 */
export function sdkTargetProblems(
  sdk: PlanSdk,
  args: Record<string, unknown>,
  facts: BentomlFacts,
  at: {serviceFile: string; serviceLine?: number; configFile: string},
): Diagnostic[] {
  const v = facts.version
  const svc = {file: at.serviceFile, ...(at.serviceLine === undefined ? {} : {line: at.serviceLine})}
  const pinHint = 'pin bentoml 1.4.0 or newer (or drop the pin), or remove it from the service'
  const out: Diagnostic[] = []
  if (!facts.serviceLabels && Object.keys(sdk.labels).length > 0) {
    out.push({...svc, key: 'labels', severity: 'error', message: `@bentoml.service(labels=...) exists from BentoML 1.4.0 on; the target ${v} takes labels= as a service config key and writes no Bento labels`, hint: 'move the labels to the build config (labels:), or target 1.4.0 or newer'})
  }
  if (!facts.bentoArgs && Object.keys(args).length > 0) {
    out.push({file: at.configFile, key: 'args', severity: 'error', message: `Bento args (bentoml.use_arguments, args:, --arg) exist from BentoML 1.4.0 on; the target ${v} has none`, hint: pinHint})
  }
  if (!facts.rootInput) {
    const routes = Array.isArray(sdk.schema.routes) ? (sdk.schema.routes as Array<{name?: unknown; input?: {root_input?: unknown}}>) : []
    for (const r of routes.filter((x) => x.input?.root_input === true)) {
      out.push({...svc, key: 'api', severity: 'error', message: `API ${String(r.name)}: a positional-only parameter (the whole request body) exists from BentoML 1.4.0 on; the target ${v} reads it as a named field`, hint: 'make the parameter an ordinary one (drop the `/`), or target 1.4.0 or newer'})
    }
  }
  if (!facts.sdkImage && sdk.imageDeclared === true) {
    out.push({...svc, key: 'image', severity: 'error', message: `bentoml.images and @bentoml.service(image=...) exist from BentoML 1.3.10 on; the target ${v} cannot import the service`, hint: 'move the image settings to the build config (python.packages, docker.*), or target 1.3.10 or newer'})
  }
  for (const s of sdk.services) {
    if (!facts.dependencyInfo && s.dependencies.some((d) => d.service === undefined)) {
      out.push({...svc, key: 'depends', severity: 'error', message: `${s.name}: bentoml.depends(url=/deployment=) exists from BentoML 1.3.6 on; the target ${v} records dependencies by service name only`, hint: 'target 1.3.6 or newer'})
    }
    if (!facts.huggingfaceModels && s.models.some((m) => m.registry === 'huggingface')) {
      out.push({...svc, key: 'models', severity: 'error', message: `${s.name}: HuggingFaceModel exists from BentoML 1.3.6 on; the target ${v} cannot import the service`, hint: 'target 1.3.6 or newer'})
    }
  }
  return out
}
