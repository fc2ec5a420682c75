import {describe, expect, it} from 'vitest'

import {argSourceOrder, BentoArgError, mergeBentoArgs, parseArgFlags} from './args.js'

// Observed with bentoml 1.4.40 (bentofile args {a: cfg, b: cfg, c: cfg}, args.yaml {a: file, b: file}):
//   bentoml build --arg a=cli --arg-file args.yaml --arg a=cli2  →  {a: cli2, b: file, c: cfg}
//   bentoml build --arg-file args.yaml --arg a=cli               →  {a: file, b: file, c: cfg}
describe('mergeBentoArgs (bentoml build 1.4.40)', () => {
  const cfg = {a: 'cfg', b: 'cfg', c: 'cfg'}
  const file = {kind: 'file' as const, path: 'args.yaml', data: {a: 'file', b: 'file'}}

  it('--arg first: the last --arg of a key wins, then the file, then the bentofile', () => {
    expect(mergeBentoArgs([{kind: 'arg', values: ['a=cli', 'a=cli2']}, file], cfg)).toEqual({a: 'cli2', b: 'file', c: 'cfg'})
  })

  it('--arg-file first: the file wins over --arg', () => {
    expect(mergeBentoArgs([file, {kind: 'arg', values: ['a=cli']}], cfg)).toEqual({a: 'file', b: 'file', c: 'cfg'})
  })

  it('values split at the first "=", stay strings; YAML values keep their types', () => {
    expect(parseArgFlags(['url=http://x?a=b', 'empty='])).toEqual({url: 'http://x?a=b', empty: ''})
    expect(mergeBentoArgs([{kind: 'file', path: 'f', data: {n: 3, post: ['a']}}])).toEqual({n: 3, post: ['a']})
  })

  it('rejects an --arg without "=" and a file that is not a mapping', () => {
    expect(() => parseArgFlags(['oops'])).toThrow(BentoArgError)
    expect(() => parseArgFlags(['oops'])).toThrow('Invalid argument format: oops. Must be in the form of key=value')
    expect(() => mergeBentoArgs([{kind: 'file', path: 'f.yaml', data: ['a']}])).toThrow(/must hold a YAML mapping/)
    expect(() => mergeBentoArgs([{kind: 'file', path: 'f.yaml', data: null}])).toThrow(/must hold a YAML mapping/)
  })

  it('argSourceOrder follows the first appearance on the command line', () => {
    expect(argSourceOrder(['build', '--arg', 'a=1', '--arg-file=f.yaml', '--arg', 'b=2'])).toEqual(['arg', 'file'])
    expect(argSourceOrder(['--arg-file', 'f.yaml', '--arg=a=1'])).toEqual(['file', 'arg'])
    expect(argSourceOrder(['--', '--arg', 'x=1'])).toEqual([])
  })
})
