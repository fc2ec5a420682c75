import {stringify} from 'yaml'

import type {CondaOptions, DockerOptions, PythonOptions} from '../config/types.js'

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
  /** `stage` from BentoML 1.4.31 on. */
  envs: Array<{name: string; value: string; stage?: string}>
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
  /** Every key BentoML 1.4.15 knows, nulls included (it reads these strictly: no others). */
  docker: Omit<DockerOptions, 'distro' | 'python_version'> & {distro: string; python_version: string}
  /** `is_src_layout` from BentoML 1.4.38 on (older readers reject it). */
  python: PythonOptions & {is_src_layout?: boolean}
  conda: CondaOptions
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
