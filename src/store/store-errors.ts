/**
 * The store's typed errors: a file-system error as the user's problem (never a raw errno, E_BUG), the store's reads
 * with those errors, and the messages of an item not found, already there, corrupt or being read.
 */
import {readdir} from 'node:fs/promises'
import path from 'node:path'

import {BentoError, diskFullError, isDiskFull, NotFoundError, StoreError} from '../errors.js'
import {isDirectory, isErrno} from './fs-utils.js'
import type {Reader} from './readers.js'
import {type FullTag, formatTag, type Tag} from './tag.js'

export type StoreKind = 'bentos' | 'models'

/** What a file-system error in the store means for the user (never a raw errno: E_BUG). */
export function storeFsError(error: unknown, where: string): unknown {
  if (error instanceof BentoError) return error
  const e = error as NodeJS.ErrnoException | undefined
  const code = e?.code
  if (code === undefined) return error
  const file = e?.path ?? where
  if (isDiskFull(error)) return diskFullError(`No space left on the device: ${file}; the store is unchanged.`, error, {path: file})
  const syscall = e?.syscall ?? ''
  const writing = ['mkdir', 'mkdtemp', 'rename', 'unlink', 'rmdir', 'rm', 'link', 'symlink', 'chmod', 'write', 'copyfile', 'utime', 'open-write'].includes(syscall)
  const data = {path: file, errno: code, syscall}
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return writing
        ? new StoreError(`Permission denied writing ${file} (${syscall})`, {
            code: 'E_STORE_NOT_WRITABLE',
            cause: error,
            hint: 'Fix the permissions (or the owner) of BENTOML_HOME, or set BENTOML_HOME to a directory you can write.',
            data,
          })
        : new StoreError(`Permission denied reading ${file} (${syscall})`, {
            code: 'E_STORE_NOT_READABLE',
            cause: error,
            hint: 'Fix the permissions of that directory or file (BentoML cannot read it either), or move it out of the store.',
            data,
          })
    case 'EROFS':
      return new StoreError(`${file} is on a read-only file system`, {
        code: 'E_STORE_NOT_WRITABLE',
        cause: error,
        hint: 'Set BENTOML_HOME to a writable directory for commands that change the store.',
        data,
      })
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
      return new StoreError(`${file}: ${code === 'EISDIR' ? 'a directory where the store needs a file' : 'a file where the store needs a directory'}`, {
        code: 'E_STORE_NOT_A_DIRECTORY',
        cause: error,
        hint: 'Move that file or directory out of BENTOML_HOME (BentoML cannot use the store with it either).',
        data,
      })
    case 'ELOOP':
      return new StoreError(`${file}: a symbolic link loop`, {
        code: 'E_STORE',
        cause: error,
        hint: 'Remove the looping link from BENTOML_HOME.',
        data,
      })
    default:
      if (['EIO', 'ENAMETOOLONG', 'EMFILE', 'ENFILE', 'ENOMEM', 'EBUSY', 'ETXTBSY', 'ESTALE', 'EFBIG', 'EOVERFLOW'].includes(code)) {
        return new StoreError(`Cannot use ${file}: ${e?.message ?? code}`, {code: 'E_STORE', cause: error, data})
      }
      return error
  }
}

/** `isDirectory` with the store's typed errors (an unreadable parent is E_STORE_NOT_READABLE, not E_BUG). */
export async function isStoreDir(p: string): Promise<boolean> {
  try {
    return await isDirectory(p)
  } catch (error) {
    throw storeFsError(error, p)
  }
}

/** Sort key order of BentoML's `Tag.__lt__` (name, then version, as plain strings). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Sub directories (following symlinks) of `dir`, sorted; [] when `dir` does not exist. */
export async function storeSubdirs(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return []
    throw storeFsError(error, dir)
  }
  const dirs: string[] = []
  for (const name of names.sort(compareStrings)) {
    try {
      if (await isDirectory(path.join(dir, name))) dirs.push(name)
    } catch (error) {
      throw storeFsError(error, path.join(dir, name))
    }
  }
  return dirs
}

const MAX_LISTED = 20

export function listForMessage(values: string[]): string {
  const shown = values.slice(0, MAX_LISTED).join(', ')
  return values.length > MAX_LISTED ? `${shown}, … (${values.length - MAX_LISTED} more)` : shown
}

/** `Bento` or `Model`, for messages. */
export function typeNameOf(kind: StoreKind): 'Bento' | 'Model' {
  return kind === 'bentos' ? 'Bento' : 'Model'
}

export function notFoundCodeOf(kind: StoreKind): 'E_BENTO_NOT_FOUND' | 'E_MODEL_NOT_FOUND' {
  return kind === 'bentos' ? 'E_BENTO_NOT_FOUND' : 'E_MODEL_NOT_FOUND'
}

export function corruptCodeOf(kind: StoreKind): 'E_BENTO_CORRUPT' | 'E_MODEL_CORRUPT' {
  return kind === 'bentos' ? 'E_BENTO_CORRUPT' : 'E_MODEL_CORRUPT'
}

/** A directory of the store BentoML cannot read (`<store>/<name>/<version>` or `<store>/<name>`). */
export function corruptItemError(kind: StoreKind, root: string, dir: string, message: string): StoreError {
  return new StoreError(`${dir}: ${message}`, {
    code: corruptCodeOf(kind),
    hint: `BentoML's \`bentoml ${kind === 'bentos' ? '' : 'models '}list\` fails on this directory too; fix it or move it out of ${root}.`,
    data: {path: dir},
  })
}

/**
 * `tag` resolves to nothing: the message lists the versions of its name (`versions`), or else the names of the store
 * (`names`).
 */
export async function notFoundError(kind: StoreKind, root: string, tag: Tag, versions: string[], names: () => Promise<string[]>): Promise<NotFoundError> {
  const what = typeNameOf(kind)
  let message: string
  let available: string[]
  if (versions.length > 0) {
    available = versions.map((version) => formatTag({name: tag.name, version}))
    message = `${what} '${formatTag(tag)}' not found in ${root}. Versions of '${tag.name}': ${listForMessage(versions)}`
  } else {
    const stored = await names()
    available = stored
    message =
      stored.length > 0
        ? `${what} '${formatTag(tag)}' not found in ${root}. ${what}s in the store: ${listForMessage(stored)}`
        : `${what} '${formatTag(tag)}' not found: the ${what.toLowerCase()} store ${root} is empty`
  }
  const hint =
    kind === 'bentos'
      ? 'Run `bento list` to see the stored Bentos, build one with `bento build`, or check BENTOML_HOME.'
      : 'Save the model with BentoML (e.g. `bentoml.keras.save_model(...)`) or import a Bento that contains it; ' +
        '`bento models list` shows the stored models. Check BENTOML_HOME too.'
  return new NotFoundError(message, {code: notFoundCodeOf(kind), hint, data: {tag: formatTag(tag), available}})
}

export function alreadyExistsError(kind: StoreKind, root: string, tag: FullTag, itemPath: string, cause?: unknown): StoreError {
  return new StoreError(`${typeNameOf(kind)} '${formatTag(tag)}' already exists in the store ${root}`, {
    code: 'E_ALREADY_EXISTS',
    cause,
    hint:
      kind === 'bentos'
        ? `Delete it first (\`bento delete ${formatTag(tag)}\`) or build/import a different version.`
        : `Delete it first or use a different version.`,
    data: {tag: formatTag(tag), path: itemPath},
  })
}

export function beingReadError(kind: StoreKind, tag: FullTag, readers: Reader[]): StoreError {
  const who = readers.map((r) => `pid ${r.pid}, ${r.purpose}`).join('; ')
  return new StoreError(`${typeNameOf(kind)} '${formatTag(tag)}' is being read by another bento process (${who}): not deleted`, {
    code: 'E_STORE_LOCKED',
    hint: 'Run the delete again when that command has finished (or stop it); a reader that no longer runs never holds a delete.',
    data: {tag: formatTag(tag), readers: readers.map((r) => ({pid: r.pid, purpose: r.purpose}))},
  })
}
