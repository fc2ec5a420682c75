/**
 * Recovery of one name of the store after a process died holding its lock (SIGKILL, power loss): the half-written
 * entries only a locked mutation creates in `<name>/` are removed and `latest` is pointed at the newest version.
 * (The home-wide sweep, scratch entries and dead locks, is `recover.ts`.)
 */
import {readdir, rm} from 'node:fs/promises'
import path from 'node:path'

import type {Cleanup} from '../cleanup.js'
import {isErrno} from './fs-utils.js'
import {readLatest, writeLatest} from './latest.js'
import {storeFsError, storeSubdirs} from './store-errors.js'

/**
 * After a process died holding the lock of `<name>` (SIGKILL, power loss): remove what only a locked mutation
 * creates in `<name>/` (`latest.tmp-*`, `.partial-*`: nobody else holds the lock, so they are dead), remove the
 * name directory if no version is left, and point `latest` at the newest version by creation time (BentoML's
 * `_recreate_latest`), which is what the interrupted install or delete would have left. Idempotent. The caller
 * holds the name's lock; `newestVersion` is the newest readable version of the name.
 */
export async function repairName(
  store: {home: string; root: string; cleanup?: Cleanup},
  name: string,
  newestVersion: () => Promise<string | undefined>,
): Promise<{removed: string[]; latest: string | null}> {
  const nameDir = path.join(store.root, name)
  const removed: string[] = []
  let entries: string[]
  try {
    entries = await readdir(nameDir)
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return {removed, latest: null}
    throw storeFsError(error, nameDir)
  }
  for (const entry of entries) {
    if (entry.startsWith('latest.tmp-') || entry.startsWith('.partial-')) {
      const p = path.join(nameDir, entry)
      await rm(p, {recursive: true, force: true})
      removed.push(p)
    }
  }
  if ((await storeSubdirs(nameDir)).length === 0) {
    // Only `latest` (or nothing) is left: the last version was being deleted.
    await rm(nameDir, {recursive: true, force: true})
    removed.push(nameDir)
    return {removed, latest: null}
  }
  const newest = await newestVersion()
  if (newest === undefined) return {removed, latest: null}
  let current: string | null = null
  try {
    current = await readLatest(store.root, name)
  } catch {
    current = null // not a file: left for the user (checkLatestWritable names it)
    return {removed, latest: null}
  }
  if (current !== newest) await writeLatest(store, name, newest)
  return {removed, latest: newest}
}
