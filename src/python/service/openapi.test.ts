import {describe, expect, it} from 'vitest'
import {openApiFor} from './openapi.js'
import {readService} from './service.js'

const SEED = `import bentoml
from bentoml.io import NumpyNdarray, Text, JSON
r = bentoml.keras.get("flower_model:latest").to_runner()
svc = bentoml.Service("clasificador_iris", runners=[r])
@svc.api(input=NumpyNdarray(), output=NumpyNdarray(dtype="float64", shape=(-1, 3)))
async def classify(input_series):
    return input_series
@svc.api(input=Text(), output=JSON(), route="/v1/echo")
def echo(t):
    """Echo it."""
    return t
`

describe('openApiFor', () => {
  const info = readService({files: new Map([['service.py', SEED]]), service: 'service:svc'})
  const doc = openApiFor(info, {bentoName: 'clasificador_iris', version: 'None'}) as Record<string, unknown>
  const dig = (o: unknown, ...keys: string[]): unknown =>
    keys.reduce<unknown>((acc, k) => (acc !== null && typeof acc === 'object' ? (acc as Record<string, unknown>)[k] : undefined), o)

  it('has the BentoML top-level shape and infra endpoints', () => {
    expect(doc['openapi']).toBe('3.0.2')
    expect(doc['info']).toEqual({title: 'clasificador_iris', version: 'None', contact: {name: 'BentoML Team', email: 'contact@bentoml.com'}})
    expect(doc['servers']).toEqual([{url: '.'}])
    expect(Object.keys(dig(doc, 'paths') as object)).toEqual(['/healthz', '/livez', '/readyz', '/metrics', '/classify', '/v1/echo'])
    expect(dig(doc, 'paths', '/livez', 'get', 'tags')).toEqual(['Infrastructure'])
    expect(Object.keys(dig(doc, 'components', 'schemas') as object)).toEqual(['InvalidArgument', 'NotFound', 'InternalServerError'])
  })

  it('describes NumpyNdarray, Text and JSON bodies like BentoML', () => {
    const classify = dig(doc, 'paths', '/classify', 'post')
    expect(dig(classify, 'requestBody')).toEqual({
      content: {'application/json': {schema: {type: 'array', items: {type: 'integer'}, nullable: true}}},
      required: true,
      'x-bentoml-io-descriptor': {id: 'bentoml.io.NumpyNdarray', args: {dtype: null, shape: null, enforce_dtype: false, enforce_shape: false}},
    })
    expect(dig(classify, 'responses', '200', 'content', 'application/json', 'schema')).toEqual({
      type: 'array',
      items: {type: 'array', items: {type: 'number'}},
      nullable: true,
    })
    expect(dig(classify, 'responses', '400', 'content', 'application/json', 'schema')).toEqual({$ref: '#/components/schemas/InvalidArgument'})
    expect(classify).toMatchObject({operationId: 'clasificador_iris__classify', summary: 'InferenceAPI(NumpyNdarray → NumpyNdarray)', 'x-bentoml-name': 'classify', description: ''})
    const echo = dig(doc, 'paths', '/v1/echo', 'post')
    expect(dig(echo, 'consumes')).toEqual(['text/plain'])
    expect(dig(echo, 'produces')).toEqual(['application/json'])
    expect(dig(echo, 'requestBody', 'content', 'text/plain', 'schema')).toEqual({type: 'string'})
    expect(dig(echo, 'responses', '200', 'content', 'application/json', 'schema')).toEqual({type: 'object'})
    expect(dig(echo, 'description')).toBe('Echo it.')
  })
})
