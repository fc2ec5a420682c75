/**
 * Arguments never come from stdin. oclif reads a missing positional argument from stdin when stdin is not a
 * TTY (a pipe, CI); `bento` turns that off for every command, so what is piped in never changes what runs.
 * Through the compiled CLI, with text on a pipe as stdin.
 */
import {existsSync} from 'node:fs'
import {mkdir, readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runBento, tempDir} from '../helpers/env.js'
import {echoProject} from '../helpers/projects.js'

let root: string
let home: string
const env = (): NodeJS.ProcessEnv => ({BENTOML_HOME: home})

async function project(name: string): Promise<string> {
  return echoProject(join(root, name), name)
}

async function tags(): Promise<string[]> {
  const r = await runBento(['list', '--json'], {env: env()})
  expect(r.code, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as {bentos: Array<{tag: string}>}).bentos.map((b) => b.tag).sort()
}

beforeAll(async () => {
  root = await tempDir('bento-stdin-')
  home = join(root, 'home')
  for (const name of ['x', 'y']) {
    const r = await runBento(['build', '--json', await project(name)], {env: env()})
    expect(r.code, r.stderr).toBe(0)
  }
})

afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

describe('piped stdin is never an argument', () => {
  it('bento list: a name on stdin does not filter', async () => {
    const r = await runBento(['list', '--json'], {env: env(), input: 'x\n'})
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as {bentos: Array<{name: string}>}).bentos.map((b) => b.name).sort()).toEqual(['x', 'y'])
  })

  it('bento models list: a name on stdin does not filter', async () => {
    const r = await runBento(['models', 'list', '--json'], {env: env(), input: 'nosuchmodel\n'})
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({models: []})
  })

  it('bento build: a directory on stdin is not the build context', async () => {
    const elsewhere = await project('elsewhere')
    const here = await project('here')
    const r = await runBento(['build', '--json'], {cwd: here, env: env(), input: `${elsewhere}\n`})
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({name: 'here'})
    expect(existsSync(join(home, 'bentos', 'elsewhere'))).toBe(false)
    await runBento(['delete', 'here:latest'], {env: env()})
  })

  it('bento export: a path on stdin is not the destination', async () => {
    const cwd = join(root, 'export-cwd')
    await mkdir(cwd)
    const stdinOut = join(root, 'from-stdin.tar')
    const r = await runBento(['export', 'x:latest', '--json'], {cwd, env: env(), input: `${stdinOut}\n`})
    expect(r.code, r.stderr).toBe(0)
    expect(existsSync(stdinOut)).toBe(false)
    expect(await readdir(cwd)).toEqual([expect.stringMatching(/^x-[a-z0-9]+\.bento$/)])
  })

  // A required argument that is missing is a usage error, whatever stdin holds.
  it.each([
    ['get', ['get']],
    ['delete', ['delete']],
    ['export', ['export']],
    ['import', ['import']],
    ['containerize', ['containerize']],
    ['models get', ['models', 'get']],
  ])('bento %s without its argument: E_USAGE, stdin ignored', async (_name, args) => {
    const r = await runBento([...args, '--json'], {env: env(), input: 'x:latest\n'})
    expect(r.code, r.stdout + r.stderr).toBe(2)
    expect(JSON.parse(r.stdout)).toMatchObject({error: {code: 'E_USAGE', exitCode: 2}})
    expect(r.stdout + r.stderr).toMatch(/Missing 1 required arg/)
  })

  it('left the store as it was (nothing deleted or imported from stdin)', async () => {
    expect((await tags()).map((t) => t.split(':')[0])).toEqual(['x', 'y'])
  })
})
