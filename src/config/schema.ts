/** JSON Schema (draft-07) for bentofile.yaml, generated from the validator's field table. */
import type {FieldSpec, JsonSchema} from './engine.js'
import {BENTOFILE_SPEC} from './fields.js'

function fieldSchema(spec: FieldSpec): JsonSchema {
  const out: JsonSchema = {description: spec.description}
  switch (spec.kind) {
    case 'string':
      out.type = spec.nullable ? ['string', 'null'] : 'string'
      if (spec.enum) out.enum = spec.nullable ? [...spec.enum, null] : [...spec.enum]
      if (spec.pattern) out.pattern = spec.pattern
      if (spec.maxLength !== undefined) out.maxLength = spec.maxLength
      break
    case 'boolean':
      out.type = spec.nullable ? ['boolean', 'null'] : 'boolean'
      break
    case 'string-list':
      if (spec.wrapString) out.anyOf = [{type: 'string'}, {type: 'array', items: {type: 'string'}}, {type: 'null'}]
      else {
        out.type = ['array', 'null']
        out.items = {type: 'string'}
      }
      break
    case 'label-map':
      out.type = 'object'
      out.additionalProperties = {type: ['string', 'number', 'boolean']}
      break
    case 'any-map':
      out.type = 'object'
      break
    case 'section':
      out.type = ['object', 'null']
      out.additionalProperties = false
      out.properties = Object.fromEntries(Object.entries(spec.fields).map(([key, field]) => [key, fieldSchema(field)]))
      break
    case 'custom':
      Object.assign(out, spec.schema)
      break
  }
  if (spec.default !== undefined) out.default = spec.default
  if (spec.deprecated !== undefined) out.deprecated = true
  if (spec.examples !== undefined) out.examples = spec.examples
  return out
}

export function bentofileJsonSchema(): JsonSchema {
  const top = fieldSchema(BENTOFILE_SPEC)
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'bentofile.yaml',
    ...top,
    type: 'object',
  }
}

/** The exact text of schema/bentofile.schema.json (written by scripts/gen-schema.ts). */
export function renderBentofileJsonSchema(): string {
  return `${JSON.stringify(bentofileJsonSchema(), null, 2)}\n`
}
