import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'

import {type Document, isMap, isScalar, LineCounter, parseDocument, type YAMLMap} from 'yaml'

import {StoreError} from '../errors.js'
import {pyyamlProblems, pyyamlTextProblems, toJSExpanded} from '../yaml-safety.js'

export interface ModelContext {
  framework_name: string
  framework_versions: Record<string, string>
  /** Optional in model.yaml (BentoML fills in its own version when absent). */
  bentoml_version?: string
  /** Optional in model.yaml (BentoML fills in the reading interpreter's version when absent). */
  python_version?: string
}

export interface ModelSignature {
  batchable: boolean
  batch_dim?: unknown
  input_spec?: unknown
  output_spec?: unknown
  [key: string]: unknown
}

/** `model.yaml` as BentoML's `ModelInfo.from_yaml_file` reads it (§3 of the format doc). */
export interface ModelInfo {
  name: string
  version: string
  module: string
  labels: Record<string, string>
  options: Record<string, unknown>
  metadata: Record<string, unknown>
  context: ModelContext
  signatures: Record<string, ModelSignature>
  api_version: string
  /** `creation_time` as written in the file. */
  creation_time: string
  creationTime: Date
}

/** A `models:` / `services[].models` entry of bento.yaml (`BentoModelInfo`), typed; a pre-1.0.0a7 tag string is `{tag}`. */
export interface BentoModelRef {
  /** As written (`name:version`; the models-of rule lowercases the name). */
  tag: string
  module: string
  creation_time: string
  /** `bentoml` (the default) or `huggingface`; absent when not written. */
  registry?: string
  alias?: string
  /** Hugging Face: `{model_id, revision, endpoint, include, exclude}`. */
  metadata?: Record<string, unknown>
}

/** A `services:` entry of a spec-2 bento.yaml, as far as a reader needs it. */
export interface BentoServiceRef {
  name: string
  models: BentoModelRef[]
}

/** Spec 1 `docker:` (absent keys: null / empty). */
export interface BentoDockerInfo {
  base_image: string | null
  python_version: string | null
  distro: string | null
  cuda_version: string | null
  system_packages: string[]
  /** `docker.env`: a mapping, or a list of `K=V` as older Bentos have it; in order, later names winning. */
  env: Array<{name: string; value: string}>
}

/** Spec 2 `image:` (`ImageInfo`, as far as the Dockerfile needs it). */
export interface BentoImageInfo {
  base_image: string | null
  python_version: string | null
  commands: string[]
  post_commands: string[]
  build_include: string[]
}

/** Spec 1 `conda:` as far as containerize needs it (it builds no conda environment). */
export interface BentoCondaInfo {
  environment_yml: string | null
  dependencies: unknown[]
  pip: unknown[]
}

/**
 * `bento.yaml`, parsed and validated once into this type by `readBentoInfo` / `parseBentoYaml`, read leniently as
 * BentoML's `BaseBentoInfo.from_yaml_file` (only `name` and `version` are required; every other key gets a default).
 * list, get, export, import, containerize, the models-of rule and the Dockerfile inputs take it; `bento build`
 * renders the stored Dockerfile from its own bento.yaml read back through the same parser.
 */
export interface BentoInfo {
  name: string
  version: string
  service: string
  bentoml_version: string
  /** `creation_time` as written in the file ('' when absent). */
  creation_time: string
  /** Parsed `creation_time`; bento.yaml's mtime when the key is absent (BentoML uses "now"). */
  creationTime: Date
  labels: Record<string, string>
  /** 2 when `spec: 2` with an `image:` mapping (an SDK Bento), else 1. */
  spec: 1 | 2
  models: BentoModelRef[]
  services: BentoServiceRef[]
  docker: BentoDockerInfo
  /** Spec 2 only (null for spec 1). */
  image: BentoImageInfo | null
  conda: BentoCondaInfo
  /** `envs:` with `stage` defaulted to `all` (BentoML < 1.4.31 writes none). */
  envs: Array<{name: string; value: string; stage: string}>
  /**
   * Why BentoML's own reader (cattrs, strict) would refuse this file although this lenient one reads it — a Bento
   * that makes `bentoml list` fail for the whole store; import refuses it. Null when BentoML reads it.
   */
  bentomlProblem: {key: string; message: string} | null
  /** The whole document as parsed (YAML 1.1 rules, as PyYAML): what `bento get` shows. Readers take the typed fields. */
  raw: Record<string, unknown>
}

const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/

/**
 * Parse an ISO 8601 date-time as Python's `datetime.fromisoformat` accepts it (plus `Z`). Without an offset the
 * time is local, like a naive Python datetime. Returns null when the text is not a date-time.
 */
export function parseIsoDatetime(text: string): Date | null {
  const m = ISO_DATETIME.exec(text.trim())
  if (!m) return null
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m
  const ms = frac === '' ? 0 : Math.floor(Number(frac.padEnd(6, '0')) / 1000)
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms] as const
  if (parts[1] > 11 || parts[2] < 1 || parts[2] > 31 || parts[3] > 23 || parts[4] > 59 || parts[5] > 59) return null
  if (zone === undefined) return new Date(...parts)
  let offsetMinutes = 0
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'))
  }
  return new Date(Date.UTC(...parts) - offsetMinutes * 60_000)
}

interface Located {
  file: string
  doc: Document.Parsed
  lines: LineCounter
  /** The document as plain data (YAML 1.1 rules, as PyYAML). */
  data: Record<string, unknown>
}

type Kind = 'model' | 'bento'

function corrupt(
  kind: Kind,
  file: string,
  message: string,
  extra: {line?: number; key?: string; cause?: unknown} = {},
): StoreError {
  const where = extra.line === undefined ? file : `${file}:${extra.line}`
  const key = extra.key === undefined ? '' : ` ${extra.key}:`
  const hint =
    kind === 'model'
      ? `The model in ${path.dirname(file)} is unreadable; save it again with BentoML or delete that directory.`
      : `The Bento in ${path.dirname(file)} is unreadable; build it again or delete that directory.`
  return new StoreError(`${where}${key} ${message}`, {
    code: kind === 'model' ? 'E_MODEL_CORRUPT' : 'E_BENTO_CORRUPT',
    cause: extra.cause,
    hint,
    data: {file, line: extra.line, key: extra.key},
  })
}

async function loadYaml(kind: Kind, file: string): Promise<Located> {
  let text: string
  try {
    const bytes = await readFile(file)
    try {
      text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
    } catch (error) {
      throw corrupt(kind, file, `${path.basename(file)} is not valid UTF-8 (BentoML cannot decode it)`, {cause: error})
    }
  } catch (error) {
    if (error instanceof StoreError) throw error
    const code = (error as NodeJS.ErrnoException).code
    const what = code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? String(error)})`
    throw corrupt(kind, file, `${path.basename(file)} ${what}`, {cause: error})
  }
  return parseYaml(kind, file, text)
}

function parseYaml(kind: Kind, file: string, text: string): Located {
  const lines = new LineCounter()
  // PyYAML safe_load follows YAML 1.1 (yes/no booleans, sexagesimal ints, timestamps), so read it that way.
  const doc = parseDocument(text, {version: '1.1', lineCounter: lines, prettyErrors: true, uniqueKeys: false})
  const first = doc.errors[0]
  if (first) {
    // prettyErrors appends " at line L, column C:" and a code frame; the line is reported in front already.
    const message = (first.message.split('\n')[0] ?? '').replace(/\s+at line \d+, column \d+:?\s*$/, '')
    throw corrupt(kind, file, `invalid YAML: ${message}`, {
      line: first.linePos?.[0].line,
      cause: first,
    })
  }
  // What BentoML's reader (PyYAML safe_load) refuses: unknown tags (!!python/…), aliases before their anchor,
  // merge keys of non-mappings, recursive aliases; and alias bombs.
  const [problem] = [...pyyamlTextProblems(text), ...pyyamlProblems(doc)]
  if (problem) throw corrupt(kind, file, problem.message, {line: lines.linePos(problem.offset).line})
  if (!isMap(doc.contents)) {
    throw corrupt(kind, file, 'expected a mapping at the top level', {line: 1})
  }
  let data: Record<string, unknown>
  try {
    data = toJSExpanded(doc) as Record<string, unknown>
  } catch (error) {
    throw corrupt(kind, file, `invalid YAML: ${(error as Error).message.split('\n')[0] ?? ''}`, {cause: error})
  }
  return {file, doc, lines, data}
}

function lineOf(loc: Located, offset: number | undefined): number | undefined {
  return offset === undefined ? undefined : loc.lines.linePos(offset).line
}

/** Line of `key` inside `map` (or of the map itself when the key is absent). */
function keyLine(loc: Located, map: YAMLMap, key: string | undefined): number | undefined {
  if (key !== undefined) {
    for (const pair of map.items) {
      if (isScalar(pair.key) && pair.key.value === key) return lineOf(loc, pair.key.range?.[0])
    }
  }
  return lineOf(loc, map.range?.[0])
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

function childMap(map: YAMLMap, key: string): YAMLMap | undefined {
  const node = map.get(key, true)
  return isMap(node) ? node : undefined
}

/** Raw source text of a scalar (a YAML 1.1 timestamp parses to a Date; we keep what was written). */
function scalarSource(map: YAMLMap, key: string): string | undefined {
  const node = map.get(key, true)
  if (!isScalar(node)) return undefined
  return node.source ?? (typeof node.value === 'string' ? node.value : undefined)
}

function readCreationTime(kind: Kind, loc: Located, map: YAMLMap, value: unknown): {raw: string; date: Date} {
  const line = keyLine(loc, map, 'creation_time')
  if (value instanceof Date) {
    return {raw: scalarSource(map, 'creation_time') ?? value.toISOString(), date: value}
  }
  if (typeof value === 'string') {
    const date = parseIsoDatetime(value)
    if (date !== null) return {raw: value, date}
  }
  throw corrupt(kind, loc.file, `not an ISO 8601 date-time: ${JSON.stringify(value)}`, {line, key: 'creation_time'})
}

/**
 * Read `<dir>/model.yaml` with the rules of BentoML's `ModelInfo.from_yaml_file`: `name`, `version`, `module`,
 * `labels`, `options`, `metadata`, `context` (with `framework_name`, `framework_versions`), `api_version` and
 * `creation_time` are required; `signatures` defaults to `{}`; other keys are ignored.
 * Throws `StoreError` `E_MODEL_CORRUPT` naming the file, the line and the key.
 */
export async function readModelInfo(dir: string): Promise<ModelInfo> {
  const loc = await loadYaml('model', path.join(dir, 'model.yaml'))
  const top = loc.doc.contents as YAMLMap
  const data = loc.data

  const need = (map: YAMLMap, obj: Record<string, unknown>, key: string, prefix = ''): unknown => {
    if (!(key in obj)) {
      throw corrupt('model', loc.file, 'missing required key', {line: keyLine(loc, map, undefined), key: prefix + key})
    }
    return obj[key]
  }
  const wrongType = (map: YAMLMap, key: string, expected: string, prefix = ''): StoreError =>
    corrupt('model', loc.file, `expected ${expected}`, {line: keyLine(loc, map, key), key: prefix + key})
  const str = (map: YAMLMap, obj: Record<string, unknown>, key: string, prefix = ''): string => {
    const value = need(map, obj, key, prefix)
    if (typeof value !== 'string') throw wrongType(map, key, 'a string (quote it)', prefix)
    return value
  }
  const dict = (map: YAMLMap, obj: Record<string, unknown>, key: string, prefix = ''): Record<string, unknown> => {
    const value = need(map, obj, key, prefix)
    if (!isRecord(value)) throw wrongType(map, key, 'a mapping', prefix)
    return value
  }
  const stringDict = (map: YAMLMap, obj: Record<string, unknown>, key: string, prefix = ''): Record<string, string> => {
    const value = dict(map, obj, key, prefix)
    for (const v of Object.values(value)) {
      if (typeof v !== 'string') throw wrongType(map, key, 'a mapping of strings to strings', prefix)
    }
    return value as Record<string, string>
  }

  const name = str(top, data, 'name')
  const version = str(top, data, 'version')
  const module = str(top, data, 'module')
  const labels = stringDict(top, data, 'labels')
  const options = dict(top, data, 'options')
  const metadata = dict(top, data, 'metadata')
  const contextObj = dict(top, data, 'context')
  const contextMap = childMap(top, 'context') ?? top
  const context: ModelContext = {
    framework_name: str(contextMap, contextObj, 'framework_name', 'context.'),
    framework_versions: stringDict(contextMap, contextObj, 'framework_versions', 'context.'),
  }
  for (const key of ['bentoml_version', 'python_version'] as const) {
    const value = contextObj[key]
    if (value === undefined || value === null) continue
    if (typeof value !== 'string') throw wrongType(contextMap, key, 'a string (quote it)', 'context.')
    context[key] = value
  }
  let signatures: Record<string, ModelSignature> = {}
  if (data.signatures !== undefined && data.signatures !== null) {
    if (!isRecord(data.signatures)) throw wrongType(top, 'signatures', 'a mapping')
    signatures = data.signatures as Record<string, ModelSignature>
  }
  const apiVersion = str(top, data, 'api_version')
  const created = readCreationTime('model', loc, top, need(top, data, 'creation_time'))
  return {
    name,
    version,
    module,
    labels,
    options,
    metadata,
    context,
    signatures,
    api_version: apiVersion,
    creation_time: created.raw,
    creationTime: created.date,
  }
}

function asString(value: unknown): string {
  if (value === undefined || value === null) return ''
  return value instanceof Date ? value.toISOString() : String(value)
}

/** A string-valued key: null when absent, null or empty. */
function optString(value: unknown): string | null {
  return asString(value) || null
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((x) => x !== null && x !== undefined).map(asString) : []
}

/** An entry of another shape reads as an empty tag (kept, so later entries keep their index; no rule uses it). */
function modelRef(entry: unknown): BentoModelRef {
  // Pre-1.0.0a7 bento.yaml: a plain list of tag strings.
  if (typeof entry === 'string') return {tag: entry, module: '', creation_time: ''}
  if (!isRecord(entry)) return {tag: '', module: '', creation_time: ''}
  return {
    tag: asString(entry.tag),
    module: asString(entry.module),
    creation_time: asString(entry.creation_time),
    ...(entry.registry === undefined || entry.registry === null ? {} : {registry: asString(entry.registry)}),
    ...(typeof entry.alias === 'string' ? {alias: entry.alias} : {}),
    ...(isRecord(entry.metadata) ? {metadata: entry.metadata} : {}),
  }
}

function modelRefs(value: unknown): BentoModelRef[] {
  return Array.isArray(value) ? value.map(modelRef) : []
}

/** `docker.env` (a mapping; a list of `K=V` as older Bentos have it) in order, later names winning. */
function dockerEnv(value: unknown): Array<{name: string; value: string}> {
  const out = new Map<string, string>()
  if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) out.set(k, asString(v))
  } else if (Array.isArray(value)) {
    for (const item of value) {
      const s = asString(item)
      const eq = s.indexOf('=')
      if (eq > 0) out.set(s.slice(0, eq), s.slice(eq + 1))
    }
  }
  return [...out].map(([name, v]) => ({name, value: v}))
}

function hasOffset(text: string): boolean {
  return /(?:Z|[+-]\d{2}(?::?\d{2})?)\s*$/.test(text.trim())
}

/**
 * The shapes BentoML's `BaseBentoInfo.from_yaml_file` needs beyond name and version (cattrs structures these and
 * raises on anything else, failing `bentoml list` for the whole store). Null when BentoML can read it.
 */
function bentomlProblemOf(raw: Record<string, unknown>, createdAsWritten: string): {key: string; message: string} | null {
  if (!('service' in raw)) return {key: 'service', message: 'missing required key'}
  for (const key of ['labels', 'docker', 'python', 'conda', 'schema', 'args'] as const) {
    if (key in raw && !isRecord(raw[key])) return {key, message: 'expected a mapping'}
  }
  // BentoML writes creation_time with an offset; `bentoml list` sorts every Bento by it, and a time without one
  // cannot be compared with the others (TypeError): the whole listing would fail.
  if ('creation_time' in raw && !hasOffset(createdAsWritten)) {
    return {key: 'creation_time', message: 'expected an ISO 8601 date-time with a UTC offset (e.g. 2025-05-30T10:20:30.123456+00:00)'}
  }
  for (const key of ['models', 'runners', 'apis', 'envs', 'services'] as const) {
    const value = raw[key]
    if (value === undefined || value === null) continue
    if (!Array.isArray(value)) return {key, message: 'expected a list'}
    for (const [i, item] of value.entries()) {
      if (key === 'models' && typeof item === 'string') continue // pre-1.0.0a7: tag strings
      if (!isRecord(item)) return {key: `${key}[${i}]`, message: 'expected a mapping'}
      if (key === 'models' && typeof item.tag !== 'string') return {key: `${key}[${i}].tag`, message: 'expected a tag string'}
      if ((key === 'runners' || key === 'apis' || key === 'envs' || key === 'services') && typeof item.name !== 'string') {
        return {key: `${key}[${i}].name`, message: 'expected a string'}
      }
    }
  }
  return null
}

/**
 * The typed Bento of a parsed bento.yaml document: lenient as BentoML's reader (a key of the wrong shape reads as
 * its default; `bentomlProblem` says what BentoML itself would refuse). `name` and `version` are taken as they are:
 * the file readers check them first, with the line. Pure; exported for tests that start from a document.
 */
export function bentoFromDocument(raw: Record<string, unknown>, created: {raw: string; date: Date} = {raw: asString(raw.creation_time), date: new Date(0)}): BentoInfo {
  const labels: Record<string, string> = {}
  if (isRecord(raw.labels)) {
    for (const [k, v] of Object.entries(raw.labels)) labels[k] = asString(v)
  }
  const docker = isRecord(raw.docker) ? raw.docker : {}
  const image = Number(raw.spec) === 2 && isRecord(raw.image) ? raw.image : null
  const conda = isRecord(raw.conda) ? raw.conda : {}
  const envs: BentoInfo['envs'] = []
  for (const e of Array.isArray(raw.envs) ? raw.envs : []) {
    if (isRecord(e) && typeof e.name === 'string') envs.push({name: e.name, value: asString(e.value), stage: asString(e.stage) || 'all'})
  }
  return {
    name: asString(raw.name),
    version: asString(raw.version),
    service: asString(raw.service),
    bentoml_version: asString(raw.bentoml_version),
    creation_time: created.raw,
    creationTime: created.date,
    labels,
    spec: image === null ? 1 : 2,
    models: modelRefs(raw.models),
    services: (Array.isArray(raw.services) ? (raw.services as unknown[]) : []).map((s) =>
      isRecord(s) ? {name: asString(s.name), models: modelRefs(s.models)} : {name: '', models: []},
    ),
    docker: {
      base_image: optString(docker.base_image),
      python_version: optString(docker.python_version),
      distro: optString(docker.distro),
      cuda_version: optString(docker.cuda_version),
      system_packages: strings(docker.system_packages),
      env: dockerEnv(docker.env),
    },
    image:
      image === null
        ? null
        : {
            base_image: optString(image.base_image),
            python_version: optString(image.python_version),
            commands: strings(image.commands),
            post_commands: strings(image.post_commands),
            build_include: strings(image.build_include),
          },
    conda: {
      environment_yml: optString(conda.environment_yml),
      dependencies: Array.isArray(conda.dependencies) ? conda.dependencies : [],
      pip: Array.isArray(conda.pip) ? conda.pip : [],
    },
    envs,
    bentomlProblem: bentomlProblemOf(raw, created.raw),
    raw,
  }
}

function checkedBento(loc: Located, absentCreationTime: () => Date): BentoInfo {
  const top = loc.doc.contents as YAMLMap
  const raw = loc.data
  for (const key of ['name', 'version'] as const) {
    const value = raw[key]
    if (value === undefined) {
      throw corrupt('bento', loc.file, 'missing required key', {line: keyLine(loc, top, undefined), key})
    }
    if (typeof value !== 'string') {
      throw corrupt('bento', loc.file, 'expected a string (quote it)', {line: keyLine(loc, top, key), key})
    }
  }
  const created =
    raw.creation_time === undefined || raw.creation_time === null
      ? {raw: '', date: absentCreationTime()}
      : readCreationTime('bento', loc, top, raw.creation_time)
  return bentoFromDocument(raw, created)
}

/**
 * Read `<dir>/bento.yaml` leniently, as BentoML's `BaseBentoInfo.from_yaml_file`: `name` and `version` are
 * required, everything else gets a default, unknown keys are kept in `raw`.
 * Throws `StoreError` `E_BENTO_CORRUPT` naming the file, the line and the key.
 */
export async function readBentoInfo(dir: string): Promise<BentoInfo> {
  const file = path.join(dir, 'bento.yaml')
  const loc = await loadYaml('bento', file)
  const mtime = loc.data.creation_time === undefined || loc.data.creation_time === null ? (await stat(file)).mtime : new Date(0)
  return checkedBento(loc, () => mtime)
}

/**
 * A bento.yaml text, as `readBentoInfo` reads it (`file` names it in errors; a missing `creation_time` reads as
 * `absentCreationTime`). `bento build` reads the bento.yaml it writes back through this, so the stored Dockerfile
 * comes from the same typed Bento as the one `bento containerize` builds.
 */
export function parseBentoYaml(text: string, opts: {file?: string; absentCreationTime?: Date} = {}): BentoInfo {
  const loc = parseYaml('bento', opts.file ?? 'bento.yaml', text)
  return checkedBento(loc, () => opts.absentCreationTime ?? new Date(0))
}
