/**
 * The e2e-docker tier's machinery (vitest.config.ts): its semaphore (test/helpers/slots.ts, held by
 * test/e2e/docker-slots.setup.ts) and the order its files start in (test/sequencer.ts).
 */
import {existsSync, readdirSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {REPO, removeDir, tempDir} from '../helpers/env.js'
import {acquireSlot, dockerSlots} from '../helpers/slots.js'
import {DEFAULT_DOCKER_SECONDS, DOCKER_SECONDS, dockerOrder} from '../sequencer.js'

describe('Docker test slots', () => {
  let dir: string
  beforeEach(async () => {
    dir = await tempDir('bento-slots-')
  })
  afterEach(async () => {
    await removeDir(dir)
  })

  it('two slots: two files hold one each, a third fails naming itself, a released slot is taken again', () => {
    const a = acquireSlot(dir, 2, 'a.docker.test.ts')
    const b = acquireSlot(dir, 2, 'b.docker.test.ts')
    expect(readdirSync(dir).sort()).toEqual(['bento-docker-slot-0', 'bento-docker-slot-1'])
    expect(() => acquireSlot(dir, 2, 'c.docker.test.ts')).toThrow(/c\.docker\.test\.ts: all 2 Docker test slots .* are taken/)
    a()
    expect(existsSync(join(dir, 'bento-docker-slot-0'))).toBe(false)
    const c = acquireSlot(dir, 2, 'c.docker.test.ts')
    expect(existsSync(join(dir, 'bento-docker-slot-0'))).toBe(true)
    b()
    c()
    expect(readdirSync(dir)).toEqual([])
  })

  it('one slot is the old serial tier', () => {
    const a = acquireSlot(dir, 1, 'a')
    expect(() => acquireSlot(dir, 1, 'b')).toThrow(/all 1 Docker test slots/)
    a()
  })

  it('BENTO_DOCKER_SLOTS: 2 by default, a positive integer, anything else refused', () => {
    expect(dockerSlots({})).toBe(2)
    expect(dockerSlots({BENTO_DOCKER_SLOTS: '3'})).toBe(3)
    expect(() => dockerSlots({BENTO_DOCKER_SLOTS: '0'})).toThrow(/positive integer/)
    expect(() => dockerSlots({BENTO_DOCKER_SLOTS: 'two'})).toThrow(/positive integer/)
  })
})

describe('the order Docker files start in', () => {
  it('longest first by the table; a file the table does not know counts as the default, between the others', () => {
    const files = ['/r/test/e2e/user-template-image.docker.test.ts', '/r/test/e2e/new-thing.docker.test.ts', '/r/test/e2e/interop-matrix-containerize.docker.test.ts']
    const order = dockerOrder(files, (f) => f)
    expect(order[0]).toBe('/r/test/e2e/interop-matrix-containerize.docker.test.ts')
    expect(DOCKER_SECONDS['user-template-image.docker.test.ts']).toBeLessThan(DEFAULT_DOCKER_SECONDS)
    expect(order).toEqual([files[2], files[1], files[0]])
  })

  it('ties are broken by the file name, so the order is the same on every machine', () => {
    const files = ['z-new.docker.test.ts', 'a-new.docker.test.ts']
    expect(dockerOrder(files, (f) => f)).toEqual(['a-new.docker.test.ts', 'z-new.docker.test.ts'])
  })

  it('the table names only files that exist (a new file not in it runs with the default)', async () => {
    const present = readdirSync(join(REPO, 'test/e2e')).filter((f) => f.endsWith('.docker.test.ts'))
    for (const f of Object.keys(DOCKER_SECONDS)) expect(present, `${f} is in test/sequencer.ts but not in test/e2e`).toContain(f)
    expect(await readFile(join(REPO, 'vitest.config.ts'), 'utf8')).toContain('docker-slots.setup.ts')
  })
})
