/**
 * `<store>/<name>/latest`: the file naming the newest version (no newline), as BentoML keeps it. Read (a stale or
 * missing one names nothing), checked before a mutation, rewritten atomically, and the rule that picks the newest.
 */
import {lstat, readFile, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import type {Cleanup} from '../cleanup.js'
import {StoreError} from '../errors.js'
import {isErrno} from './fs-utils.js'
import {ownerToken} from './owner.js'
import {scratchFilePath} from './scratch.js'
import {isStoreDir, storeFsError} from './store-errors.js'
import {isValidTagPart} from './tag.js'

export function latestPath(root: string, name: string): string {
  return path.join(root, name, 'latest')
}

/**
 * The version named by `<name>/latest` if it names an existing version directory, else null. A `latest` that is
 * not a file (a directory, a symlink loop) or cannot be read is a typed error: BentoML fails on it too.
 */
export async function readLatest(root: string, name: string): Promise<string | null> {
  const file = latestPath(root, name)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return null
    throw latestError(root, name, error)
  }
  const version = text.trim()
  if (!isValidTagPart(version)) return null
  return (await isStoreDir(path.join(root, name, version))) ? version : null
}

export function latestError(root: string, name: string, cause: unknown): StoreError {
  const file = latestPath(root, name)
  const code = (cause as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EACCES' || code === 'EPERM') {
    const typed = storeFsError(cause, file)
    if (typed instanceof StoreError) return typed
  }
  const what =
    code === 'EISDIR' ? 'is a directory' : code === 'ELOOP' ? 'is a symbolic link loop' : `cannot be read (${code ?? String(cause)})`
  return new StoreError(`${file} ${what}: it must be a file naming the newest version of '${name}'`, {
    code: code === 'EACCES' || code === 'EPERM' ? 'E_STORE_NOT_READABLE' : 'E_STORE',
    cause,
    hint: `Remove it (rm -r '${file}'): bento and BentoML rebuild it from the newest version.`,
    data: {path: file, errno: code},
  })
}

/** Fail before a mutation when `<name>/latest` is something BentoML and bento cannot replace (a directory, a loop). */
export async function checkLatestWritable(root: string, name: string): Promise<void> {
  const file = latestPath(root, name)
  let st
  try {
    st = await lstat(file)
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return
    throw storeFsError(error, file)
  }
  if (st.isFile()) return
  if (st.isDirectory()) throw latestError(root, name, Object.assign(new Error('is a directory'), {code: 'EISDIR'}))
  if (st.isSymbolicLink()) {
    try {
      await readFile(file)
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw latestError(root, name, error)
    }
  }
}

/**
 * The item with the highest creation time. Ties go to the first version in version order when rebuilding `latest`
 * (`sort(reverse=True)[0]`) and to the last one after a delete (`sorted(...)[-1]`), as BentoML. `items` are in
 * version order.
 */
export function newestItem<T extends {creationTime: Date}>(items: T[], ties: 'first' | 'last' = 'first'): T | undefined {
  const ascending = items.sort((a, b) => a.creationTime.getTime() - b.creationTime.getTime())
  if (ties === 'last') return ascending.at(-1)
  const top = ascending.at(-1)
  return top === undefined ? undefined : ascending.find((i) => i.creationTime.getTime() === top.creationTime.getTime())
}

/**
 * Rewrite `<name>/latest` (no trailing newline); the caller holds the name's lock. Written in the scratch area (same
 * file system), then renamed over `latest`, so a reader sees the old or the new version, never half of it, and the
 * name directory never holds a temp file (an in-directory `latest.tmp-<owner>` only when no scratch area shares its
 * file system; the next locked mutation removes a dead one).
 */
export async function writeLatest(
  store: {home: string; root: string; cleanup?: Cleanup},
  name: string,
  version: string,
): Promise<void> {
  const target = latestPath(store.root, name)
  const {file, sameDevice} = await scratchFilePath(store.home, 'latest', path.dirname(target))
  const tmp = sameDevice ? file : `${target}.tmp-${ownerToken()}`
  const forget = store.cleanup?.add(tmp)
  try {
    await writeFile(tmp, version)
    await rename(tmp, target)
  } catch (error) {
    await rm(tmp, {force: true})
    throw storeFsError(error, target)
  } finally {
    forget?.()
  }
}
