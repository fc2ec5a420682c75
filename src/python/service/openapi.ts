/**
 * The `apis/openapi.yaml` document, shaped like BentoML 1.4.15's legacy `generate_spec`
 * (`_internal/service/openapi/__init__.py`) as far as static reading allows.
 *
 * Known differences from BentoML (kept honest, documented):
 * - response status keys are strings (`'200'`); PyYAML writes ints. `yaml.dump` also sorts keys,
 *   so the caller should serialize with sorted keys to match byte for byte.
 * - `info.description` is BentoML's generated README; here it is `opts.description` when given.
 * - IO descriptor schemas are derived from literal arguments only (`dtype`, `shape`, `mime_type`, …);
 *   pydantic models are not introspected (schema `{type: object}`).
 * - New-SDK services get the same small document (BentoML derives theirs from pydantic types).
 */
import type {ApiInfo, IODescriptorInfo, ServiceInfo} from './service.js'

export interface OpenApiOptions {
  bentoName: string
  /** `info.version`. BentoML 1.4.15 writes `'None'` at build time (the service has no tag yet). */
  version: string
  description?: string
}

type Json = Record<string, unknown>

const SUCCESS = 'Successful Response'
const INFRA_TAG = {name: 'Infrastructure', description: 'Common infrastructure endpoints for observability.'}
const APP_TAG = {name: 'Service APIs', description: 'BentoML Service API endpoints for inference.'}
const INFRA: Array<[string, string]> = [
  [
    '/healthz',
    'Health check endpoint. Expecting an empty response with status code <code>200</code> when the service is in health state. The <code>/healthz</code> endpoint is <b>deprecated</b>. (since Kubernetes v1.16)',
  ],
  ['/livez', 'Health check endpoint for Kubernetes. Healthy endpoint responses with a <code>200</code> OK status.'],
  [
    '/readyz',
    'A <code>200</code> OK status from <code>/readyz</code> endpoint indicated the service is ready to accept traffic. From that point and onward, Kubernetes will use <code>/livez</code> endpoint to perform periodic health checks.',
  ],
  [
    '/metrics',
    'Prometheus metrics endpoint. The <code>/metrics</code> responses with a <code>200</code>. The output can then be used by a Prometheus sidecar to scrape the metrics of the service.',
  ],
]
const ERRORS: Array<[string, string, string]> = [
  ['400', 'InvalidArgument', 'Bad Request'],
  ['404', 'NotFound', 'Not Found'],
  ['500', 'InternalServerError', 'Internal Server Error'],
]

function errorSchema(title: string, description: string): Json {
  return {
    title,
    type: 'object',
    description,
    properties: {error: {title: 'Message', type: 'string'}, detail: {title: 'Error Detail', type: 'string'}},
    required: ['error'],
  }
}

function numpyItemType(io: IODescriptorInfo): string {
  const dtype = io.args['dtype']
  return typeof dtype === 'string' && /^(float|complex|f\d|c\d|double|single|half)/.test(dtype) ? 'number' : 'integer'
}

/** Media type, schema and `x-bentoml-io-descriptor` spec for an IO descriptor. */
export function ioDescriptorOpenApi(io: IODescriptorInfo | undefined): {mime: string; schema: Json; spec: Json | null} {
  const t = io?.type ?? ''
  const args = io?.args ?? {}
  const str = (k: string): string | undefined => (typeof args[k] === 'string' ? (args[k] as string) : undefined)
  switch (t) {
    case 'NumpyNdarray': {
      const shape = Array.isArray(args['shape']) ? (args['shape'] as unknown[]) : null
      const itemType = numpyItemType(io as IODescriptorInfo)
      const items = shape !== null && shape.length > 1 ? {type: 'array', items: {type: itemType}} : {type: itemType}
      return {
        mime: 'application/json',
        schema: {type: 'array', items, nullable: true},
        spec: {
          id: 'bentoml.io.NumpyNdarray',
          args: {
            dtype: str('dtype') ?? null,
            shape,
            enforce_dtype: args['enforce_dtype'] === true,
            enforce_shape: args['enforce_shape'] === true,
          },
        },
      }
    }
    case 'JSON':
      return {
        mime: 'application/json',
        schema: {type: 'object'},
        spec: {
          id: 'bentoml.io.JSON',
          args: {has_pydantic_model: 'pydantic_model' in args && args['pydantic_model'] !== null, has_json_encoder: 'json_encoder' in args},
        },
      }
    case 'Text':
      return {mime: str('content_type') ?? 'text/plain', schema: {type: 'string'}, spec: {id: 'bentoml.io.Text'}}
    case 'PandasDataFrame': {
      const fmt = str('default_format') ?? 'json'
      const mime = fmt === 'csv' ? 'text/csv' : fmt === 'parquet' ? 'application/vnd.apache.parquet' : 'application/json'
      return {mime, schema: {type: 'object'}, spec: null}
    }
    case 'PandasSeries':
      return {mime: 'application/json', schema: {type: 'object'}, spec: null}
    case 'Image':
      return {mime: (str('mime_type') ?? 'image/jpeg').toLowerCase(), schema: {type: 'string', format: 'binary'}, spec: null}
    case 'BytesIOFile':
    case 'File':
      return {mime: str('mime_type') ?? 'application/octet-stream', schema: {type: 'string', format: 'binary'}, spec: null}
    case 'Multipart': {
      const properties: Json = {}
      for (const [k, v] of Object.entries(args)) {
        if (v !== null && typeof v === 'object' && 'type' in v) properties[k] = ioDescriptorOpenApi(v as IODescriptorInfo).schema
      }
      return {mime: 'multipart/form-data', schema: {type: 'object', properties}, spec: null}
    }
    default:
      return {mime: 'application/json', schema: {type: 'object'}, spec: null}
  }
}

function media(io: IODescriptorInfo | undefined, isInput: boolean): Json {
  const o = ioDescriptorOpenApi(io)
  const mediaType: Json = {schema: o.schema}
  if (io?.type === 'Text') mediaType['example'] = 'None' // BentoML: str(self.sample) with no sample
  const out: Json = isInput ? {content: {[o.mime]: mediaType}, required: true} : {description: SUCCESS, content: {[o.mime]: mediaType}}
  if (o.spec !== null) out['x-bentoml-io-descriptor'] = o.spec
  return out
}

function apiPath(api: ApiInfo): string {
  return api.route.startsWith('/') ? api.route : `/${api.route}`
}

export function openApiFor(info: ServiceInfo, opts: OpenApiOptions): Json {
  const svcName = info.name ?? opts.bentoName
  const paths: Json = {}
  for (const [path, description] of INFRA) {
    paths[path] = {get: {responses: {'200': {description: SUCCESS}}, tags: [INFRA_TAG.name], description}}
  }
  for (const api of info.apis) {
    const responses: Json = {'200': media(api.output, false)}
    for (const [code, title, description] of ERRORS) {
      responses[code] = {description, content: {'application/json': {schema: {$ref: `#/components/schemas/${title}`}}}}
    }
    const inType = api.inputType || 'JSON'
    const outType = api.outputType || 'JSON'
    paths[apiPath(api)] = {
      post: {
        responses,
        tags: [APP_TAG.name],
        consumes: [ioDescriptorOpenApi(api.input).mime],
        produces: [ioDescriptorOpenApi(api.output).mime],
        'x-bentoml-name': api.name,
        summary: `InferenceAPI(${inType} → ${outType})`,
        description: api.doc ?? '',
        requestBody: media(api.input, true),
        operationId: `${svcName}__${api.name}`,
      },
    }
  }
  const info_: Json = {title: svcName, version: opts.version}
  if (opts.description !== undefined) info_['description'] = opts.description
  info_['contact'] = {name: 'BentoML Team', email: 'contact@bentoml.com'}
  return {
    openapi: '3.0.2',
    info: info_,
    paths,
    servers: [{url: '.'}],
    tags: [APP_TAG, INFRA_TAG],
    components: {schemas: Object.fromEntries(ERRORS.map(([, title, d]) => [title, errorSchema(title, d)]))},
  }
}
