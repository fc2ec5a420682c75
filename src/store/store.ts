import {chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import type {Cleanup} from '../cleanup.js'
import {BentoError, diskFullError, isDiskFull, NotFoundError, StoreError} from '../errors.js'
import {isDirectory, isErrno} from './fs-utils.js'
import {type BentoInfo, type ModelInfo, readBentoInfo, readModelInfo} from './info.js'
import {type Lock, type LockOptions, withLock} from './lock.js'
import {ownerToken} from './owner.js'
import {createReaderMark, liveReaders, type Reader, removeReaderMark} from './readers.js'
import {makeScratchDir, type ScratchKind, scratchFilePath} from './scratch.js'
import {AmbiguousTagError, type FullTag, formatTag, isValidTagPart, parseTag, type Tag, tagPartProblem} from './tag.js'

export type StoreKind = 'bentos' | 'models'

/** A readable item of the store. */
export interface StoreItem<TInfo> {
  tag: FullTag
  /** Absolute path of `<store>/<name>/<version>`. */
  path: string
  info: TInfo
  creationTime: Date
  error?: undefined
}

/**
 * A directory in the store that BentoML cannot read: an invalid name or version, or a missing/corrupt
 * bento.yaml / model.yaml. BentoML's own `list` fails as a whole on such a directory; `Store.list` reports it
 * instead (or throws as BentoML does with `{strict: true}`).
 */
export interface BrokenStoreItem {
  tag: FullTag
  path: string
  info?: undefined
  creationTime?: undefined
  error: StoreError
}

export type ListedItem<TInfo> = StoreItem<TInfo> | BrokenStoreItem

export interface ListOptions {
  /** Throw the first problem, as BentoML's `Store.list` does, instead of returning broken items. */
  strict?: boolean
}

export interface InstallOptions {
  /** The new item's creation time; read from its bento.yaml / model.yaml when not given. */
  creationTime?: Date
  lock?: LockOptions
}

export interface ReaderOptions {
  /** What reads the item, for the message of a delete that waits: `export`, `containerize`. */
  purpose: string
  /** Where the reader mark is registered while it exists (removed on a forced exit). */
  cleanup?: Cleanup
  lock?: LockOptions
}

/** A stored item held for reading: `Store.delete` of it waits until `release()` (see readers.ts). */
export interface StoreReader<TInfo> {
  item: StoreItem<TInfo>
  release(): Promise<void>
}

export interface DeleteOptions {
  lock?: LockOptions
  /** How long to wait for live readers of the version (export, containerize) to finish: default 60 s, poll 100 ms. */
  readers?: {timeoutMs?: number; pollMs?: number}
}

export interface StoreOptions {
  /** Where scratch paths (a deleted item on its way out, a staging copy) are registered while they exist. */
  cleanup?: Cleanup
}

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

type TagLike = string | Tag

const MAX_LISTED = 20

function listForMessage(values: string[]): string {
  const shown = values.slice(0, MAX_LISTED).join(', ')
  return values.length > MAX_LISTED ? `${shown}, … (${values.length - MAX_LISTED} more)` : shown
}

/** Sort key order of BentoML's `Tag.__lt__` (name, then version, as plain strings). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * `$BENTOML_HOME/bentos` or `$BENTOML_HOME/models`, with BentoML's `Store` semantics (§1–§2 of the format doc):
 * `<name>/<version>/` item directories and a `<name>/latest` file holding the newest version (no newline).
 * Writes (install, delete) hold a per-name lock file in `$BENTOML_HOME/tmp`; reads take no lock.
 */
export class Store<TInfo extends {creationTime: Date}> {
  readonly home: string
  readonly kind: StoreKind
  /** `$BENTOML_HOME/<kind>` */
  readonly root: string
  private readonly readInfo: (dir: string) => Promise<TInfo>
  private readonly cleanup?: Cleanup

  constructor(home: string, kind: StoreKind, readInfo: (dir: string) => Promise<TInfo>, options: StoreOptions = {}) {
    this.home = home
    this.kind = kind
    this.root = path.join(home, kind)
    this.readInfo = readInfo
    this.cleanup = options.cleanup
  }

  static bentos(home: string, options: StoreOptions = {}): Store<BentoInfo> {
    return new Store(home, 'bentos', readBentoInfo, options)
  }

  static models(home: string, options: StoreOptions = {}): Store<ModelInfo> {
    return new Store(home, 'models', readModelInfo, options)
  }

  /** `Bento` or `Model`, for messages. */
  get typeName(): 'Bento' | 'Model' {
    return this.kind === 'bentos' ? 'Bento' : 'Model'
  }

  get notFoundCode(): 'E_BENTO_NOT_FOUND' | 'E_MODEL_NOT_FOUND' {
    return this.kind === 'bentos' ? 'E_BENTO_NOT_FOUND' : 'E_MODEL_NOT_FOUND'
  }

  private get corruptCode(): 'E_BENTO_CORRUPT' | 'E_MODEL_CORRUPT' {
    return this.kind === 'bentos' ? 'E_BENTO_CORRUPT' : 'E_MODEL_CORRUPT'
  }

  itemPath(tag: FullTag): string {
    return path.join(this.root, tag.name, tag.version)
  }

  /** The lock file guarding writes to `<store>/<name>`: `$BENTOML_HOME/tmp/<kind>-<name>.lock`. */
  lockPath(name: string): string {
    return path.join(this.home, 'tmp', `${this.kind}-${name}.lock`)
  }

  private toTag(tag: TagLike): Tag {
    return typeof tag === 'string' ? parseTag(tag) : tag
  }

  /** Sub directories (following symlinks) of `dir`, sorted; [] when `dir` does not exist. */
  private async subdirs(dir: string): Promise<string[]> {
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

  private broken(tag: FullTag, dir: string, message: string): BrokenStoreItem {
    const error = new StoreError(`${dir}: ${message}`, {
      code: this.corruptCode,
      hint: `BentoML's \`bentoml ${this.kind === 'bentos' ? '' : 'models '}list\` fails on this directory too; fix it or move it out of ${this.root}.`,
      data: {path: dir},
    })
    return {tag, path: dir, error}
  }

  private async readItem(tag: FullTag): Promise<StoreItem<TInfo>> {
    const dir = this.itemPath(tag)
    const info = await this.readInfo(dir)
    return {tag: {...tag}, path: dir, info, creationTime: info.creationTime}
  }

  private async listVersions(name: string): Promise<ListedItem<TInfo>[]> {
    const items: ListedItem<TInfo>[] = []
    for (const version of await this.subdirs(path.join(this.root, name))) {
      const tag = {name, version}
      const dir = this.itemPath(tag)
      const problem = tagPartProblem(version)
      if (problem !== null) {
        items.push(this.broken(tag, dir, `the directory name is not a valid version: ${problem}`))
        continue
      }
      try {
        items.push(await this.readItem(tag))
      } catch (error) {
        if (!(error instanceof StoreError)) throw error
        items.push({tag, path: dir, error})
      }
    }
    return items
  }

  /**
   * Items sorted by name, then version (as BentoML's `Store.list`). Lenient: a directory BentoML cannot read is
   * returned as a `BrokenStoreItem` with an `error`; with `{strict: true}` the first one is thrown instead.
   * `list('name')` throws `NotFoundError` when there is no such name; `list('name:version')` gives 0 or 1 item.
   */
  async list(name?: TagLike, options: ListOptions = {}): Promise<ListedItem<TInfo>[]> {
    let items: ListedItem<TInfo>[]
    if (name === undefined) {
      items = []
      for (const dirName of await this.subdirs(this.root)) {
        const problem = tagPartProblem(dirName)
        if (problem === null) {
          try {
            items.push(...(await this.listVersions(dirName)))
          } catch (error) {
            // One unreadable name (permissions) does not hide the others: it is listed as a problem.
            if (!(error instanceof StoreError)) throw error
            items.push({tag: {name: dirName, version: ''}, path: path.join(this.root, dirName), error})
          }
        } else {
          const dir = path.join(this.root, dirName)
          items.push(this.broken({name: dirName, version: ''}, dir, `the directory name is not a valid tag name: ${problem}`))
        }
      }
    } else {
      const tag = this.toTag(name)
      if (tag.version !== null) {
        const full = {name: tag.name, version: tag.version}
        if (!(await this.isDir(this.itemPath(full)))) return []
        try {
          items = [await this.readItem(full)]
        } catch (error) {
          if (!(error instanceof StoreError)) throw error
          items = [{tag: full, path: this.itemPath(full), error}]
        }
      } else {
        if (!(await this.isDir(path.join(this.root, tag.name)))) throw await this.notFound(tag)
        items = await this.listVersions(tag.name)
      }
    }
    if (options.strict) {
      const firstBroken = items.find((item) => item.error !== undefined)
      if (firstBroken?.error) throw firstBroken.error
    }
    return items
  }

  /** Only the readable items (what callers show); see `list`. */
  async listValid(name?: TagLike): Promise<StoreItem<TInfo>[]> {
    const items = await this.list(name)
    return items.filter((item): item is StoreItem<TInfo> => item.error === undefined)
  }

  /**
   * The error for a tag that resolves to nothing: `NotFoundError` listing what exists, except for `name` /
   * `name:latest` when the name has versions but none is readable: then the first broken one's `StoreError`
   * (E_MODEL_CORRUPT / E_BENTO_CORRUPT, naming the file), as BentoML fails reading it.
   */
  private async notFound(tag: Tag): Promise<NotFoundError | StoreError> {
    const what = this.typeName
    if (tag.version === null || tag.version === 'latest') {
      const broken = (await this.listVersions(tag.name)).find((item) => item.error !== undefined)
      if (broken?.error) return broken.error
    }
    const versions = (await this.subdirs(path.join(this.root, tag.name))).filter(isValidTagPart)
    let message: string
    let available: string[]
    if (versions.length > 0) {
      available = versions.map((version) => formatTag({name: tag.name, version}))
      message = `${what} '${formatTag(tag)}' not found in ${this.root}. Versions of '${tag.name}': ${listForMessage(versions)}`
    } else {
      const names = (await this.subdirs(this.root)).filter(isValidTagPart)
      available = names
      message =
        names.length > 0
          ? `${what} '${formatTag(tag)}' not found in ${this.root}. ${what}s in the store: ${listForMessage(names)}`
          : `${what} '${formatTag(tag)}' not found: the ${what.toLowerCase()} store ${this.root} is empty`
    }
    const hint =
      this.kind === 'bentos'
        ? 'Run `bento list` to see the stored Bentos, build one with `bento build`, or check BENTOML_HOME.'
        : 'Save the model with BentoML (e.g. `bentoml.keras.save_model(...)`) or import a Bento that contains it; ' +
          '`bento models list` shows the stored models. Check BENTOML_HOME too.'
    return new NotFoundError(message, {code: this.notFoundCode, hint, data: {tag: formatTag(tag), available}})
  }

  private latestPath(name: string): string {
    return path.join(this.root, name, 'latest')
  }

  /** `isDirectory` with the store's typed errors (an unreadable parent is E_STORE_NOT_READABLE, not E_BUG). */
  private async isDir(p: string): Promise<boolean> {
    try {
      return await isDirectory(p)
    } catch (error) {
      throw storeFsError(error, p)
    }
  }

  /**
   * The version named by `<name>/latest` if it names an existing version directory, else null. A `latest` that is
   * not a file (a directory, a symlink loop) or cannot be read is a typed error: BentoML fails on it too.
   */
  private async readLatest(name: string): Promise<string | null> {
    const file = this.latestPath(name)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR')) return null
      throw this.latestError(name, error)
    }
    const version = text.trim()
    if (!isValidTagPart(version)) return null
    return (await this.isDir(this.itemPath({name, version}))) ? version : null
  }

  private latestError(name: string, cause: unknown): StoreError {
    const file = this.latestPath(name)
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
  private async checkLatestWritable(name: string): Promise<void> {
    const file = this.latestPath(name)
    let st
    try {
      st = await lstat(file)
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR')) return
      throw storeFsError(error, file)
    }
    if (st.isFile()) return
    if (st.isDirectory()) throw this.latestError(name, Object.assign(new Error('is a directory'), {code: 'EISDIR'}))
    if (st.isSymbolicLink()) {
      try {
        await readFile(file)
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw this.latestError(name, error)
      }
    }
  }

  /**
   * The readable item with the highest creation time. Ties go to the first version in version order when
   * rebuilding `latest` (`sort(reverse=True)[0]`) and to the last one after a delete (`sorted(...)[-1]`), as BentoML.
   */
  private async newest(name: string, ties: 'first' | 'last' = 'first'): Promise<StoreItem<TInfo> | undefined> {
    const items = (await this.listVersions(name)).filter((i): i is StoreItem<TInfo> => i.error === undefined)
    const ascending = items.sort((a, b) => a.creationTime.getTime() - b.creationTime.getTime())
    if (ties === 'last') return ascending.at(-1)
    const top = ascending.at(-1)
    return top === undefined ? undefined : ascending.find((i) => i.creationTime.getTime() === top.creationTime.getTime())
  }

  /**
   * Rewrite `<name>/latest` (no trailing newline) under the name's lock: written in the scratch area (same file
   * system), then renamed over `latest`, so a reader sees the old or the new version, never half of it, and the
   * name directory never holds a temp file (an in-directory `latest.tmp-<owner>` only when no scratch area shares its
   * file system; the next locked mutation removes a dead one).
   */
  private async writeLatest(name: string, version: string): Promise<void> {
    const target = this.latestPath(name)
    const {file, sameDevice} = await scratchFilePath(this.home, 'latest', path.dirname(target))
    const tmp = sameDevice ? file : `${target}.tmp-${ownerToken()}`
    const forget = this.cleanup?.add(tmp)
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

  /**
   * From a read (`get name`): rebuild a missing or stale `latest`, as BentoML does — only when the name's lock is
   * free at once and the store is writable; otherwise leave the file alone (reads never wait, never fail on it).
   */
  private async repairLatestFromRead(name: string, version: string): Promise<void> {
    try {
      await this.locked(name, () => this.writeLatest(name, version), {timeoutMs: 0})
    } catch (error) {
      if (error instanceof StoreError || isErrno(error, 'EACCES', 'EPERM', 'EROFS', 'ENOSPC')) return
      throw error
    }
  }

  /**
   * Run `fn` holding the lock of `<store>/<name>`. When the previous holder died mid-mutation (its lock is
   * provably dead), the name is repaired first (see `repair`).
   */
  private async locked<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    try {
      return await withLock(
        this.lockPath(name),
        async (lock: Lock) => {
          if (lock.recovered) await this.repair(name)
          return fn()
        },
        options,
      )
    } catch (error) {
      throw storeFsError(error, this.lockPath(name))
    }
  }

  /**
   * Repair `<name>` if a dead process left its lock (see `repair`); a lock held by a live process is left alone.
   * True when something was repaired.
   */
  async recover(name: string): Promise<boolean> {
    let repaired = false
    try {
      await withLock(
        this.lockPath(name),
        async (lock) => {
          if (lock.recovered) {
            await this.repair(name)
            repaired = true
          }
        },
        {timeoutMs: 0},
      )
    } catch (error) {
      if (error instanceof StoreError && error.code === 'E_STORE_LOCKED') return false
      throw storeFsError(error, this.lockPath(name))
    }
    return repaired
  }

  /** `repair(name)` under the name's lock (waiting up to 5 s for a live holder): for `bento prune`. */
  async repairLocked(name: string): Promise<void> {
    await this.locked(name, async () => {
      await this.repair(name)
    }, {timeoutMs: 5_000})
  }

  /**
   * After a process died holding the lock of `<name>` (SIGKILL, power loss): remove what only a locked mutation
   * creates in `<name>/` (`latest.tmp-*`, `.partial-*`: nobody else holds the lock, so they are dead), remove the
   * name directory if no version is left, and point `latest` at the newest version by creation time (BentoML's
   * `_recreate_latest`), which is what the interrupted install or delete would have left. Idempotent.
   */
  async repair(name: string): Promise<{removed: string[]; latest: string | null}> {
    const nameDir = path.join(this.root, name)
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
    if ((await this.subdirs(nameDir)).length === 0) {
      // Only `latest` (or nothing) is left: the last version was being deleted.
      await rm(nameDir, {recursive: true, force: true})
      removed.push(nameDir)
      return {removed, latest: null}
    }
    const newest = await this.newest(name)
    if (newest === undefined) return {removed, latest: null}
    let current: string | null = null
    try {
      current = await this.readLatest(name)
    } catch {
      current = null // not a file: left for the user (checkLatestWritable names it)
      return {removed, latest: null}
    }
    if (current !== newest.tag.version) await this.writeLatest(name, newest.tag.version)
    return {removed, latest: newest.tag.version}
  }

  /**
   * Resolve a tag to a stored `name:version` without reading the item: `name` / `name:latest` through the
   * `latest` file (rebuilt when missing or stale), an exact version, or a unique version prefix.
   */
  async resolve(tagLike: TagLike): Promise<FullTag> {
    const tag = this.toTag(tagLike)
    let version = tag.version
    if (version === null || version === 'latest') {
      version = await this.readLatest(tag.name)
      if (version === null) {
        const newest = await this.newest(tag.name)
        if (newest === undefined) throw await this.notFound(tag)
        version = newest.tag.version
        await this.repairLatestFromRead(tag.name, version)
      }
      return {name: tag.name, version}
    }
    if (await this.isDir(this.itemPath({name: tag.name, version}))) return {name: tag.name, version}
    const prefix = version
    const matches = (await this.subdirs(path.join(this.root, tag.name))).filter((v) => v.startsWith(prefix))
    const [only] = matches
    if (matches.length === 1 && only !== undefined) return {name: tag.name, version: only}
    if (matches.length > 1) {
      throw new AmbiguousTagError(
        `Multiple versions found for ${this.typeName} '${formatTag(tag)}': ${listForMessage(matches)}`,
        {hint: 'Give more characters of the version so that only one matches.', data: {tag: formatTag(tag), matches}},
      )
    }
    throw await this.notFound(tag)
  }

  /** The item for `name`, `name:latest`, `name:version` or `name:<unique version prefix>`. */
  async get(tag: TagLike): Promise<StoreItem<TInfo>> {
    return this.readItem(await this.resolve(tag))
  }

  /** Whether `tag` resolves to a stored item (a corrupt item exists too). */
  async exists(tag: TagLike): Promise<boolean> {
    try {
      await this.resolve(tag)
      return true
    } catch (error) {
      if (error instanceof NotFoundError) return false
      if (error instanceof StoreError && error.code === this.corruptCode) return true
      throw error
    }
  }

  /**
   * Hold `tag` for reading (resolved like `get`): under the name's lock, check the version is there and leave a reader
   * mark (readers.ts), which `delete` waits for. A store this process cannot write (read-only, not ours) is read
   * without a mark: nobody can delete from it through this file system either. Throws E_*_NOT_FOUND when the
   * version is gone.
   */
  async openReader(tagLike: TagLike, options: ReaderOptions): Promise<StoreReader<TInfo>> {
    const tag = await this.resolve(tagLike)
    let mark: string | undefined
    try {
      mark = await this.locked(
        tag.name,
        async () => {
          if (!(await this.isDir(this.itemPath(tag)))) throw await this.notFound(tag)
          return createReaderMark(this.home, this.kind, tag, options.purpose)
        },
        options.lock,
      )
    } catch (error) {
      const typed = storeFsError(error, this.lockPath(tag.name))
      if (!(typed instanceof StoreError && ['E_STORE_NOT_WRITABLE', 'E_STORE_NOT_A_DIRECTORY', 'E_DISK_FULL'].includes(typed.code))) throw typed
    }
    const forget = mark === undefined ? undefined : options.cleanup?.add(mark)
    const release = async (): Promise<void> => {
      if (mark === undefined) return
      const file = mark
      mark = undefined
      await removeReaderMark(file)
      forget?.()
    }
    try {
      return {item: await this.readItem(tag), release}
    } catch (error) {
      await release()
      throw error
    }
  }

  /**
   * Delete one item (resolved like `get`, so `name` means its latest version). Atomic: under the name's lock the
   * item directory is renamed out of the store into the scratch area (same file system), `latest` is rewritten to
   * the remaining version with the highest creation time (or the `<name>` directory removed when none is left),
   * and only then, lock released, are the files removed. A kill leaves either the whole item in place or a dead
   * scratch directory the next run sweeps — never a half-deleted item (D3). While a live process reads the version
   * (`openReader`: export, containerize) the delete waits, the lock released between looks, up to
   * `options.readers.timeoutMs`; then `E_STORE_LOCKED` naming the readers, and the item stays whole.
   */
  async delete(tagLike: TagLike, options: DeleteOptions = {}): Promise<FullTag> {
    const tag = await this.resolve(tagLike)
    const deadline = Date.now() + (options.readers?.timeoutMs ?? 60_000)
    let trash: {dir: string; forget: () => void} | undefined
    try {
      for (;;) {
        const readers = await this.locked(
          tag.name,
          async (): Promise<Reader[]> => {
            const dir = this.itemPath(tag)
            if (!(await this.isDir(dir))) throw await this.notFound(tag)
            const live = await liveReaders(this.home, this.kind, tag)
            if (live.length > 0) return live
            await this.checkLatestWritable(tag.name)
            const scratch = await makeScratchDir(this.home, 'trash', {label: `${tag.name}-${tag.version}`, near: this.root, cleanup: this.cleanup})
            trash = scratch
            try {
              await rename(dir, path.join(scratch.dir, 'item'))
            } catch (error) {
              if (!isErrno(error, 'EXDEV')) throw storeFsError(error, dir)
              // No scratch area on this file system (the store is its own mount): remove in place.
              await rm(dir, {recursive: true, force: true})
            }
            const nameDir = path.join(this.root, tag.name)
            if ((await this.subdirs(nameDir)).length === 0) {
              await rm(nameDir, {recursive: true, force: true})
              return []
            }
            const newest = await this.newest(tag.name, 'last')
            if (newest === undefined) await rm(this.latestPath(tag.name), {force: true})
            else await this.writeLatest(tag.name, newest.tag.version)
            return []
          },
          options.lock,
        )
        if (readers.length === 0) break
        if (Date.now() >= deadline) throw this.beingRead(tag, readers)
        await sleep(options.readers?.pollMs ?? 100)
      }
    } finally {
      if (trash) {
        await rm(trash.dir, {recursive: true, force: true})
        trash.forget()
      }
    }
    return tag
  }

  private beingRead(tag: FullTag, readers: Reader[]): StoreError {
    const who = readers.map((r) => `pid ${r.pid}, ${r.purpose}`).join('; ')
    return new StoreError(`${this.typeName} '${formatTag(tag)}' is being read by another bento process (${who}): not deleted`, {
      code: 'E_STORE_LOCKED',
      hint: 'Run the delete again when that command has finished (or stop it); a reader that no longer runs never holds a delete.',
      data: {tag: formatTag(tag), readers: readers.map((r) => ({pid: r.pid, purpose: r.purpose}))},
    })
  }

  /**
   * Move a finished item directory into `<store>/<name>/<version>` with `rename()` (copy + rename when `tmpDir`
   * is on another file system), then point `latest` at it when it is missing or not newer. Holds the per-name
   * lock. Throws `StoreError` `E_ALREADY_EXISTS` when the version exists.
   */
  async install(tmpDir: string, tagLike: FullTag | string, options: InstallOptions = {}): Promise<StoreItem<TInfo>> {
    const parsed = typeof tagLike === 'string' ? parseTag(tagLike) : tagLike
    if (parsed.version === null || parsed.version === 'latest') {
      throw new StoreError(`Cannot install '${formatTag(parsed)}': a concrete version is needed`, {
        code: 'E_STORE',
        hint: 'This is a bug in the caller: pass name:version.',
      })
    }
    const tag: FullTag = {name: parsed.name, version: parsed.version}
    for (const part of [tag.name, tag.version]) {
      const problem = tagPartProblem(part)
      if (problem !== null) throw new StoreError(`Cannot install '${formatTag(tag)}': ${problem}`, {code: 'E_STORE'})
    }
    // Validate before anything is moved: never install an item BentoML cannot read.
    const info = await this.readInfo(tmpDir)
    const creationTime = options.creationTime ?? info.creationTime
    // mkdtemp made it 0700; BentoML's item directories are 0755 (D17).
    await chmod(tmpDir, 0o755).catch((error: unknown) => {
      throw storeFsError(error, tmpDir)
    })

    try {
      await mkdir(this.root, {recursive: true})
    } catch (error) {
      throw storeFsError(error, this.root)
    }
    return this.locked(
      tag.name,
      async () => {
        const nameDir = path.join(this.root, tag.name)
        try {
          await mkdir(nameDir, {recursive: true})
        } catch (error) {
          throw storeFsError(error, nameDir)
        }
        if (!(await this.isDir(nameDir))) throw storeFsError(Object.assign(new Error('not a directory'), {code: 'ENOTDIR', path: nameDir}), nameDir)
        await this.checkLatestWritable(tag.name)
        const target = this.itemPath(tag)
        if (await lexists(target)) throw this.alreadyExists(tag)
        await this.moveInto(tmpDir, target, tag)
        await this.updateLatestAfterInstall(tag, creationTime)
        return {tag, path: target, info, creationTime: info.creationTime}
      },
      options.lock,
    )
  }

  private alreadyExists(tag: FullTag, cause?: unknown): StoreError {
    return new StoreError(`${this.typeName} '${formatTag(tag)}' already exists in the store ${this.root}`, {
      code: 'E_ALREADY_EXISTS',
      cause,
      hint:
        this.kind === 'bentos'
          ? `Delete it first (\`bento delete ${formatTag(tag)}\`) or build/import a different version.`
          : `Delete it first or use a different version.`,
      data: {tag: formatTag(tag), path: this.itemPath(tag)},
    })
  }

  private async moveInto(src: string, target: string, tag: FullTag): Promise<void> {
    try {
      await rename(src, target)
      return
    } catch (error) {
      if (isErrno(error, 'ENOTEMPTY', 'EEXIST')) throw this.alreadyExists(tag, error)
      if (!isErrno(error, 'EXDEV')) throw storeFsError(error, target)
    }
    // Another file system: copy next to the target first, so the final step is still an atomic rename. The staging
    // copy goes to a scratch area on the target's file system ($BENTOML_HOME/tmp or .bento-tmp: invisible to
    // listings); only if there is none (the store is its own mount) to a `.partial-<owner>-` directory inside
    // <name>/, which BentoML would see for the duration of the copy and which the next locked run removes (D4).
    const scratch = await makeScratchDir(this.home, 'stage', {label: `${tag.name}-${tag.version}`, near: path.dirname(target), cleanup: this.cleanup})
    let staging = path.join(scratch.dir, 'item')
    let forgetPartial: (() => void) | undefined
    try {
      if (!scratch.sameDevice) {
        staging = await mkdtemp(path.join(path.dirname(target), `.partial-${ownerToken()}-`))
        forgetPartial = this.cleanup?.add(staging)
      }
      await cp(src, staging, {recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: true})
      await chmod(staging, 0o755)
      await rename(staging, target)
      await rm(src, {recursive: true, force: true})
    } catch (error) {
      await rm(staging, {recursive: true, force: true})
      if (isErrno(error, 'ENOTEMPTY', 'EEXIST')) throw this.alreadyExists(tag, error)
      throw storeFsError(error, target)
    } finally {
      forgetPartial?.()
      await rm(scratch.dir, {recursive: true, force: true})
      scratch.forget()
    }
  }

  private async updateLatestAfterInstall(tag: FullTag, creationTime: Date): Promise<void> {
    const current = await this.readLatest(tag.name)
    let write = current === null
    if (current !== null && current !== tag.version) {
      try {
        const currentInfo = await this.readInfo(this.itemPath({name: tag.name, version: current}))
        write = creationTime.getTime() >= currentInfo.creationTime.getTime()
      } catch (error) {
        if (!(error instanceof StoreError)) throw error
        write = true // the current latest is unreadable: point at something that works
      }
    }
    if (write) await this.writeLatest(tag.name, tag.version)
  }
}

async function lexists(p: string): Promise<boolean> {
  try {
    await lstat(p)
    return true
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false
    throw error
  }
}

export type BentoStore = Store<BentoInfo>
export type ModelStore = Store<ModelInfo>

/**
 * A fresh directory to build an item in, in the scratch area on the file system of `near` (default: the Bento store),
 * named after its owner (`bento-<owner>-<kind>-<label>-XXXXXX`, see scratch.ts) so the next run can prove it dead
 * if this process is killed; registered with `cleanup` until the caller forgets it. Never listed (not under bentos/).
 */
export async function makeTempDir(
  home: string,
  label: string,
  options: {kind?: ScratchKind; near?: string; cleanup?: Cleanup} = {},
): Promise<{dir: string; forget: () => void}> {
  try {
    const {dir, forget} = await makeScratchDir(home, options.kind ?? 'build', {
      label,
      near: options.near ?? path.join(home, 'bentos'),
      cleanup: options.cleanup,
    })
    return {dir, forget}
  } catch (error) {
    throw storeFsError(error, path.join(home, 'tmp'))
  }
}

/**
 * Run `fn` with the stored Bento `tag` held for reading (`Store.openReader`): a `bento delete` of that version waits
 * until `fn` settles. For commands that read a Bento for long (export, containerize).
 */
export async function withBentoReader<T>(
  home: string,
  tag: string,
  purpose: string,
  fn: (bento: StoreItem<BentoInfo>) => Promise<T>,
  options: {cleanup?: Cleanup} = {},
): Promise<T> {
  const reader = await Store.bentos(home).openReader(tag, {purpose, cleanup: options.cleanup})
  try {
    return await fn(reader.item)
  } finally {
    await reader.release()
  }
}

/** `store.install(tmpDir, tag, options)`: atomic install of a finished directory (see `Store.install`). */
export async function installFromTemp<TInfo extends {creationTime: Date}>(
  tmpDir: string,
  store: Store<TInfo>,
  tag: FullTag | string,
  options: InstallOptions = {},
): Promise<StoreItem<TInfo>> {
  return store.install(tmpDir, tag, options)
}
