/**
 * Build-config details against the REAL `bentoml build` 1.4.15 on the same project: a `docker.env` dotenv file
 * reads the build's environment, and a Python version BentoML refuses is refused with the same meaning.
 */
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {runBento, runBentoml, tempDir} from '../helpers/env.js'
import {legacyEchoProject} from '../helpers/projects.js'

let root: string

beforeAll(async () => {
  root = await tempDir('bento-config-interop-')
})
afterAll(async () => {
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
    const b = await runBentoml(['build', dir, '--output', 'tag'], theirs, {cwd: dir, env})
    expect(b.code, b.stderr).toBe(0)
    const path = (await runBentoml(['get', 'dotenv:latest', '-o', 'path'], theirs)).stdout.trim()
    const expected = ((await bentoYaml(path)).docker as {env: unknown}).env

    const r = await runBento(['build', '--json', dir], {env: {...env, BENTOML_HOME: join(root, 'home-bento')}})
    expect(r.code, r.stderr).toBe(0)
    const ours = ((await bentoYaml((JSON.parse(r.stdout) as {path: string}).path)).docker as {env: unknown}).env
    expect(expected).toEqual({A: 'a', TOKEN: 'from-env', BOTH: 'a-from-env', MISSING: '', Q: '$A'})
    expect(ours).toEqual(expected)
  })

  it('docker.python_version "2.7" is refused by both, with the same sentence', async () => {
    const dir = await legacyEchoProject(join(root, 'py27'), 'py27', 'docker:\n  python_version: "2.7"\n')
    await mkdir(join(root, 'home-py27'), {recursive: true})
    const b = await runBentoml(['build', dir], join(root, 'home-py27'), {cwd: dir})
    expect(b.code).not.toBe(0)
    const sentence = /2\.7 is not supported for debian\. Supported python versions are: [\d., ]+\./.exec(b.stdout + b.stderr)?.[0]
    expect(sentence, b.stdout + b.stderr).toBeDefined()

    const r = await runBento(['build', '--json', dir], {env: {BENTOML_HOME: join(root, 'home-py27-bento')}})
    expect(r.code).toBe(3)
    const {error} = JSON.parse(r.stdout) as {error: {message: string}}
    expect(error.message).toContain(`bentofile.yaml:4:19 docker.python_version: ${sentence}`)
  })
})
