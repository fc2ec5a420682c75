import {describe, expect, it} from 'vitest'

import {UsageError} from '../errors.js'
import {checkExpectation, parseExpectation, splitApiPrefix} from './smoke-expect.js'

const check = (expr: string, json: unknown): string | undefined => checkExpectation(parseExpectation(expr), json)

describe('--expect: PATH [| length] [OP JSON]', () => {
  it('indexes, keys and quoted keys', () => {
    expect(check('.[0] == "setosa"', ['setosa'])).toBeUndefined()
    expect(check('.[0] == "setosa"', ['virginica'])).toBe('.[0] == "setosa": got "virginica"')
    expect(check('.a.b[1] == 2', {a: {b: [1, 2]}})).toBeUndefined()
    expect(check('.["x y"] == true', {'x y': true})).toBeUndefined()
    expect(check('.[-1] == 3', [1, 2, 3])).toBeUndefined()
    expect(check('. == [0]', [0])).toBeUndefined()
  })

  it('compares deeply and orders numbers and strings', () => {
    expect(check('.scores == {"a": [1, 2]}', {scores: {a: [1, 2]}})).toBeUndefined()
    expect(check('.p >= 0.5', {p: 0.7})).toBeUndefined()
    expect(check('.p < 0.5', {p: 0.7})).toBe('.p < 0.5: got 0.7')
    expect(check('.p > "a"', {p: 1})).toBe('.p > "a": cannot compare 1 with "a"')
    expect(check('.p != null', {p: 1})).toBeUndefined()
  })

  it('| length and bare existence', () => {
    expect(check('.items | length == 3', {items: [1, 2, 3]})).toBeUndefined()
    expect(check('. | length > 0', 'abc')).toBeUndefined()
    expect(check('.n | length == 1', {n: 5})).toBe('.n | length == 1: 5 has no length')
    expect(check('.ok', {ok: true})).toBeUndefined()
    expect(check('.missing', {})).toBe('.missing: got nothing')
    expect(check('.[3] == 1', [1])).toBe('.[3] == 1: got nothing')
  })

  it('bad expressions are usage errors, never a crash', () => {
    for (const bad of ['[0] == 1', '.[0] =~ 1', '.[0] == setosa', '.[abc]', '.[0', '.a | keys']) {
      expect(() => parseExpectation(bad), bad).toThrow(UsageError)
    }
  })

  it('NAME= prefixes select an API; == is no prefix', () => {
    expect(splitApiPrefix('classify=.[0] == 1')).toEqual({api: 'classify', value: '.[0] == 1'})
    expect(splitApiPrefix('.[0] == 1')).toEqual({value: '.[0] == 1'})
    expect(splitApiPrefix('classify=@in.json')).toEqual({api: 'classify', value: '@in.json'})
    expect(splitApiPrefix('a==1')).toEqual({value: 'a==1'})
  })
})
