/**
 * The cases below were checked against PyYAML 6 (`yaml.safe_load`, BentoML 1.4.15's venv): refused ones raise there,
 * accepted ones load. test/e2e/import-readable.test.ts compares with the real BentoML on fuzzed bento.yaml files.
 */
import {Alias, parseDocument} from 'yaml'
import {describe, expect, it, vi} from 'vitest'

import {pyyamlProblems, pyyamlTextProblems, toJSExpanded} from './yaml-safety.js'

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

  // yaml's Alias.resolve walks the whole document for every alias: a 64 KB bento.yaml of 16,000 aliases of one
  // anchor took 43 s to check (32 KB: 9 s). The check resolves every alias in one walk.
  it('resolves the aliases in one walk of the document, never alias by alias; the last anchor of a name before an alias is its target', () => {
    const resolve = vi.spyOn(Alias.prototype, 'resolve')
    try {
      const many = `a: &x 1\nb: [${Array(1000).fill('*x').join(', ')}]\n`
      expect(problems(many)).toEqual([])
      // Shadowed anchors: *x is the mapping before it, then the scalar; merging the scalar is refused.
      expect(problems('a: &x {k: 1}\nb: {<<: *x}\nc: &x 1\nd: *x\n')).toEqual([])
      expect(problems('a: &x {k: 1}\nc: &x 1\nb: {<<: *x}\n').join('\n')).toMatch(/merge key/)
      // Inside its own anchor, even when an older anchor has the name.
      expect(problems('a: &x 1\nb: &x [*x]\n').join('\n')).toMatch(/inside its own anchor/)
      expect(problems('a: *x\nb: &x 1\n').join('\n')).toMatch(/no anchor/)
      expect(resolve).not.toHaveBeenCalled()
    } finally {
      resolve.mockRestore()
    }
  })
})

describe('toJSExpanded', () => {
  const docOf = (text: string) => parseDocument(text, {version: '1.1', uniqueKeys: false})

  it.each([
    ['no alias', 'a: 1\nb: [x, {c: null}]\n'],
    ['aliases of scalars, mappings and lists', 'a: &s 1\nb: &m {k: [1, 2]}\nc: &l [*s, *m]\nd: [*l, *l, *m, *s]\n'],
    ['shadowed anchors', 'a: &x {k: 1}\nb: *x\nc: &x 2\nd: *x\n'],
    ['merge keys, one and several, and overrides', 'base: &b {x: 1, y: 2}\nmore: &m {z: 3}\nc: {<<: *b, y: 20}\nd: {<<: [*b, *m]}\n'],
    ['an alias as a key', 'a: &k key\nb: {*k : v}\n'],
    ['aliases inside an anchored node', 'a: &s 1\nb: &n [*s, *s]\nc: [*n, *n]\n'],
    ['sets, ordered maps and timestamps', 'a: &t 2025-01-01\nb: !!set {x, y}\nc: !!omap [{m: *t}]\nd: *t\n'],
  ])('equals yaml\'s toJS: %s', (_what, text) => {
    const doc = docOf(text)
    expect(pyyamlProblems(doc)).toEqual([])
    expect(toJSExpanded(doc)).toEqual(doc.toJS({maxAliasCount: -1}))
  })

  it('leaves the document as it was (its aliases and ranges locate diagnostics)', () => {
    const text = 'a: &x {k: 1}\nb: *x\n'
    const doc = docOf(text)
    const before = doc.toString()
    toJSExpanded(doc)
    expect(doc.toString()).toBe(before)
    expect((doc.contents as {items: Array<{value: unknown}>}).items[1]?.value).toBeInstanceOf(Alias)
  })

  // yaml's toJS looks each alias up in a list of every alias and anchor before it: 32,000 aliases of one anchor
  // (128 KB) took 12.5 s.
  it('never resolves alias by alias', () => {
    const resolve = vi.spyOn(Alias.prototype, 'resolve')
    try {
      const doc = docOf(`a: &x 1\nb: &y [${Array(1000).fill('*x').join(', ')}]\nc: {<<: {k: *y}}\n`)
      const js = toJSExpanded(doc) as {b: number[]; c: {k: number[]}}
      expect(js.b).toHaveLength(1000)
      expect(js.c.k).toEqual(js.b)
      expect(resolve).not.toHaveBeenCalled()
    } finally {
      resolve.mockRestore()
    }
  })
})

