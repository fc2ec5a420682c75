import {describe, expect, it} from 'vitest'

import {sampleOf, smokeApisOf} from './smoke-apis.js'

describe('smokeApisOf: the APIs of a Bento and a body for each', () => {
  it('legacy bentoml.io: POST /<name>, the descriptor gives the content type and a minimal body', () => {
    const apis = smokeApisOf({
      schema: {},
      apis: [
        {name: 'classify', input_type: 'NumpyNdarray', output_type: 'NumpyNdarray'},
        {name: 'echo', input_type: 'Text', output_type: 'Text'},
        {name: 'j', input_type: 'JSON', output_type: 'JSON'},
      ],
    })
    expect(apis).toEqual([
      {name: 'classify', route: '/classify', contentType: 'application/json', body: [0], source: 'synthesized'},
      {name: 'echo', route: '/echo', contentType: 'text/plain', body: '', source: 'synthesized'},
      {name: 'j', route: '/j', contentType: 'application/json', body: {}, source: 'synthesized'},
    ])
  })

  it('SDK: schema.routes with their route; the input object from the schema (required fields only)', () => {
    const apis = smokeApisOf({
      schema: {
        name: 'Iris',
        routes: [
          {name: 'classify', route: '/classify', input: {type: 'object', properties: {input: {type: 'tensor', format: 'numpy-array'}}, required: ['input']}},
          {name: 'gen', route: '/v1/gen', input: {type: 'object', properties: {prompt: {type: 'string', examples: ['hello']}, n: {type: 'integer', default: 3}}, required: ['prompt']}},
        ],
      },
      apis: [],
    })
    expect(apis).toEqual([
      {name: 'classify', route: '/classify', contentType: 'application/json', body: {input: [0]}, source: 'synthesized'},
      {name: 'gen', route: '/v1/gen', contentType: 'application/json', body: {prompt: 'hello'}, source: 'synthesized'},
    ])
  })

  it('a schema-level example or default wins over synthesis', () => {
    expect(sampleOf({type: 'object', examples: [{a: 1}]})).toEqual({value: {a: 1}, source: 'schema-example'})
    expect(sampleOf({type: 'object', default: {b: 2}})).toEqual({value: {b: 2}, source: 'schema-default'})
  })

  it('minimal values respect bounds, enums, $ref, anyOf, shapes and formats', () => {
    const root = {
      type: 'object',
      required: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
      properties: {
        a: {type: 'integer', minimum: 3},
        b: {type: 'number', exclusiveMinimum: 0.5},
        c: {type: 'string', minLength: 2},
        d: {enum: ['x', 'y']},
        e: {$ref: '#/$defs/Inner'},
        f: {anyOf: [{type: 'null'}, {type: 'boolean'}]},
        g: {type: 'tensor', shape: [1, 4], dtype: 'float32'},
        h: {type: 'array', minItems: 2, items: {type: 'integer'}},
        i: {type: 'string', format: 'date-time'},
        j: {type: ['null', 'string']},
      },
      $defs: {Inner: {type: 'object', properties: {k: {type: 'string'}}, required: ['k']}},
    }
    expect(sampleOf(root).value).toEqual({a: 3, b: 1.5, c: 'aa', d: 'x', e: {k: ''}, f: false, g: [[0, 0, 0, 0]], h: [0, 0], i: '1970-01-01T00:00:00Z', j: ''})
  })

  it('a self-referencing schema ends (depth bound)', () => {
    const root = {$defs: {N: {type: 'object', properties: {next: {$ref: '#/$defs/N'}}, required: ['next']}}, $ref: '#/$defs/N'}
    expect(() => JSON.stringify(sampleOf(root).value)).not.toThrow()
  })

  it('no apis and no schema: no API', () => {
    expect(smokeApisOf({schema: {}})).toEqual([])
    expect(smokeApisOf(null)).toEqual([])
  })
})
