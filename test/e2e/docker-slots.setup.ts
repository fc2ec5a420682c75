/**
 * e2e-docker files run at most BENTO_DOCKER_SLOTS at a time (vitest.config.ts: a threads pool of that size). This
 * proves it: each file holds one slot marker for the whole vitest run (in the run's own temp dir, named by the
 * run's main process) while it runs, and fails if every slot is already held.
 */
import {tmpdir} from 'node:os'

import {afterAll, beforeAll, expect} from 'vitest'

import {acquireSlot, dockerSlots} from '../helpers/slots.js'

let release: (() => void) | undefined

beforeAll(() => {
  release = acquireSlot(tmpdir(), dockerSlots(), expect.getState().testPath ?? 'an e2e-docker file')
})

afterAll(() => {
  release?.()
})
