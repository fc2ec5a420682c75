/**
 * What `bento smoke` calls: the HTTP APIs a Bento serves, read from its bento.yaml, and a request body for each
 * (the BentoML facts: legacy `apis[]` of IO descriptors served at `POST /<name>`; SDK `schema.routes[]` with a JSON
 * schema of the input object). Pure.
 */

export interface SmokeApi {
  name: string
  /** e.g. `/classify`. */
  route: string
  contentType: string
  /** The body when nothing is given: from the schema's examples or defaults, else a minimal valid value. */
  body: unknown
  /** Where `body` came from. */
  source: 'schema-example' | 'schema-default' | 'synthesized'
}

type Json = Record<string, unknown>

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Legacy IO descriptors (bentoml.io): content type and a minimal body BentoML parses. */
const LEGACY_DESCRIPTORS: Record<string, {contentType: string; body: unknown}> = {
  NumpyNdarray: {contentType: 'application/json', body: [0]},
  JSON: {contentType: 'application/json', body: {}},
  PandasDataFrame: {contentType: 'application/json', body: []},
  PandasSeries: {contentType: 'application/json', body: []},
  Text: {contentType: 'text/plain', body: ''},
  Image: {contentType: 'application/octet-stream', body: ''},
  File: {contentType: 'application/octet-stream', body: ''},
}

/** The APIs of a Bento from its parsed bento.yaml: SDK `schema.routes` when present, else legacy `apis`. */
export function smokeApisOf(bentoYaml: unknown): SmokeApi[] {
  if (!isObj(bentoYaml)) return []
  const schema = bentoYaml.schema
  const routes = isObj(schema) && Array.isArray(schema.routes) ? schema.routes : []
  if (routes.length > 0) {
    return routes.filter(isObj).map((r) => {
      const name = String(r.name ?? '')
      const input = isObj(r.input) ? r.input : {type: 'object'}
      const {value, source} = sampleOf(input, input)
      return {name, route: typeof r.route === 'string' ? r.route : `/${name}`, contentType: 'application/json', body: value, source}
    })
  }
  const apis = Array.isArray(bentoYaml.apis) ? bentoYaml.apis : []
  return apis.filter(isObj).map((a) => {
    const name = String(a.name ?? '')
    const d = LEGACY_DESCRIPTORS[String(a.input_type)] ?? {contentType: 'application/json', body: {}}
    return {name, route: `/${name}`, contentType: d.contentType, body: d.body, source: 'synthesized' as const}
  })
}

/** A value for a JSON schema: its first example, else its default, else a minimal valid value. */
export function sampleOf(schema: Json, root: Json = schema): {value: unknown; source: SmokeApi['source']} {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return {value: schema.examples[0], source: 'schema-example'}
  if ('example' in schema) return {value: schema.example, source: 'schema-example'}
  if ('default' in schema) return {value: schema.default, source: 'schema-default'}
  return {value: synthesize(schema, root, 0), source: 'synthesized'}
}

const MAX_DEPTH = 12

function resolveRef(ref: string, root: Json): Json | undefined {
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref)
  if (!m) return undefined
  const defs = root[m[1] as string]
  const target = isObj(defs) ? defs[decodeURIComponent(m[2] as string).replaceAll('~1', '/').replaceAll('~0', '~')] : undefined
  return isObj(target) ? target : undefined
}

/** A minimal value valid against `schema` (required properties only, the lower bounds of ranges). */
export function synthesize(schema: Json, root: Json, depth: number): unknown {
  if (depth > MAX_DEPTH) return null
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(schema.$ref, root)
    return target === undefined ? null : nested(target, root, depth)
  }
  if ('const' in schema) return schema.const
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[key]
    if (Array.isArray(branches) && branches.length > 0) {
      const objs = branches.filter(isObj)
      const pick = objs.find((b) => b.type !== 'null') ?? objs[0]
      if (pick !== undefined) return nested(pick, root, depth)
    }
  }
  const types = Array.isArray(schema.type) ? schema.type.map(String) : typeof schema.type === 'string' ? [schema.type] : []
  const type = types.find((t) => t !== 'null') ?? types[0] ?? (isObj(schema.properties) ? 'object' : undefined)
  switch (type) {
    case 'object': {
      const out: Json = {}
      const props = isObj(schema.properties) ? schema.properties : {}
      const required = Array.isArray(schema.required) ? schema.required.map(String) : []
      for (const name of required) {
        const p = props[name]
        out[name] = isObj(p) ? nested(p, root, depth) : null
      }
      return out
    }
    case 'array': {
      const min = typeof schema.minItems === 'number' ? schema.minItems : 0
      const items = isObj(schema.items) ? schema.items : {}
      return Array.from({length: min}, () => nested(items, root, depth))
    }
    case 'string': {
      if (schema.format === 'date-time') return '1970-01-01T00:00:00Z'
      if (schema.format === 'date') return '1970-01-01'
      const min = typeof schema.minLength === 'number' ? schema.minLength : 0
      return 'a'.repeat(min)
    }
    case 'integer':
    case 'number': {
      if (typeof schema.minimum === 'number') return type === 'integer' ? Math.ceil(schema.minimum) : schema.minimum
      if (typeof schema.exclusiveMinimum === 'number') return type === 'integer' ? Math.floor(schema.exclusiveMinimum) + 1 : schema.exclusiveMinimum + 1
      if (typeof schema.maximum === 'number' && schema.maximum < 0) return type === 'integer' ? Math.floor(schema.maximum) : schema.maximum
      return 0
    }
    case 'boolean':
      return false
    case 'null':
      return null
    // BentoML's own schema types (bentoml/_internal/io_descriptors, SDK `tensor`/`dataframe`).
    case 'tensor':
      return Array.isArray(schema.shape) ? zeros(schema.shape) : [0]
    case 'dataframe':
      return []
    default:
      return null
  }
}

function nested(schema: Json, root: Json, depth: number): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0]
  if ('default' in schema) return schema.default
  return synthesize(schema, root, depth + 1)
}

/** A nested array of zeros of `shape` (unknown dimensions, -1 or null, count 1). */
function zeros(shape: unknown[]): unknown {
  const [first, ...rest] = shape
  if (shape.length === 0) return 0
  const n = typeof first === 'number' && first > 0 ? Math.min(first, 1024) : 1
  return Array.from({length: n}, () => zeros(rest))
}
