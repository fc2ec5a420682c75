import {describe, expect, it} from 'vitest'

import {
  AmbiguousTagError,
  base32Lower,
  formatTag,
  InvalidTagError,
  makeVersion,
  parseFullTag,
  parseTag,
  randomVersion,
  tagPartProblem,
} from './tag.js'

describe('parseTag', () => {
  it('splits on the first colon', () => {
    expect(parseTag('iris')).toEqual({name: 'iris', version: null})
    expect(parseTag('iris:v1')).toEqual({name: 'iris', version: 'v1'})
    expect(parseTag('a.b-c_d:1.0.0')).toEqual({name: 'a.b-c_d', version: '1.0.0'})
  })

  it('lowercases with a warning, as BentoML', () => {
    const warnings: string[] = []
    expect(parseTag('Iris:ABC', {onWarning: (w) => warnings.push(w)})).toEqual({name: 'iris', version: 'abc'})
    expect(warnings).toEqual(["converting 'Iris' to lowercase: 'iris'", "converting 'ABC' to lowercase: 'abc'"])
  })

  it('rejects a trailing colon with E_INVALID_TAG', () => {
    let error: unknown
    try {
      parseTag('iris:')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InvalidTagError)
    expect((error as InvalidTagError).code).toBe('E_INVALID_TAG')
    expect((error as InvalidTagError).exitCode).toBe(2)
    expect((error as Error).message).toContain("trailing ':'")
    expect((error as InvalidTagError).hint).toContain('iris:latest')
  })

  it.each([
    ['-iris', 'must start and end'],
    ['iris-', 'must start and end'],
    ['ir is', 'must start and end'],
    ['iris:v/1', 'must start and end'],
    ['a:b:c', 'must start and end'],
    ['', 'must start and end'],
    ['x'.repeat(64), 'at most 63'],
    [`iris:${'v'.repeat(64)}`, 'at most 63'],
  ])('rejects %j', (input, message) => {
    expect(() => parseTag(input)).toThrow(message)
    expect(() => parseTag(input)).toThrow(InvalidTagError)
  })

  it('accepts 63 characters', () => {
    expect(parseTag(`${'a'.repeat(63)}:${'1'.repeat(63)}`).version).toHaveLength(63)
  })

  it('parseFullTag requires a version', () => {
    expect(parseFullTag('iris:v1')).toEqual({name: 'iris', version: 'v1'})
    expect(() => parseFullTag('iris')).toThrow(/has no version/)
  })

  it('tagPartProblem uses BentoML wording', () => {
    expect(tagPartProblem('ok')).toBeNull()
    expect(tagPartProblem('_x')).toBe(
      "_x is not a valid BentoML tag: a tag's name or version must consist of alphanumeric characters, '_', '-', " +
        "or '.', and must start and end with an alphanumeric character",
    )
  })

  it('formats tags', () => {
    expect(formatTag({name: 'iris', version: null})).toBe('iris')
    expect(formatTag({name: 'iris', version: 'v1'})).toBe('iris:v1')
  })

  it('has a usage-level ambiguous-tag error', () => {
    const e = new AmbiguousTagError('x')
    expect([e.code, e.exitCode]).toEqual(['E_AMBIGUOUS_TAG', 2])
  })
})

describe('versions', () => {
  it('base32 matches Python base64.b32encode(...).lower()', () => {
    expect(base32Lower(Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))).toBe('aaaqeayeaudaocaj')
    expect(base32Lower(new Uint8Array(10).fill(255))).toBe('7777777777777777')
  })

  it('makeVersion is the base32 of the first 10 bytes of sha256(seed)', () => {
    // python: base64.b32encode(hashlib.sha256(b'abc').digest()[:10]).decode().lower()
    expect(makeVersion(Buffer.from('abc'))).toBe('xj4bnp4pahh6uqkb')
    expect(makeVersion(new TextEncoder().encode('abc'))).toBe('xj4bnp4pahh6uqkb')
    expect(makeVersion(Buffer.from('abd'))).not.toBe('xj4bnp4pahh6uqkb')
  })

  it('randomVersion has BentoML shape and varies', () => {
    const versions = new Set(Array.from({length: 50}, () => randomVersion()))
    expect(versions.size).toBe(50)
    for (const v of versions) expect(v).toMatch(/^[a-z2-7]{16}$/)
  })
})
