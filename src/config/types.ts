/**
 * The normalized build configuration: BentoML 1.4's `FilledBentoBuildConfig` with every default
 * filled in. Keys are snake_case exactly as BentoML writes them into `src/bentofile.yaml`.
 */

export type Distro = 'debian' | 'alpine' | 'ubi8' | 'amazonlinux'
export type EnvStage = 'all' | 'build' | 'runtime'

/** One `models[]` entry (`ModelSpec`). A plain string `tag` becomes `{tag}`. */
export interface ModelSpec {
  tag: string
  filter?: string
  alias?: string
}

/** One `envs[]` entry (`BentoEnvSchema`). `stage` exists in BentoML v1.4.31+ only. */
export interface EnvEntry {
  name: string
  value: string
  stage: EnvStage
}

export interface DockerOptions {
  /** `debian` unless `base_image` is set (then null unless the user gave one). */
  distro: Distro | null
  /** `major.minor`; the build Python unless `base_image` is set. */
  python_version: string | null
  /** Full CUDA version (`11.6` → `11.6.2`, `default` → `11.6.2`), or null. */
  cuda_version: string | null
  /** Normalized env: a dict (lists and dotenv files are converted), filled from `envs` when unset. */
  env: Record<string, string> | null
  system_packages: string[] | null
  setup_script: string | null
  base_image: string | null
  dockerfile_template: string | null
}

export interface PythonOptions {
  requirements_txt: string | null
  packages: string[] | null
  lock_packages: boolean
  pack_git_packages: boolean
  index_url: string | null
  no_index: boolean | null
  trusted_host: string[] | null
  find_links: string[] | null
  extra_index_url: string[] | null
  pip_args: string | null
  wheels: string[] | null
  /** BentoML 1.4.38+: flatten `src/` into the Bento's src/. null: not set (false unless a pyproject `src` layout). */
  is_src_layout: boolean | null
}

/** A conda dependency: a package spec, or the single `{pip: [...]}` entry. */
export type CondaDependency = string | {pip: string[]}

export interface CondaOptions {
  environment_yml: string | null
  channels: string[] | null
  dependencies: CondaDependency[] | null
  pip: string[] | null
}

export interface BuildConfig {
  service: string
  name: string | null
  description: string | null
  labels: Record<string, string>
  include: string[]
  exclude: string[]
  docker: DockerOptions
  python: PythonOptions
  conda: CondaOptions
  /**
   * null when not given or empty: "use the models the service declares" (BentoML: `if build_config.models:`).
   * BentoML's filled config holds `[]` there; write `[]` when serializing it to src/bentofile.yaml.
   */
  models: ModelSpec[] | null
  envs: EnvEntry[]
  args: Record<string, unknown>
}

export type ConfigKind = 'bentofile' | 'pyproject'

export interface ParseOptions {
  /** `docker.python_version` when the file gives none (BentoML: the Python running the build). Default `3.11`. */
  defaultPythonVersion?: string
  /**
   * Reads a file named in the config (a `docker.env` dotenv path), resolved by the caller against the
   * project directory. Returns undefined when it does not exist. Without it, a dotenv path cannot be
   * resolved and is reported as a warning (env left null).
   */
  readFile?: (path: string) => string | undefined
  /** Variables for `${VAR}` substitution inside a dotenv file (BentoML uses os.environ). */
  environ?: Readonly<Record<string, string | undefined>>
}
