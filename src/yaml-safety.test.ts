/**
 * The cases below were checked against PyYAML 6 (`yaml.safe_load`, BentoML 1.4.15's venv): refused ones raise there,
 * accepted ones load. test/e2e/import-readable.test.ts compares with the real BentoML on fuzzed bento.yaml files.
 */
import {parseDocument} from 'yaml'
import {describe, expect, it} from 'vitest'

import {pyyamlProblems, pyyamlTextProblems} from './yaml-safety.js'

function problems(text: string): string[] {
  const doc = parseDocument(text, {version: '1.1', uniqueKeys: false})
  return [...pyyamlTextProblems(text), ...pyyamlProblems(doc)].map((p) => p.message)
}

describe('what PyYAML refuses', () => {
  it.each([
    ['an alias without anchor', 'a: *nope\n', /no anchor/],
    ['an alias before its anchor', 'a: *b\nb: &b 1\n', /no anchor/],
    ['a merge of a scalar', 'a: {<<: 1}\n', /merge key/],
    ['a recursive alias', 'a: &x [*x]\n', /inside its own anchor/],
    ['a python tag', 'a: !!python/object/apply:os.system [x]\n', /tag '!!python/],
    ['a local tag', 'a: !secret 1\n', /tag '!secret'/],
    ['!!int of a word', 'a: !!int x\n', /!!int of "x"/],
    ['!!int of nothing', 'a: !!int ""\n', /!!int of ""/],
    ['!!float of a word', 'a: !!float y\n', /!!float of "y"/],
    ['!!bool of Y', 'a: !!bool Y\n', /!!bool of "Y"/],
    ['!!timestamp of a word', 'a: !!timestamp x\n', /!!timestamp of "x"/],
    ['!!int on a list', 'a: !!int [1]\n', /on a collection/],
    ['!!seq on a mapping', 'a: !!seq {b: 1}\n', /not a sequence/],
    ['!!map on a list', 'a: !!map [1]\n', /not a mapping/],
    ['!!omap of a mapping', 'a: !!omap {b: 1}\n', /one-key mappings/],
    ['a control character', 'a: b\u0007c\n', /U\+0007 is not allowed/],
    ['a C1 control character', 'a: \u0085\u0081\n', /U\+0081 is not allowed/],
    ['a tab inside a plain scalar', 'a: x\ty\n', /tab/],
    ['a tab after a colon', 'a:\tx\n', /tab/],
    ['a trailing tab', 'a: 1\t\n', /tab/],
    ['a tab in flow', 'a: [1,\t2]\n', /tab/],
    ['a tab as indentation', 'a:\n\t- 1\n', /tab/],
  ])('refuses %s', (_what, text, message) => {
    expect(problems(text).join('\n')).toMatch(message)
  })

  it.each([
    ['standard tags with values PyYAML constructs', 'a: !!int 0x1F\nb: !!int 1_000\nc: !!int 1:20\nd: !!float .Inf\ne: !!float 1e5\nf: !!bool on\ng: !!null x\nh: !!timestamp 2025-01-01\ni: !!binary aGVsbG8=\nj: !!str 1\nk: !!set {x, y}\nl: !!omap [{m: 1}]\n'],
    ['tabs in quoted scalars, comments and block scalar content', 'a: "x\ty"\nb: \'x\ty\'\n# c\td\nc: |\n  x\ty\n'],
    ['aliases and merge keys in order', 'base: &b {x: 1}\nc: {<<: *b, y: 2}\nd: *b\n'],
    ['printable non-ASCII', 'a: café ☕ 中文 \u{1F600}\n'],
  ])('accepts %s', (_what, text) => {
    expect(problems(text)).toEqual([])
  })
})
