import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'

import {type Document, isMap, isScalar, LineCounter, parseDocument, type YAMLMap} from 'yaml'

import {StoreError} from '../errors.js'
import {pyyamlProblems, pyyamlTextProblems} from '../yaml-safety.js'

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

export interface BentoModelRef {
  tag: string
  module: string
  creation_time: string
  registry?: string
  alias?: string
  [key: string]: unknown
}

/** `bento.yaml`, read leniently (only `name` and `version` are required, as in BentoML). */
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
  models: BentoModelRef[]
  /** The whole document as parsed (YAML 1.1 rules, as PyYAML). */
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
    data = doc.toJS({maxAliasCount: -1}) as Record<string, unknown>
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

/**
 * Read `<dir>/bento.yaml` leniently, as BentoML's `BaseBentoInfo.from_yaml_file`: `name` and `version` are
 * required, everything else gets a default, unknown keys are kept in `raw`.
 * Throws `StoreError` `E_BENTO_CORRUPT` naming the file, the line and the key.
 */
export async function readBentoInfo(dir: string): Promise<BentoInfo> {
  const file = path.join(dir, 'bento.yaml')
  const loc = await loadYaml('bento', file)
  const top = loc.doc.contents as YAMLMap
  const raw = loc.data

  const required = (key: 'name' | 'version'): string => {
    const value = raw[key]
    if (value === undefined) {
      throw corrupt('bento', file, 'missing required key', {line: keyLine(loc, top, undefined), key})
    }
    if (typeof value !== 'string') {
      throw corrupt('bento', file, 'expected a string (quote it)', {line: keyLine(loc, top, key), key})
    }
    return value
  }
  const name = required('name')
  const version = required('version')

  let created: {raw: string; date: Date}
  if (raw.creation_time === undefined || raw.creation_time === null) {
    created = {raw: '', date: (await stat(file)).mtime}
  } else {
    created = readCreationTime('bento', loc, top, raw.creation_time)
  }

  const labels: Record<string, string> = {}
  if (isRecord(raw.labels)) {
    for (const [k, v] of Object.entries(raw.labels)) labels[k] = asString(v)
  }

  const models: BentoModelRef[] = []
  if (Array.isArray(raw.models)) {
    for (const entry of raw.models as unknown[]) {
      if (typeof entry === 'string') {
        // Pre-1.0.0a7 bento.yaml: a plain list of tag strings.
        models.push({tag: entry, module: '', creation_time: ''})
      } else if (isRecord(entry)) {
        models.push({
          ...entry,
          tag: asString(entry.tag),
          module: asString(entry.module),
          creation_time: asString(entry.creation_time),
        })
      }
    }
  }

  return {
    name,
    version,
    service: asString(raw.service),
    bentoml_version: asString(raw.bentoml_version),
    creation_time: created.raw,
    creationTime: created.date,
    labels,
    models,
    raw,
  }
}
