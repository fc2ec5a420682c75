/**
 * The direct path (bin/run.js without oclif for `bento --version` and plain `bento build` lines) must mean what oclif
 * means: every command line it accepts, oclif's parser reads to the same flags and argument; whatever it does not
 * accept goes to oclif unchanged.
 */
import {fileURLToPath} from 'node:url'

import {Config, Flags, Parser} from '@oclif/core'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import Build from './build.js'
import {BUILD_FLAGS, parseBuildArgv, userAgent} from './direct.js'

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

async function oclifParse(argv: string[]): Promise<{context: string | undefined; flags: Record<string, unknown>}> {
  const flags = {...Build.baseFlags, ...Build.flags, json: Flags.boolean()}
  const out = await Parser.parse(argv, {flags, args: Build.args, strict: true})
  const set = Object.fromEntries(Object.entries(out.flags as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== false))
  return {context: (out.args as {context?: string}).context, flags: set}
}

const TOKENS = [
  'build-ctx', 'other', '--bentofile', '-f', 'a.yaml', '--bentofile=b.yaml', '--version', '-v', 'v1', '--version=v2',
  '--bentoml-version', '1.4.40', '--arg', 'k=v', '--arg=x=1', '--arg-file', 'f.yaml', '--json', '-q', '--quiet',
  '--', '--help', '-h', '-x', '--nope', '', '-', '-fa.yaml', '-qv', '--json=true', '--quiet=1', '--arg=', '-1',
]

describe('parseBuildArgv', () => {
  it('declares the flags `bento build` declares (names, short names, repeatable, boolean)', () => {
    const declared = {...Build.baseFlags, ...Build.flags}
    const shape = (f: {char?: string; multiple?: boolean; type: string}): string => `${f.char ?? ''}|${Boolean(f.multiple)}|${f.type}`
    expect(Object.fromEntries(Object.entries(BUILD_FLAGS).map(([k, f]) => [k, shape({...f, type: f.boolean ? 'boolean' : 'option'})]))).toEqual({
      ...Object.fromEntries(Object.entries(declared).map(([k, f]) => [k, shape(f as {char?: string; multiple?: boolean; type: string})])),
      json: '|false|boolean',
    })
    expect(Object.keys(Build.args)).toEqual(['context'])
  })

  it('reads the usual command lines', () => {
    expect(parseBuildArgv([])).toEqual({context: undefined, flags: {}})
    expect(parseBuildArgv(['./p', '-f', 'x.yaml', '--json', '--arg', 'a=1', '--arg=b=2', '-q', '--version=v1'])).toEqual({
      context: './p',
      flags: {bentofile: 'x.yaml', json: true, arg: ['a=1', 'b=2'], quiet: true, version: 'v1'},
    })
  })

  it('leaves to oclif what it does not read plainly (help, unknown flags, --, repeated single flags, bundled short flags)', () => {
    for (const argv of [['--help'], ['-h'], ['x', '--'], ['-f', 'a', '-f', 'b'], ['-qf', 'a'], ['-fa'], ['--json=true'], ['a', 'b'], ['-f'], ['-f', '-q'], ['']]) {
      expect(parseBuildArgv(argv), argv.join(' ')).toBeUndefined()
    }
  })

  it('agrees with oclif on every command line it accepts', async () => {
    let accepted = 0
    // Mostly well-formed lines (so many are accepted), with a chance of every odd token.
    const token = fc.oneof({arbitrary: fc.constantFrom(...TOKENS.slice(0, 20)), weight: 6}, {arbitrary: fc.constantFrom(...TOKENS), weight: 1})
    await fc.assert(
      fc.asyncProperty(fc.array(token, {maxLength: 7}), async (argv) => {
        const direct = parseBuildArgv(argv)
        if (direct === undefined) return
        accepted++
        const flags = Object.fromEntries(Object.entries(direct.flags).filter(([, v]) => v !== undefined && v !== false))
        expect(await oclifParse(argv), argv.join(' ')).toEqual({context: direct.context, flags})
      }),
      {numRuns: 1500},
    )
    expect(accepted).toBeGreaterThan(100)
  })
})

describe('userAgent', () => {
  it('is what oclif prints for --version', async () => {
    const config = await Config.load(BIN)
    expect(await userAgent()).toBe(config.userAgent)
  })
})
