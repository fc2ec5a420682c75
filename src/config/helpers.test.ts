import {describe, expect, it} from 'vitest'
import {parseDotenv} from './dotenv.js'
import {pyStr} from './py-str.js'
import {closest, editDistance} from './suggest.js'

describe('editDistance / closest', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('distro', 'distor')).toBe(1)
    expect(editDistance('abc', 'abc')).toBe(0)
    expect(editDistance('', 'abc')).toBe(3)
  })

  it('suggests close keys only', () => {
    expect(closest('pakages', ['packages', 'wheels'])).toBe('packages')
    expect(closest('requirements.txt', ['requirements_txt'], {keys: true})).toBe('requirements_txt')
    expect(closest('requirements', ['packages', 'requirements_txt'])).toBe('requirements_txt')
    expect(closest('user', ['distro', 'env', 'base_image'])).toBeUndefined()
  })
})

describe('pyStr (Python str() of YAML scalars)', () => {
  it.each([
    [true, undefined, 'True'],
    [false, undefined, 'False'],
    [null, undefined, 'None'],
    [3, '3', '3'],
    [3, '3.0', '3.0'],
    [3.1, '3.10', '3.1'],
    [1e-5, '1.0e-5', '1e-05'],
    [1e16, '1.0e+16', '1e+16'],
    [Infinity, '.inf', 'inf'],
  ] as const)('%s (%s) → %s', (value, source, expected) => {
    expect(pyStr(value, source)).toBe(expected)
  })
})

describe('parseDotenv', () => {
  it('parses BentoML dotenv lines', () => {
    const env = parseDotenv('# c\nexport A=1\nB = "two words" # note\nC=\'$A\'\nD=${A}-$B\nE: colon\nF\n', {B: 'ignored'})
    expect(env).toEqual({A: '1', B: 'two words', C: '$A', D: '1-two words', E: 'colon'})
  })
})
