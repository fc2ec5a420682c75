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
