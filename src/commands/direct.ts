/**
 * The direct path (issue 20, start-up): bin/run.js runs `bento --version` and plain `bento build` command lines
 * without loading oclif, whose import and configuration cost more than the build of a small project. A command line
 * is taken here only when it is read plainly (known flags, `--flag value` / `--flag=value` / `-c value`, each
 * single flag once, at most one argument, no help): anything else returns false and oclif runs it as before, so
 * help, usage errors and their messages stay oclif's. `direct.test.ts` checks every line accepted here against
 * oclif's own parser and the flags against `Build`'s. No @oclif/core here.
 */
import {readFile} from 'node:fs/promises'
import {arch, platform, release} from 'node:os'

import {PACKAGE_ROOT} from '../version.js'
import type {BuildLine} from './direct-build.js'

interface FlagShape {
  char?: string
  multiple?: boolean
  boolean?: boolean
}

/** `bento build`'s flags (build.ts, BaseCommand's `--quiet`, oclif's `--json`). */
export const BUILD_FLAGS: Readonly<Record<string, FlagShape>> = {
  quiet: {char: 'q', boolean: true},
  bentofile: {char: 'f'},
  version: {char: 'v'},
  'bentoml-version': {},
  arg: {multiple: true},
  'arg-file': {},
  platform: {},
  'no-lock': {boolean: true},
  json: {boolean: true},
}


/** `bento build`'s arguments (after `build`) when read plainly, else undefined (oclif reads them). */
export function parseBuildArgv(argv: readonly string[]): BuildLine | undefined {
  const byName = new Map(Object.entries(BUILD_FLAGS))
  const byChar = new Map(Object.entries(BUILD_FLAGS).flatMap(([name, f]) => (f.char === undefined ? [] : [[f.char, name] as const])))
  let context: string | undefined
  const flags: Record<string, string | string[] | boolean> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '') return undefined
    if (!a.startsWith('-')) {
      if (context !== undefined) return undefined
      context = a
      continue
    }
    let name: string | undefined
    let value: string | undefined
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      name = eq < 0 ? a.slice(2) : a.slice(2, eq)
      value = eq < 0 ? undefined : a.slice(eq + 1)
    } else if (a.length === 2) {
      name = byChar.get(a[1]!)
    }
    const shape = name === undefined ? undefined : byName.get(name)
    if (name === undefined || shape === undefined) return undefined
    if (!shape.multiple && name in flags) return undefined
    if (shape.boolean) {
      if (value !== undefined) return undefined
      flags[name] = true
      continue
    }
    if (value === undefined) value = argv[++i]
    if (value === undefined || value === '' || value.startsWith('-')) return undefined
    if (shape.multiple) flags[name] = [...((flags[name] as string[] | undefined) ?? []), value]
    else flags[name] = value
  }
  return {context, flags: flags as BuildLine['flags']}
}

/** What `bento --version` prints (oclif's `config.userAgent`); undefined on WSL, which oclif names itself. */
export async function userAgent(): Promise<string | undefined> {
  if (await isWsl()) return undefined
  const pjson = JSON.parse(await readFile(new URL('package.json', PACKAGE_ROOT), 'utf8')) as {name: string; version?: string}
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  return `${pjson.name}/${pjson.version ?? '0.0.0'} ${platform()}-${cpu} node-${process.version}`
}

async function isWsl(): Promise<boolean> {
  if (platform() !== 'linux') return false
  if (release().toLowerCase().includes('microsoft')) return true
  try {
    return (await readFile('/proc/version', 'utf8')).toLowerCase().includes('microsoft')
  } catch {
    return false
  }
}

/**
 * Runs `argv` (process.argv after the script) if it is `--version` or a plain `build` line; false: oclif runs it.
 * With oclif's debug output asked for (`DEBUG`, `BENTO_DEBUG`) or JSON by environment (`BENTO_CONTENT_TYPE`), oclif does.
 */
export async function runDirect(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.DEBUG !== undefined || env.BENTO_DEBUG !== undefined || env.BENTO_CONTENT_TYPE !== undefined) return false
  if (argv[0] === '--version') {
    const text = await userAgent()
    if (text === undefined) return false
    process.stdout.write(`${text}\n`)
    return true
  }
  if (argv[0] !== 'build') return false
  const line = parseBuildArgv(argv.slice(1))
  if (line === undefined) return false
  // The build and everything it loads: its own bundle (dist/direct-build.cjs), which `--version` never reads.
  const {runBuildLine} = await import('./direct-build.js')
  await runBuildLine(line, argv.slice(1), env)
  return true
}
