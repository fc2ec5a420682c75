import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {BENTOFILE_SPEC, DOCKER_SECTION} from './fields.js'
import {bentofileJsonSchema, renderBentofileJsonSchema} from './schema.js'

const COMMITTED = new URL('../../schema/bentofile.schema.json', import.meta.url)

describe('bentofile JSON Schema', () => {
  it('is committed up to date (regenerate with `npx tsx scripts/gen-schema.ts`)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(renderBentofileJsonSchema())
  })

  it('is generated from the validator field table', () => {
    const schema = bentofileJsonSchema() as {properties: Record<string, {properties?: Record<string, unknown>}>; additionalProperties: boolean}
    expect(Object.keys(schema.properties)).toEqual(Object.keys(BENTOFILE_SPEC.fields))
    expect(Object.keys(schema.properties.docker?.properties ?? {})).toEqual(Object.keys(DOCKER_SECTION.fields))
    expect(schema.additionalProperties).toBe(false)
    expect(schema.properties.docker).toMatchObject({additionalProperties: false})
    expect(schema.properties.docker?.properties?.distro).toMatchObject({enum: ['debian', 'alpine', 'ubi8', 'amazonlinux', null], default: 'debian'})
    expect(schema.properties.include).toMatchObject({default: ['*']})
  })
})
