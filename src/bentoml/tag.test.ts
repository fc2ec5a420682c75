import {describe, expect, it} from 'vitest'

import {formatTag, splitTag, TAG_RULE, tagPartProblem, tagRuleBreaks} from './tag.js'

describe('the tag rule, one home', () => {
  it('tagPartProblem: null for a valid part, BentoML wording otherwise; latest refused only as a version', () => {
    expect(tagPartProblem('iris-1.0_b')).toBeNull()
    expect(tagPartProblem('latest')).toBeNull()
    expect(tagPartProblem('latest', {version: true})).toBe("'latest' is reserved: it names the newest version, it cannot be one")
    expect(tagPartProblem('x'.repeat(64))).toMatch(/is not a valid BentoML tag: a tag's name or version must be at most 63 characters in length$/)
  })

  it('tagRuleBreaks: one clause per break, none for a valid part', () => {
    expect(tagRuleBreaks('iris')).toEqual([])
    expect(tagRuleBreaks(`-${'a'.repeat(63)}`)).toEqual([
      'must be at most 63 characters (it has 64)',
      "must consist of lowercase alphanumeric characters, '_', '-' or '.', and start and end with an alphanumeric character",
    ])
  })

  it('TAG_RULE says the rule in words', () => {
    expect(TAG_RULE).toBe("lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters")
  })
})

describe('tags as values', () => {
  it('splitTag takes a tag apart at the first colon, as written; formatTag writes it back', () => {
    expect(splitTag('Iris')).toEqual({name: 'Iris', version: null})
    expect(splitTag('iris:v1')).toEqual({name: 'iris', version: 'v1'})
    expect(splitTag('iris:')).toEqual({name: 'iris', version: ''})
    expect(splitTag('a:b:c')).toEqual({name: 'a', version: 'b:c'})
    for (const t of ['iris', 'iris:v1', 'a:b:c']) expect(formatTag(splitTag(t))).toBe(t)
  })
})
