/**
 * The e2e-docker tier's semaphore: at most `slots` files talk to the daemon at once (vitest.config.ts runs the tier in
 * a threads pool of that size; test/e2e/docker-slots.setup.ts proves it). A file holds one marker file
 * `<dir>/bento-docker-slot-<i>` (created with O_EXCL) for as long as it runs; when every slot is taken, another file
 * runs beside them and the config is wrong.
 */
import {closeSync, openSync, rmSync} from 'node:fs'
import {join} from 'node:path'

/** How many Docker test files run at once: BENTO_DOCKER_SLOTS (a positive integer), else 2. */
export function dockerSlots(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BENTO_DOCKER_SLOTS
  if (raw === undefined || raw === '') return 2
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENTO_DOCKER_SLOTS must be a positive integer, not '${raw}'`)
  return n
}

/** Take a free slot under `dir`; returns its release. Throws when all `slots` are held. */
export function acquireSlot(dir: string, slots: number, owner: string): () => void {
  for (let i = 0; i < slots; i++) {
    const marker = join(dir, `bento-docker-slot-${i}`)
    try {
      closeSync(openSync(marker, 'wx'))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw error
    }
    return () => rmSync(marker, {force: true})
  }
  throw new Error(`${owner}: all ${slots} Docker test slots under ${dir} are taken: more e2e-docker files run at once than vitest.config.ts allows`)
}
