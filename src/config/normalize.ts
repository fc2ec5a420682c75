/**
 * Cross-field rules (`__attrs_post_init__` of the BentoML option classes) and the defaults of
 * `BentoBuildConfig.with_defaults()` at v1.4.15.
 */
import {DEFAULT_DISTRO, DEFAULT_PYTHON_VERSION, DISTRO_SPECS, DISTROS} from '../bentoml/config-facts.js'
import {clip, type DiagnosticCollector} from './context.js'
import type {BuildConfig, CondaOptions, DockerOptions, EnvEntry, ModelSpec, ParseOptions, PythonOptions} from './types.js'

/** What the validator produced: every key optional (absent in the file), values already typed. */
export interface RawConfig {
  service?: string
  name?: string | null
  description?: string | null
  labels?: Record<string, string>
  include?: string[] | null
  exclude?: string[] | null
  docker?: Partial<DockerOptions>
  python?: Partial<Omit<PythonOptions, 'lock_packages' | 'pack_git_packages'>> & {lock_packages?: boolean | null; pack_git_packages?: boolean | null}
  conda?: Partial<CondaOptions>
  models?: ModelSpec[]
  envs?: EnvEntry[]
  args?: Record<string, unknown>
}

const nonEmpty = <T>(value: readonly T[] | null | undefined): value is readonly T[] => value !== null && value !== undefined && value.length > 0

function condaIsEmpty(conda: Partial<CondaOptions>): boolean {
  return !nonEmpty(conda.dependencies) && !nonEmpty(conda.pip) && !nonEmpty(conda.channels) && !conda.environment_yml
}

/** Reports the problems that involve more than one key. */
export function checkSemantics(raw: RawConfig, r: DiagnosticCollector): void {
  const docker = raw.docker ?? {}
  const python = raw.python ?? {}
  const conda = raw.conda ?? {}
  const baseImage = docker.base_image

  if (baseImage !== null && baseImage !== undefined) {
    const ignored = {
      distro: docker.distro !== null && docker.distro !== undefined,
      python_version: docker.python_version !== null && docker.python_version !== undefined,
      cuda_version: docker.cuda_version !== null && docker.cuda_version !== undefined,
      system_packages: nonEmpty(docker.system_packages),
    }
    for (const [key, isSet] of Object.entries(ignored)) {
      if (isSet) r.warn(['docker', key], `docker.base_image '${clip(baseImage)}' is used, so '${key}' is ignored`, `remove docker.${key}, or remove base_image`)
    }
  }

  const distro = docker.distro
  const cuda = docker.cuda_version
  const useConda = !condaIsEmpty(conda)
  const cudaDistros = DISTROS.filter((d) => DISTRO_SPECS[d].cuda)
  const condaDistros = DISTROS.filter((d) => DISTRO_SPECS[d].conda)

  if (cuda && useConda) {
    r.warn(
      ['docker', 'cuda_version'],
      'BentoML does not support using both conda dependencies and setting a CUDA version for GPU',
      'if you need both conda and CUDA, use docker.base_image or docker.dockerfile_template',
    )
  }
  // BentoML checks again after `with_defaults()` (FilledBentoBuildConfig): without a base_image the distro is then
  // debian, so a Python debian cannot have is refused even when the bentofile names no distro.
  const effectiveDistro = distro ?? (baseImage ? undefined : DEFAULT_DISTRO)
  if (distro !== null && distro !== undefined) {
    const spec = DISTRO_SPECS[distro]
    if (cuda && !spec.cuda) {
      r.error(['docker', 'cuda_version'], `Distro "${distro}" does not support CUDA. Distros that support CUDA are: ${cudaDistros.join(', ')}`, `use distro: debian, or remove cuda_version`)
    }
    if (useConda && !spec.conda) {
      r.error(['docker', 'distro'], `${distro} does not support conda. BentoML only supports conda with the following distros: ${condaDistros.join(', ')}`, 'use distro: debian or alpine, or move the packages to python.packages')
    }
  }
  if (effectiveDistro === 'amazonlinux') {
    r.error(['docker', 'distro'], 'distro amazonlinux cannot be built by BentoML 1.4.15: its only Python (3.8) is no longer supported', 'use debian, alpine or ubi8, or set docker.base_image')
  } else if (effectiveDistro !== undefined && docker.python_version) {
    const spec = DISTRO_SPECS[effectiveDistro]
    if (!spec.python.includes(docker.python_version)) {
      r.error(
        ['docker', 'python_version'],
        `${docker.python_version} is not supported for ${effectiveDistro}. Supported python versions are: ${spec.python.join(', ')}.`,
        `use one of ${spec.python.join(', ')}, or docker.base_image for other versions`,
      )
    }
  }

  // python.packages beside requirements_txt: whether they are ignored depends on the target (the plan warns).
  if (python.no_index && (python.index_url || nonEmpty(python.extra_index_url))) {
    r.warn(['python', 'no_index'], "python.no_index is set, so 'index_url' and 'extra_index_url' are ignored when installing packages")
  }

  if (conda.environment_yml !== null && conda.environment_yml !== undefined) {
    for (const key of ['channels', 'dependencies', 'pip'] as const) {
      if (conda[key] !== null && conda[key] !== undefined) {
        r.warn(['conda', key], `conda environment_yml '${clip(conda.environment_yml)}' is used, so '${key}' is ignored`, `remove conda.${key}`)
      }
    }
  } else if (conda.pip !== null && conda.pip !== undefined && (conda.dependencies ?? []).some((d) => typeof d !== 'string')) {
    r.error(['conda', 'pip'], "Cannot have both 'conda.dependencies.pip' and 'conda.pip'", 'keep one of the two pip lists')
  }
}

/** `with_defaults()`: the filled config BentoML builds with (and writes to src/bentofile.yaml). */
export function applyDefaults(raw: RawConfig, options: ParseOptions = {}): BuildConfig {
  const envs = raw.envs ?? []
  const d = raw.docker ?? {}
  const baseImage = d.base_image ?? null
  const docker: DockerOptions = {
    distro: d.distro ?? (baseImage === null ? DEFAULT_DISTRO : null),
    python_version: d.python_version ?? (baseImage === null ? (options.defaultPythonVersion ?? DEFAULT_PYTHON_VERSION) : null),
    cuda_version: d.cuda_version ?? null,
    env: d.env ?? (envs.length > 0 ? Object.fromEntries(envs.map((e) => [e.name, e.value])) : null),
    system_packages: d.system_packages ?? null,
    setup_script: d.setup_script ?? null,
    base_image: baseImage,
    dockerfile_template: d.dockerfile_template ?? null,
  }
  const p = raw.python ?? {}
  const python: PythonOptions = {
    requirements_txt: p.requirements_txt ?? null,
    packages: p.packages ?? null,
    lock_packages: p.lock_packages ?? p.pack_git_packages !== false,
    pack_git_packages: p.pack_git_packages ?? true,
    index_url: p.index_url ?? null,
    no_index: p.no_index ?? null,
    trusted_host: p.trusted_host ?? null,
    find_links: p.find_links ?? null,
    extra_index_url: p.extra_index_url ?? null,
    pip_args: p.pip_args ?? null,
    wheels: p.wheels ?? null,
    is_src_layout: p.is_src_layout ?? null,
  }
  const c = raw.conda ?? {}
  const needsChannels = (nonEmpty(c.dependencies) || nonEmpty(c.pip)) && !nonEmpty(c.channels) && !c.environment_yml
  const conda: CondaOptions = {
    environment_yml: c.environment_yml ?? null,
    channels: needsChannels ? ['conda-forge'] : (c.channels ?? null),
    dependencies: c.dependencies ?? null,
    pip: c.pip ?? null,
  }
  return {
    service: raw.service ?? '',
    name: raw.name ?? null,
    description: raw.description ?? null,
    labels: raw.labels ?? {},
    include: raw.include ?? ['*'],
    exclude: raw.exclude ?? [],
    docker,
    python,
    conda,
    models: nonEmpty(raw.models) ? raw.models : null,
    envs,
    args: raw.args ?? {},
  }
}
