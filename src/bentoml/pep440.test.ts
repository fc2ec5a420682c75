import {describe, expect, it} from 'vitest'

import {comparePep440, exactPin, isPep440Specifier, newestVersion, satisfiesSpecifier, versionAtLeast} from './pep440.js'

describe('PEP 440 through @renovatebot/pep440', () => {
  it('orders pre-releases before and post-releases after the release', () => {
    expect(comparePep440('1.4.15rc1', '1.4.15')).toBeLessThan(0)
    expect(comparePep440('1.4.15.post1', '1.4.15')).toBeGreaterThan(0)
    expect(comparePep440('1.4.15.dev3', '1.4.15rc1')).toBeLessThan(0)
    expect(comparePep440('1.4.15', '1.4.15.0')).toBe(0)
    expect(comparePep440('1.4.9', '1.4.10')).toBeLessThan(0)
    expect(versionAtLeast('1.4.40', '1.4.38')).toBe(true)
    expect(newestVersion(['1.4.9', '1.4.40', '1.4.15.post1'])).toBe('1.4.40')
  })

  it('refuses a string that is not a version', () => {
    expect(() => comparePep440('1.4.x', '1.4.0')).toThrow(/not a PEP 440 version/)
  })

  it('checks specifier sets as pip does', () => {
    expect(satisfiesSpecifier('1.4.40', '>=1.4.22')).toBe(true)
    expect(satisfiesSpecifier('1.4.15', '>=1.4.22')).toBe(false)
    expect(satisfiesSpecifier('1.4.40', '>=1.4.22,<1.5')).toBe(true)
    expect(satisfiesSpecifier('1.4.40', '~=1.4.0')).toBe(true)
    expect(satisfiesSpecifier('1.4.40', '!=1.4.40')).toBe(false)
    expect(satisfiesSpecifier('1.4.40', '==1.4.*')).toBe(true)
    expect(satisfiesSpecifier('1.4.40', '')).toBe(true)
    expect(isPep440Specifier('>=1.4.22,<1.5')).toBe(true)
    expect(isPep440Specifier('>=banana')).toBe(false)
  })

  it('finds the exact pin of a specifier set', () => {
    expect(exactPin('==1.4.40')).toBe('1.4.40')
    expect(exactPin('>=1.4,==1.4.22')).toBe('1.4.22')
    expect(exactPin('===1.4.22')).toBe('1.4.22')
    expect(exactPin('==1.4.*')).toBeNull()
    expect(exactPin('>=1.4.22')).toBeNull()
    expect(exactPin('')).toBeNull()
  })
})
