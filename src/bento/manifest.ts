import {stringify} from 'yaml'

/**
 * bento.yaml, spec 1, exactly the keys BentoML 1.4.15 knows, in the order it writes them
 * (bentoml-format.md §6). Every string scalar is quoted: PyYAML reads YAML 1.1, where `no`, `3.11`
 * or an all-digit version would otherwise turn into a bool or a number.
 */
export interface BentoManifest {
  service: string
  name: string
  version: string
  bentoml_version: string
  creation_time: string
  labels: Record<string, string>
  models: Array<{tag: string; module: string; creation_time: string; alias?: string}>
  entry_service: string
  services: unknown[]
  envs: Array<{name: string; value: string}>
  schema: Record<string, unknown>
  args: Record<string, unknown>
  spec: 1
  runners: Array<{
    name: string
    runnable_type: string
    embedded: boolean
    models: string[]
    resource_config: null
  }>
  apis: Array<{name: string; input_type: string; output_type: string}>
  docker: {
    distro: string
    python_version: string
    cuda_version: string | null
    env: Record<string, string> | null
    system_packages: string[] | null
    setup_script: string | null
    base_image: string | null
    dockerfile_template: string | null
  }
  python: {
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
  }
  conda: {
    environment_yml: string | null
    channels: string[] | null
    dependencies: unknown[] | null
    pip: string[] | null
  }
}

/** Serialize any object the way BentoML's readers (PyYAML safe_load, YAML 1.1) read back unchanged. */
export function dumpYaml(value: unknown): string {
  return stringify(value, {
    defaultStringType: 'QUOTE_SINGLE',
    defaultKeyType: 'PLAIN',
    nullStr: 'null',
    lineWidth: 0,
    indentSeq: false,
  })
}

export function dumpManifest(m: BentoManifest): string {
  return dumpYaml(m)
}

/** `datetime.isoformat()` of an aware UTC datetime with microseconds: `2025-05-30T10:20:30.123000+00:00`. */
export function isoWithOffset(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00')
}
