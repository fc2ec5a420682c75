/**
 * e2e-docker files run at most BENTO_DOCKER_SLOTS at a time (vitest.config.ts: a threads pool of that size). This
 * proves it: each file holds one slot marker (in the run's own temp dir: test/global-setup.ts makes one per vitest run
 * and points TMPDIR at it) while it runs, and fails if every slot is already held.
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
