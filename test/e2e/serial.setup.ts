/**
 * e2e files run one after the other (vitest.config.ts: one fork). This proves it: each file holds a marker file for
 * the whole vitest run (named by the run's main process) while it runs, and fails if another file holds it.
 */
import {openSync, closeSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll} from 'vitest'

const MARKER = join(tmpdir(), `bento-e2e-running-${process.ppid}`)

beforeAll(() => {
  try {
    closeSync(openSync(MARKER, 'wx'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`another e2e file is running at the same time (${MARKER}): e2e files must run serially`)
    throw error
  }
})

afterAll(() => {
  rmSync(MARKER, {force: true})
})
