import {type ScalarTag, stringify, type Tags} from 'yaml'
import {stringTag} from 'yaml/util'

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
  /** `BentoDependencyInfo` mappings; service names for a 1.3.0–1.3.5 target. */
  dependencies: Array<Record<string, string> | string>
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
  /** Not written for a 1.3.x target (no `bentoml.use_arguments`). */
  args?: Record<string, unknown>
}

/** Spec 1: legacy services, and SDK services whose bentofile forces it (conda, cuda_version, dockerfile_template, wheels). */
export interface BentoManifestV1 extends BentoManifestBase {
  /** Absent for a 1.3.0–1.3.9 target (no `spec` key: spec 1 is implied). */
  spec?: 1
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

/**
 * Characters PyYAML (YAML 1.1) cannot take raw in a quoted scalar, or reads back as something else: C0 controls but
 * tab and newline, CR (a line break), DEL and C1 controls (its reader refuses them: "unacceptable character"; NEL
 * \x85 is a line break and folds into a space), the line and paragraph separators, the BOM, U+FFFE/U+FFFF and
 * lone surrogates. A string holding one is written double-quoted with PyYAML's escapes (see `pyDoubleQuoted`).
 */
const PYYAML_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** PyYAML's `ESCAPE_REPLACEMENTS` (emitter.py). */
const PY_ESCAPES: Record<string, string> = {
  '\0': '0',
  '\x07': 'a',
  '\b': 'b',
  '\t': 't',
  '\n': 'n',
  '\v': 'v',
  '\f': 'f',
  '\r': 'r',
  '\x1b': 'e',
  '"': '"',
  '\\': '\\',
  '\x85': 'N',
  '\xa0': '_',
  '\u2028': 'L',
  '\u2029': 'P',
}

/**
 * A double-quoted scalar as PyYAML's emitter writes it (`write_double_quoted` with allow_unicode, which bento.yaml
 * is: UTF-8): printable characters as they are; `"`, `\`, NEL, the separators, the BOM and everything unprintable
 * escaped (`\N`, `\L`, `\x80`, `\uFEFF`, `\U0001F600` for a code point past U+FFFF), one line. PyYAML's own
 * allow_unicode output writes NEL raw in single quotes, where it reads back as a space: this does not.
 */
export function pyDoubleQuoted(value: string): string {
  let out = '"'
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0
    const printable = (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd)
    if (printable && !'"\\\x85\u2028\u2029\ufeff'.includes(ch)) out += ch
    else if (PY_ESCAPES[ch] !== undefined) out += `\\${PY_ESCAPES[ch]}`
    else if (cp <= 0xff) out += `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}`
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`
    else out += `\\U${cp.toString(16).toUpperCase().padStart(8, '0')}`
  }
  return `${out}"`
}

/** YAML's `str` tag, writing PyYAML-unsafe strings (keys and values) as `pyDoubleQuoted`. */
const plainString = stringTag.stringify
const PYYAML_SAFE_STR: ScalarTag = {
  ...stringTag,
  stringify: (item, ctx, onComment, onChompKeep) =>
    typeof item.value === 'string' && PYYAML_UNSAFE.test(item.value)
      ? pyDoubleQuoted(item.value)
      : (plainString?.(item, ctx, onComment, onChompKeep) ?? String(item.value)),
}

function pyyamlSafeTags(tags: Tags): Tags {
  return tags.map((tag) => (tag === stringTag ? PYYAML_SAFE_STR : tag))
}

/** Serialize any object the way BentoML's readers (PyYAML safe_load, YAML 1.1) read back unchanged. */
export function dumpYaml(value: unknown): string {
  return stringify(value, {
    defaultStringType: 'QUOTE_SINGLE',
    defaultKeyType: 'PLAIN',
    nullStr: 'null',
    lineWidth: 0,
    indentSeq: false,
    customTags: pyyamlSafeTags,
  })
}

export function dumpManifest(m: BentoManifest): string {
  return dumpYaml(m)
}

/** `datetime.isoformat()` of an aware UTC datetime with microseconds: `2025-05-30T10:20:30.123000+00:00`. */
export function isoWithOffset(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00')
}
