/**
 * The tests' own process runner: a child that exits without reading its stdin closes the pipe under our write
 * (EPIPE). That is no failure of the command, and must not become an uncaught error that fails the whole run
 * (it did once, in the npm pack smoke test).
 */
import {describe, expect, it} from 'vitest'

import {run} from '../helpers/env.js'

describe('run (test helper)', () => {
  it('a child that never reads its stdin gives its exit code, not an uncaught EPIPE', async () => {
    const uncaught: unknown[] = []
    const onUncaught = (e: unknown): void => {
      uncaught.push(e)
    }
    process.on('uncaughtException', onUncaught)
    try {
      for (let i = 0; i < 10; i++) {
        const r = await run('sh', ['-c', 'exit 3'], {input: 'x'.repeat(4 << 20)})
        expect(r.code).toBe(3)
      }
      await new Promise((r) => setTimeout(r, 50))
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    expect(uncaught).toEqual([])
  })
})
