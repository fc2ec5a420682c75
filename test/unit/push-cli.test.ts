/** `bento push` command line: a bad reference is a usage error before any engine or registry call; no stack trace. */
import {describe, expect, it} from 'vitest'

import {runBento, tempDir} from '../helpers/env.js'

describe('bento push: command-line errors', () => {
  it.each([
    [['iris:1', '127.0.0.1:5000/iris@sha256:abc'], 'E_USAGE', 2, /a push names a tag, not a digest/],
    [['iris:1', 'ghcr.io/Team/iris:1'], 'E_USAGE', 2, /repository names are lowercase/],
    [['iris:1', '127.0.0.1:5000/iris:1', '--chunk-size', '0'], 'E_USAGE', 2, /chunk-size/],
    // A good reference: the engine is asked (DOCKER_HOST points nowhere) and is not there.
    [['iris:1', '127.0.0.1:5000/iris:1'], 'E_DOCKER_UNAVAILABLE', 7, /Cannot reach the Docker daemon/],
  ])('%j → %s', async (args, code, exit, message) => {
    const home = await tempDir('bento-push-cli-')
    const r = await runBento(['push', ...args, '--json'], {env: {BENTOML_HOME: home, DOCKER_HOST: 'tcp://127.0.0.1:1'}})
    const e = (JSON.parse(r.stdout) as {error: {code: string; message: string}}).error
    expect(e.code).toBe(code)
    expect(e.message).toMatch(message)
    expect(r.code).toBe(exit)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
