import {stringify} from 'yaml'

import type {CondaOptions, DockerOptions, PythonOptions} from '../config/types.js'

/** A `models:` / `services[].models` entry (`BentoModelInfo`): alias, registry and metadata only when set. */
export interface BentoModelEntry {
  tag: string
  module: string | null
  creation_time: string
  alias?: string
  registry?: string
  metadata?: Record<string, unknown>
}

/** A `services:` entry (`BentoServiceInfo`): `service` is always `''` as BentoML writes it. */
export interface BentoServiceEntry {
  name: string
  service: string
  models: BentoModelEntry[]
  dependencies: Array<Record<string, string>>
  config: Record<string, unknown>
}

/**
 * bento.yaml: exactly the keys the target BentoML knows, in the order it writes them (bentoml-format.md §6,
 * bentoml-1.4.40.md §1b). Every string scalar is quoted: PyYAML reads YAML 1.1, where `no`, `3.11` or an
 * all-digit version would otherwise turn into a bool or a number.
 */
interface BentoManifestBase {
  service: string
  name: string
  version: string
  bentoml_version: string
  creation_time: string
  labels: Record<string, string>
  /** Legacy: the service's and its runners' models (or the bentofile's). SDK: the bentofile's `models:` only. */
  models: BentoModelEntry[]
  entry_service: string
  services: BentoServiceEntry[]
  /** `stage` from BentoML 1.4.31 on. */
  envs: Array<{name: string; value: string; stage?: string}>
  schema: Record<string, unknown>
  args: Record<string, unknown>
}

/** Spec 1: legacy services, and SDK services whose bentofile forces it (conda, cuda_version, dockerfile_template, wheels). */
export interface BentoManifestV1 extends BentoManifestBase {
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
  python: Omit<PythonOptions, 'is_src_layout'> & {is_src_layout?: boolean}
  conda: CondaOptions
}

/** Spec 2: SDK services with an image (`BentoInfoV2`). */
export interface BentoManifestV2 extends BentoManifestBase {
  spec: 2
  /** `ImageInfo`: base_image, python_version, commands, python_requirements, post_commands, build_include (1.4.31, 1.4.36+). */
  image: Record<string, unknown>
}

export type BentoManifest = BentoManifestV1 | BentoManifestV2

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
