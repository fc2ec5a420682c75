/**
 * Build-config details against the REAL `bentoml build` (1.4.15 and 1.4.40) on the same project: a `docker.env`
 * dotenv file reads the build's environment, a Python version BentoML refuses is refused with the same meaning, and
 * 1.4.40's warnings for the bentofile keys its v2 Bentos do not support are given at the key's line.
 */
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {bentomlVenv, tempDir} from '../helpers/env.js'
import {echoProject, legacyEchoProject} from '../helpers/projects.js'
import {type BentomlZygote, startBentomlZygote, startZygote, type Zygote} from '../helpers/zygote.js'

let root: string
// One Python per BentoML release for the file's CLI calls, each call a fork (test/helpers/zygote.ts).
let bentoml1415: BentomlZygote
let bentoml1440: Zygote

beforeAll(async () => {
  root = await tempDir('bento-config-interop-')
  bentoml1415 = startBentomlZygote('1.4.15')
  bentoml1440 = startZygote(bentomlVenv('1.4.40').python, ['bentoml_cli.cli'], {BENTOML_DO_NOT_TRACK: 'true'})
})
afterAll(async () => {
  await bentoml1415.close()
  await bentoml1440.close()
  await rm(root, {recursive: true, force: true})
})

async function bentoYaml(path: string): Promise<Record<string, unknown>> {
  return parse(await readFile(join(path, 'bento.yaml'), 'utf8')) as Record<string, unknown>
}

describe('bento build reads the config as the real bentoml build 1.4.15 does', () => {
  it('docker.env from a dotenv file: ${VAR} and $VAR from the environment, earlier keys first', async () => {
    // A runner-style service: BentoML 1.4.15 writes docker.env only into spec-1 Bentos.
    const dir = await legacyEchoProject(join(root, 'dotenv'), 'dotenv', 'docker:\n  env: .env\n')
    await writeFile(join(dir, '.env'), 'A=a\nTOKEN=${BENTO_INTEROP_TOKEN}\nBOTH=$A-${BENTO_INTEROP_TOKEN}\nMISSING=${BENTO_INTEROP_UNSET}\nQ=\'$A\'\n')
    const env = {BENTO_INTEROP_TOKEN: 'from-env', A: 'loses-to-the-file'}

    const theirs = join(root, 'home-bentoml')
    const b = await bentoml1415.bentoml(['build', dir, '--output', 'tag'], theirs, {cwd: dir, env})
    expect(b.code, b.stderr).toBe(0)
    // (not `bentoml get -o path`: BentoML's console wraps a long path at 80 columns)
    const path = join(theirs, 'bentos/dotenv', await readFile(join(theirs, 'bentos/dotenv/latest'), 'utf8'))
    const expected = ((await bentoYaml(path)).docker as {env: unknown}).env

    const r = await runBentoInProcess(['build', '--json', dir], {env: {...env, BENTOML_HOME: join(root, 'home-bento')}})
    expect(r.code, r.stderr).toBe(0)
    const ours = ((await bentoYaml((JSON.parse(r.stdout) as {path: string}).path)).docker as {env: unknown}).env
    expect(expected).toEqual({A: 'a', TOKEN: 'from-env', BOTH: 'a-from-env', MISSING: '', Q: '$A'})
    expect(ours).toEqual(expected)
  })

  it('docker.python_version "2.7" is refused by both, with the same sentence', async () => {
    const dir = await legacyEchoProject(join(root, 'py27'), 'py27', 'docker:\n  python_version: "2.7"\n')
    await mkdir(join(root, 'home-py27'), {recursive: true})
    const b = await bentoml1415.bentoml(['build', dir], join(root, 'home-py27'), {cwd: dir})
    expect(b.code).not.toBe(0)
    const sentence = /2\.7 is not supported for debian\. Supported python versions are: [\d., ]+\./.exec(b.stdout + b.stderr)?.[0]
    expect(sentence, b.stdout + b.stderr).toBeDefined()

    const r = await runBentoInProcess(['build', '--json', dir], {env: {BENTOML_HOME: join(root, 'home-py27-bento')}})
    expect(r.code).toBe(3)
    const {error} = JSON.parse(r.stdout) as {error: {message: string}}
    expect(error.message).toContain(`bentofile.yaml:4:19 docker.python_version: ${sentence}`)
  })
})

describe('bento build and the real bentoml build 1.4.40', () => {
  const bentoml = async (args: string[], home: string, cwd: string, env: Record<string, string> = {}) =>
    bentoml1440.run([bentomlVenv('1.4.40').bentoml, ...args], {cwd, env: {...env, BENTOML_HOME: home}})

  it('a @bentoml.service with docker.cuda_version: the same "not supported by bento v2" warning, at the line', async () => {
    const dir = await echoProject(join(root, 'cuda-1440'), 'sdkcuda', 'docker:\n  cuda_version: "11.6"\n')
    const b = await bentoml(['build', dir], join(root, 'home-cuda-1440'), dir)
    expect(b.code, b.stderr).toBe(0)
    const sentence = /docker\.cuda_version is not supported by bento v2, fallback to bento v1/.exec(b.stdout + b.stderr)?.[0]
    expect(sentence, b.stdout + b.stderr).toBeDefined()
    const r = await runBentoInProcess(['build', '--json', dir], {env: {BENTOML_HOME: join(root, 'home-cuda-bento')}})
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as {warnings: string[]}).warnings).toContainEqual(expect.stringContaining(`bentofile.yaml:4:17 docker.cuda_version: ${sentence}`))
  })

  it('docker.python_version "2.7" is refused by both', async () => {
    // 1.4.40 has no runner-style bentoml.Service any more: a @bentoml.service
    const dir = await echoProject(join(root, 'py27-1440'), 'py27', 'docker:\n  python_version: "2.7"\n')
    const b = await bentoml(['build', dir], join(root, 'home-py27-1440'), dir)
    expect(b.code).not.toBe(0)
    expect(b.stdout + b.stderr).toMatch(/2\.7 is not supported for debian\. Supported python versions are: /)
    const r = await runBentoInProcess(['build', '--json', dir], {env: {BENTOML_HOME: join(root, 'home-py27-1440-bento')}})
    expect(r.code).toBe(3)
    expect((JSON.parse(r.stdout) as {error: {message: string}}).error.message).toContain('bentofile.yaml:4:19 docker.python_version: 2.7 is not supported for debian.')
  })
})
