/**
 * `bento delete`, `bento models list` and `bento models get` through the compiled CLI: results, `--json` shapes,
 * and the error contract (exit code, code, no stack) for missing and malformed tags.
 */
import {existsSync} from 'node:fs'
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {MODEL_VERSION, writeModel} from '../helpers/build-inputs.js'
import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {type RunResult, tempDir} from '../helpers/env.js'
import {echoProject} from '../helpers/projects.js'

let root: string
let home: string
const env = (): NodeJS.ProcessEnv => ({BENTOML_HOME: home})

function json<T>(r: RunResult): T {
  expect(r.code, r.stdout + r.stderr).toBe(0)
  return JSON.parse(r.stdout) as T
}

function error(r: RunResult, code: string, exitCode: number): {message: string; hint?: string} {
  expect(r.code, r.stdout + r.stderr).toBe(exitCode)
  expect(r.stderr).not.toContain('    at ')
  expect(r.stderr).toContain(`Error [${code}]: `)
  const body = JSON.parse(r.stdout) as {error: {code: string; exitCode: number; message: string; hint?: string}}
  expect(body.error).toMatchObject({code, exitCode})
  return body.error
}

const tags = async (): Promise<string[]> =>
  json<{bentos: Array<{tag: string}>}>(await runBentoInProcess(['list', '--json'], {env: env()})).bentos.map((b) => b.tag).sort()

beforeAll(async () => {
  root = await tempDir('bento-store-cmds-')
  home = join(root, 'home')
  const project = await echoProject(join(root, 'x'), 'x')
  for (const v of ['v1', 'v2']) json(await runBentoInProcess(['build', '--json', project, '--version', v], {env: env()}))
  json(await runBentoInProcess(['build', '--json', await echoProject(join(root, 'y'), 'y'), '--version', 'v1'], {env: env()}))
  await writeModel(home)
})

afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

describe('bento delete', () => {
  it('deletes one version; latest moves to the newest remaining one', async () => {
    expect(await readFile(join(home, 'bentos/x/latest'), 'utf8')).toBe('v2')
    expect(json(await runBentoInProcess(['delete', 'x:v2', '--json'], {env: env()}))).toEqual({deleted: 'x:v2', latest: 'x:v1'})
    expect(await readFile(join(home, 'bentos/x/latest'), 'utf8')).toBe('v1')
    expect(await tags()).toEqual(['x:v1', 'y:v1'])
  })

  it('x:latest deletes the version latest names; the last version takes the name with it', async () => {
    const r = await runBentoInProcess(['delete', 'x:latest'], {env: env()})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('Deleted Bento "x:v1".\n')
    expect(existsSync(join(home, 'bentos/x'))).toBe(false)
    expect(await tags()).toEqual(['y:v1'])
  })

  it('a Bento that does not exist: E_BENTO_NOT_FOUND, exit 4, with the versions there are', async () => {
    expect(error(await runBentoInProcess(['delete', 'y:nope', '--json'], {env: env()}), 'E_BENTO_NOT_FOUND', 4).message).toMatch(/Versions of 'y': v1/)
    error(await runBentoInProcess(['delete', 'nosuch:v1', '--json'], {env: env()}), 'E_BENTO_NOT_FOUND', 4)
  })

  it('a malformed tag: E_INVALID_TAG, exit 2; the store is unchanged', async () => {
    error(await runBentoInProcess(['delete', 'Not A Tag', '--json'], {env: env()}), 'E_INVALID_TAG', 2)
    expect(await tags()).toEqual(['y:v1'])
  })
})

describe('bento models list / get', () => {
  const tag = `iris_clf:${MODEL_VERSION}`

  it('list: every model with module, size and path; a name filters', async () => {
    const all = json<{models: Array<{tag: string; module: string; sizeBytes: number; path: string}>; problems: string[]}>(
      await runBentoInProcess(['models', 'list', '--json'], {env: env()}),
    )
    expect(all.models).toEqual([expect.objectContaining({tag, module: 'bentoml.sklearn', path: join(home, 'models/iris_clf', MODEL_VERSION)})])
    expect(all.models[0]!.sizeBytes).toBeGreaterThan(2048)
    expect(all.problems).toEqual([])
    const table = await runBentoInProcess(['models', 'list', 'iris_clf'], {env: env()})
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^Tag\s+Module\s+Size\s+Creation Time/)
    expect(table.stdout).toContain(tag)
  })

  it('get: name, name:latest and a version prefix name the model; -o path and -o yaml', async () => {
    for (const t of ['iris_clf', 'iris_clf:latest', `iris_clf:${MODEL_VERSION.slice(0, 5)}`]) {
      expect(json<{tag: string; info: {module: string}}>(await runBentoInProcess(['models', 'get', t, '--json'], {env: env()}))).toMatchObject({
        tag,
        info: {module: 'bentoml.sklearn'},
      })
    }
    const path = await runBentoInProcess(['models', 'get', 'iris_clf', '-o', 'path'], {env: env()})
    expect(path.stdout).toBe(`${join(home, 'models/iris_clf', MODEL_VERSION)}\n`)
    const yaml = await runBentoInProcess(['models', 'get', 'iris_clf'], {env: env()})
    expect(yaml.stdout).toBe(await readFile(join(home, 'models/iris_clf', MODEL_VERSION, 'model.yaml'), 'utf8'))
  })

  it('get: a missing model is E_MODEL_NOT_FOUND (exit 4) listing the versions; a malformed tag is exit 2', async () => {
    expect(error(await runBentoInProcess(['models', 'get', 'iris_clf:zzz', '--json'], {env: env()}), 'E_MODEL_NOT_FOUND', 4).message).toContain(MODEL_VERSION)
    error(await runBentoInProcess(['models', 'get', 'Iris Clf', '--json'], {env: env()}), 'E_INVALID_TAG', 2)
  })
})
