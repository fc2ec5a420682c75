/**
 * Delivery command lines: `bento push` with a bad reference, `bento containerize --output` with a bad value or a
 * target it must not write over: usage errors before any store, engine or registry call; no stack trace.
 */
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {tempDir} from '../helpers/env.js'

describe('bento push: command-line errors', () => {
  it.each([
    [['iris:1', '127.0.0.1:5000/iris@sha256:abc'], 'E_USAGE', 2, /a push names a tag, not a digest/],
    [['iris:1', 'ghcr.io/Team/iris:1'], 'E_USAGE', 2, /repository names are lowercase/],
    [['iris:1', '127.0.0.1:5000/iris:1', '--chunk-size', '0'], 'E_USAGE', 2, /chunk-size/],
    // A good reference: the engine is asked (DOCKER_HOST points nowhere) and is not there.
    [['iris:1', '127.0.0.1:5000/iris:1'], 'E_DOCKER_UNAVAILABLE', 7, /Cannot reach the Docker daemon/],
  ])('%j → %s', async (args, code, exit, message) => {
    const home = await tempDir('bento-push-cli-')
    const r = await runBentoInProcess(['push', ...args, '--json'], {env: {BENTOML_HOME: home, DOCKER_HOST: 'tcp://127.0.0.1:1'}})
    const e = (JSON.parse(r.stdout) as {error: {code: string; message: string}}).error
    expect(e.code).toBe(code)
    expect(e.message).toMatch(message)
    expect(r.code).toBe(exit)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('bento containerize --output: command-line errors', () => {
  it.each([
    ['tar:./x.tar', /--output "tar:\.\/x\.tar" is not an output bento writes: use oci:DIR \(an OCI image layout\) or docker-archive:FILE/],
    ['./iris-oci', /--output "\.\/iris-oci" is not an output bento writes: use oci:DIR/],
    ['oci:full', /--output oci:.*\/full: the directory exists and is not empty; bento does not overwrite it/],
    ['docker-archive:dir', /--output docker-archive:.*\/dir: it is a directory/],
  ])('%s → E_USAGE (exit 2), before the store or the engine is asked', async (value, message) => {
    const home = await tempDir('bento-output-cli-')
    await mkdir(join(home, 'full'))
    await writeFile(join(home, 'full/mine.txt'), 'keep')
    await mkdir(join(home, 'dir'))
    // No Bento in the store, no engine at DOCKER_HOST: the --output error comes first.
    const r = await runBentoInProcess(['containerize', 'iris:latest', '--output', value, '--json'], {cwd: home, env: {BENTOML_HOME: home, DOCKER_HOST: 'tcp://127.0.0.1:1'}})
    const e = (JSON.parse(r.stdout) as {error: {code: string; message: string; flag: string}}).error
    expect(e).toMatchObject({code: 'E_USAGE', flag: '--output'})
    expect(e.message).toMatch(message)
    expect(r.code).toBe(2)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
