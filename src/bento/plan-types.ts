/**
 * The build plan's types (./plan.ts): what the build service gathers (PlanInputs) and what the plan hands to the
 * writer (BuildPlan). Their own file so the plan's parts (./requirements.ts) share them without an import cycle.
 */
import type {BuildConfig} from '../config/types.js'
import type {Diagnostic} from '../errors.js'
import type {DockerfileInputs} from './dockerfile-inputs.js'
import type {BentoManifest} from './manifest.js'
import type {PlanHfModel, PlanImage, PlanSdk} from './sdk.js'

/** The part of the normalized bentofile (src/config) the plan reads. */
export type PlanConfig = BuildConfig

export interface PlanFile {
  /** Path relative to the build context, posix. */
  rel: string
  abs: string
  size: number
  mode: number
  sha256: string
  symlinkTarget?: string
}

export interface PlanModel {
  name: string
  version: string
  module: string
  /** model.yaml `creation_time`, verbatim. */
  creationTime: string
  dir: string
  /** Content digest of the model directory. */
  digest: string
  bentomlVersion: string | null
  pythonVersion: string | null
  frameworkVersions: Record<string, string>
  alias?: string
  /** Where the project names the model (a bentofile `models:` entry, or the line of the service code that loads it). */
  at?: {file: string; line?: number; key?: string}
}

export interface PlanService {
  importString: string
  kind: 'legacy' | 'sdk' | 'unknown'
  /** Legacy services: made with `bentoml.Service` (runner-style), `bentoml.legacy.Service` or the internal class. */
  legacyStyle?: 'runner' | 'legacy' | 'internal' | null
  /** Where the service object is created, for messages. */
  file?: string | null
  line?: number | null
  name: string | null
  runners: Array<{name: string; runnableType: string; modelTag: string; embedded: boolean}>
  apis: Array<{name: string; inputType: string; outputType: string}>
}

export interface PlanTemplates {
  entrypoint: string
  renderInstallSh: (opts: {bentomlVersion: string; pipArgs: string[]}) => string
  renderDockerfile: (ctx: DockerfileInputs) => string
  openapi: (opts: {bentoName: string; version: string}) => unknown
}

export interface PlanInputs {
  config: PlanConfig
  /** The bentofile as the user wrote it, relative name for messages. */
  configFile: string
  files: PlanFile[]
  service: PlanService
  models: PlanModel[]
  /** Read by the service: `description: "file: ./x"`, or the project's README.md. */
  readme: {text: string; source: 'description' | 'description-file' | 'project' | 'default'}
  /** Extra files named by the config, already hashed: setup_script, dockerfile_template, wheels, requirements_txt. */
  extras: {
    setupScript?: PlanFile
    dockerfileTemplate?: PlanFile
    wheels: PlanFile[]
    /** Nested -r files inlined; `sites`: where each line of `text` was written (file and line). */
    requirementsTxt?: {rel: string; text: string; sites?: Array<{file: string; line: number}>}
    /** `conda.environment_yml`, copied to env/conda/environment.yml. */
    condaEnvironment?: PlanFile
  }
  now: Date
  /** `--version` */
  versionOverride?: string
  /** `--bentoml-version` */
  bentomlVersionOverride?: string
  /** `@bentoml.service` services: what the static reader found (services, decorator config, schema). */
  sdk?: PlanSdk
  /**
   * SDK services: the image after the bentofile merge (`populate_image_from_build_config`); null when the
   * bentofile forces spec 1 (conda, cuda_version, dockerfile_template, wheels).
   */
  image?: PlanImage | null
  /** Hugging Face models of SDK services, resolved (`HuggingFaceModel.to_info()`). */
  hfModels?: PlanHfModel[]
  /** Variables of the build's environment the service module read (null: not set): they enter the version digest. */
  environment?: Array<{name: string; value: string | null}>
  /** `--name` is not a BentoML flag; name comes from the config or the service. */
  toolVersion: string
  templates: PlanTemplates
  /**
   * The locked requirements (src/lock), where BentoML 1.4.40 holds its lock: spec 2 `env/python/requirements.txt` and
   * `image.python_requirements`, spec 1 `env/python/requirements.lock.txt`; its sha256 in the `dev.bento.lock.sha256` label.
   */
  lock?: {text: string; sha256: string}
}

/** Files whose content is generated; each is written as text at `path` in the Bento. */
export interface PlannedText {
  path: string
  content: string
  mode: number
}

export interface BuildPlan {
  name: string
  version: string
  tag: string
  manifest: BentoManifest
  texts: PlannedText[]
  /**
   * User files copied (or hard-linked) into the Bento at `path`. `mode`: their permission bits as selected (the Bento
   * gets 0755 if one is executable, else 0644); `sourceMode`: set when `mode` is the source file's own (a copy
   * already has those bits: no chmod when they are the Bento's).
   */
  copies: Array<{from: string; path: string; mode: number; sourceMode?: boolean; symlinkTarget?: string}>
  /** Model directories copied into `models/<name>/<version>/`. */
  models: Array<{from: string; path: string; name: string; version: string}>
  requirements: string[]
  warnings: Diagnostic[]
  /** The input digest the version was derived from. */
  digest: string
  /** The image's Python (`X.Y`) and whether its requirements are to be locked (lock_packages / lock_python_packages). */
  pythonVersion: string
  lockPackages: boolean
}
