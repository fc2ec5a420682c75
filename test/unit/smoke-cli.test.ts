/** `bento smoke` command line: bad flags are typed usage errors before any Docker call, never a stack trace. */
import {describe, expect, it} from 'vitest'

import {runBento} from '../helpers/env.js'

describe('bento smoke: command-line errors', () => {
  it.each([
    [['iris:dev', '--expect', '[0] == 1'], /--expect '\[0\] == 1': the path must start with "\."/],
    [['iris:dev', '--expect', '.[0] == setosa'], /is not a JSON value/],
    [['iris:dev', '--env', 'NOEQUALS'], /--env NOEQUALS is not NAME=VALUE/],
    [['iris:dev', '--input-file', '/nonexistent/inputs.json'], /--input-file: cannot read/],
  ])('%j', async (args, message) => {
    // No daemon is asked: DOCKER_HOST points nowhere.
    const r = await runBento(['smoke', ...args, '--json'], {env: {DOCKER_HOST: 'tcp://127.0.0.1:1'}})
    const e = (JSON.parse(r.stdout) as {error: {code: string; message: string}}).error
    expect(e.message).toMatch(message)
    expect(['E_USAGE', 'E_NOT_FOUND']).toContain(e.code)
    expect(r.code).toBe(e.code === 'E_USAGE' ? 2 : 4)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
