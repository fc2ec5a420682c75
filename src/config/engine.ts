/**
 * The declarative field table's vocabulary and the generic validator that walks it. The same table
 * produces the JSON Schema (schema.ts), so the two cannot drift apart.
 */
import {clip, isMapping, isScalar, type Path, quoteClipped, type DiagnosticCollector} from './context.js'
import {labelKeyProblem} from '../bentoml/image-rules.js'
import {pyStr, pyType} from './py-str.js'
import {closest} from './suggest.js'

export type JsonSchema = Record<string, unknown>

/** Checks (and may rewrite) an already-typed string; reports problems on the reporter. */
export type StringCheck = (value: string, path: Path, r: DiagnosticCollector) => string

interface Common {
  description: string
  /** The default after normalization, for the schema. */
  default?: unknown
  deprecated?: string
  examples?: unknown[]
}

export interface StringField extends Common {
  kind: 'string'
  /** cattrs-structured fields turn a number/bool into its Python `str()`; attrs-validated ones reject it. */
  coerce: boolean
  nullable: boolean
  enum?: readonly string[]
  /** For the schema only; `check` enforces it. */
  pattern?: string
  maxLength?: number
  check?: StringCheck
}

export interface BooleanField extends Common {
  kind: 'boolean'
  nullable: boolean
}

export interface StringListField extends Common {
  kind: 'string-list'
  coerceItems: boolean
  /** `python.trusted_host: "host"` is accepted as `["host"]`. */
  wrapString?: boolean
  itemCheck?: StringCheck
}

/** A mapping whose values become strings (`labels`). */
export interface LabelMapField extends Common {
  kind: 'label-map'
}

/** A free-form mapping (`args`). */
export interface AnyMapField extends Common {
  kind: 'any-map'
}

export interface SectionField extends Common {
  kind: 'section'
  fields: Readonly<Record<string, FieldSpec>>
  /** Extra hints for well-known unknown keys. */
  unknownKeyHints?: Readonly<Record<string, string>>
}

export interface CustomField extends Common {
  kind: 'custom'
  schema: JsonSchema
  parse: (value: unknown, path: Path, r: DiagnosticCollector) => unknown
}

export type FieldSpec = StringField | BooleanField | StringListField | LabelMapField | AnyMapField | SectionField | CustomField

/** A scalar as messages show it: a string quoted, anything else as written (or Python's str()); capped. */
function shownValue(value: unknown, source?: string): string {
  return typeof value === 'string' ? quoteClipped(value) : clip(source?.trim() ?? pyStr(value))
}

/** How a value is described in messages: `str "abc"`, `float 3.1`, `list`. Long values end in `…`. */
export function describe(value: unknown, source?: string): string {
  const type = pyType(value, source)
  if (type === 'list' || type === 'dict' || type === 'NoneType') return type === 'NoneType' ? 'null' : `a ${type === 'list' ? 'list' : 'mapping'}`
  return `${type} ${shownValue(value, source)}`
}

/** A string field's value, coerced like cattrs when `coerce`, else rejected. Returns undefined on error. */
export function parseStringValue(value: unknown, path: Path, r: DiagnosticCollector, coerce: boolean, what = 'a string'): string | undefined {
  if (typeof value === 'string') return value
  const source = r.source(path)
  if (value !== null && value !== undefined && isScalar(value) && coerce) {
    const coerced = pyStr(value, source)
    r.warn(path, `expected ${what}, got ${describe(value, source)}; BentoML reads it as '${coerced}'`, `quote the value: '${source?.trim() ?? coerced}'`)
    return coerced
  }
  r.error(path, `expected ${what}, got ${describe(value, source)}`, typeHint(value, what))
  return undefined
}

function typeHint(value: unknown, what: string): string {
  if (Array.isArray(value)) return `write a single value, not a list`
  if (isMapping(value)) return `write ${what}, not a mapping (check the indentation)`
  if (value === null || value === undefined) return `give a value or remove the key`
  return `quote the value`
}

export function parseField(spec: FieldSpec, value: unknown, path: Path, r: DiagnosticCollector): unknown {
  switch (spec.kind) {
    case 'string':
      return parseString(spec, value, path, r)
    case 'boolean':
      if (value === null || value === undefined) {
        if (spec.nullable) return null
        r.error(path, 'expected true or false, got null', 'write true or false')
        return undefined
      }
      if (typeof value === 'boolean') return value
      r.error(path, `expected true or false, got ${describe(value, r.source(path))}`, 'write true or false without quotes')
      return undefined
    case 'string-list':
      return parseStringList(spec, value, path, r)
    case 'label-map':
      return parseLabelMap(value, path, r)
    case 'any-map':
      if (value === null || value === undefined) {
        r.warn(path, 'is null; using {}', 'remove the key or write {}')
        return {}
      }
      if (isMapping(value)) return {...value}
      r.error(path, `expected a mapping, got ${describe(value, r.source(path))}`, 'write key: value pairs')
      return undefined
    case 'section':
      return validateSection(spec, value, path, r)
    case 'custom':
      return spec.parse(value, path, r)
  }
}

function parseString(spec: StringField, value: unknown, path: Path, r: DiagnosticCollector): string | null | undefined {
  if (value === null || value === undefined) {
    if (spec.nullable) return null
    r.error(path, 'expected a string, got null', 'give a value or remove the key')
    return undefined
  }
  let s = parseStringValue(value, path, r, spec.coerce)
  if (s === undefined) return undefined
  if (spec.enum && !spec.enum.includes(s)) {
    const guess = closest(s, spec.enum)
    r.error(
      path,
      `'${clip(s)}' is not one of ${spec.enum.map((e) => `'${e}'`).join(', ')}`,
      guess ? `did you mean '${guess}'?` : `use one of: ${spec.enum.join(', ')}`,
    )
    return undefined
  }
  if (spec.check) s = spec.check(s, path, r)
  return s
}

function parseStringList(spec: StringListField, value: unknown, path: Path, r: DiagnosticCollector): string[] | null | undefined {
  if (value === null || value === undefined) return null
  if (typeof value === 'string' && spec.wrapString) return [spec.itemCheck ? spec.itemCheck(value, path, r) : value]
  if (!Array.isArray(value)) {
    const source = r.source(path)
    const shown = shownValue(value, source)
    const hint = isScalar(value)
      ? `write a YAML list: \`- ${shown}\` on its own line under the key, or [${shown}]` +
        (spec.coerceItems && typeof value === 'string' ? ' (BentoML would split a string into single characters)' : '')
      : 'write a YAML list (lines starting with "- ")'
    r.error(path, `expected a list of strings, got ${describe(value, source)}`, hint)
    return undefined
  }
  const out: string[] = []
  value.forEach((item, i) => {
    const itemPath = [...path, i]
    if (item === null || item === undefined) {
      r.error(itemPath, 'list item is empty (null)', 'remove the empty "-" line or give it a value')
      return
    }
    const s = parseStringValue(item, itemPath, r, spec.coerceItems)
    if (s !== undefined) out.push(spec.itemCheck ? spec.itemCheck(s, itemPath, r) : s)
  })
  return out
}

function parseLabelMap(value: unknown, path: Path, r: DiagnosticCollector): Record<string, string> | undefined {
  if (value === null || value === undefined) {
    r.warn(path, 'is null; using {}', 'remove the key or write {}')
    return {}
  }
  if (!isMapping(value)) {
    r.error(path, `expected a mapping of strings, got ${describe(value, r.source(path))}`, 'write key: value pairs, one per line')
    return undefined
  }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    const itemPath = [...path, k]
    const badKey = labelKeyProblem(k)
    if (badKey) r.error(itemPath, badKey.message, badKey.hint, 'key')
    if (typeof v === 'string') out[k] = v
    else if (isScalar(v)) {
      const source = r.source(itemPath)
      const coerced = pyStr(v, source)
      r.warn(itemPath, `value ${describe(v, source)} is not a string; BentoML stores it as '${coerced}'`, `quote the value if you mean '${source?.trim() ?? coerced}'`)
      out[k] = coerced
    } else {
      r.error(itemPath, `expected a string value, got ${describe(v)}`, 'label values are plain strings')
    }
  }
  return out
}

/** Validates a mapping against a section spec: unknown keys (with suggestions) and every known field. */
export function validateSection(spec: SectionField, value: unknown, path: Path, r: DiagnosticCollector): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (value === null || value === undefined) return out
  if (!isMapping(value)) {
    const where = path.length === 0 ? 'the top level' : 'this key'
    r.error(path, `expected a mapping at ${where}, got ${describe(value, r.source(path))}`, 'write key: value pairs (check the indentation)')
    return out
  }
  const known = Object.keys(spec.fields)
  for (const key of Object.keys(value)) {
    if (key in spec.fields) continue
    const keyPath = [...path, key]
    const where = path.length === 0 ? `top-level key '${clip(key)}'` : `key '${clip(key)}' in ${path.join('.')}`
    const extra = spec.unknownKeyHints?.[key]
    const guess = closest(key, known, {keys: true})
    const listing = `known keys: ${known.join(', ')}`
    const hint = extra ?? (guess ? `did you mean '${guess}'?` : listing)
    r.error(keyPath, `unknown ${where}`, hint, 'key')
  }
  for (const [key, field] of Object.entries(spec.fields)) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue
    out[key] = parseField(field, value[key], [...path, key], r)
  }
  return out
}
