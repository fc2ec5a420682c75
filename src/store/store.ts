import {chmod, cp, lstat, mkdir, mkdtemp, rename, rm} from 'node:fs/promises'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import type {Cleanup} from '../cleanup.js'
import {NotFoundError, StoreError} from '../errors.js'
import {isErrno} from './fs-utils.js'
import {type BentoInfo, type ModelInfo, readBentoInfo, readModelInfo} from './info.js'
import {checkLatestWritable, latestPath, newestItem, readLatest, writeLatest} from './latest.js'
import {type Lock, type LockOptions, withLock} from './lock.js'
import {ownerToken} from './owner.js'
import {createReaderMark, liveReaders, type Reader, removeReaderMark} from './readers.js'
import {repairName} from './repair.js'
import {makeScratchDir, type ScratchKind} from './scratch.js'
import {
  alreadyExistsError,
  beingReadError,
  corruptCodeOf,
  corruptItemError,
  isStoreDir,
  listForMessage,
  notFoundCodeOf,
  notFoundError,
  storeFsError,
  storeSubdirs,
  type StoreKind,
  typeNameOf,
} from './store-errors.js'
import {AmbiguousTagError, type FullTag, formatTag, isValidTagPart, parseTag, type Tag, tagPartProblem} from './tag.js'

export {storeFsError, type StoreKind} from './store-errors.js'

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

type TagLike = string | Tag

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
    return typeNameOf(this.kind)
  }

  get notFoundCode(): 'E_BENTO_NOT_FOUND' | 'E_MODEL_NOT_FOUND' {
    return notFoundCodeOf(this.kind)
  }

  private get corruptCode(): 'E_BENTO_CORRUPT' | 'E_MODEL_CORRUPT' {
    return corruptCodeOf(this.kind)
  }

  /** What latest.ts and repair.ts write with: the home, the store root, the cleanup list. */
  private get place(): {home: string; root: string; cleanup?: Cleanup} {
    return {home: this.home, root: this.root, cleanup: this.cleanup}
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
  private subdirs(dir: string): Promise<string[]> {
    return storeSubdirs(dir)
  }

  private broken(tag: FullTag, dir: string, message: string): BrokenStoreItem {
    return {tag, path: dir, error: corruptItemError(this.kind, this.root, dir, message)}
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
    if (tag.version === null || tag.version === 'latest') {
      const broken = (await this.listVersions(tag.name)).find((item) => item.error !== undefined)
      if (broken?.error) return broken.error
    }
    const versions = (await this.subdirs(path.join(this.root, tag.name))).filter(isValidTagPart)
    return notFoundError(this.kind, this.root, tag, versions, async () => (await this.subdirs(this.root)).filter(isValidTagPart))
  }

  private latestPath(name: string): string {
    return latestPath(this.root, name)
  }

  /** `isDirectory` with the store's typed errors (an unreadable parent is E_STORE_NOT_READABLE, not E_BUG). */
  private isDir(p: string): Promise<boolean> {
    return isStoreDir(p)
  }

  /** The version `<name>/latest` names if that version is there, else null (latest.ts). */
  private readLatest(name: string): Promise<string | null> {
    return readLatest(this.root, name)
  }

  private checkLatestWritable(name: string): Promise<void> {
    return checkLatestWritable(this.root, name)
  }

  /** The readable item with the highest creation time (ties: see `newestItem`). */
  private async newest(name: string, ties: 'first' | 'last' = 'first'): Promise<StoreItem<TInfo> | undefined> {
    const items = (await this.listVersions(name)).filter((i): i is StoreItem<TInfo> => i.error === undefined)
    return newestItem(items, ties)
  }

  /** Rewrite `<name>/latest` atomically, under the name's lock (latest.ts). */
  private writeLatest(name: string, version: string): Promise<void> {
    return writeLatest(this.place, name, version)
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
    return repairName(this.place, name, async () => (await this.newest(name))?.tag.version)
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
    return beingReadError(this.kind, tag, readers)
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
    return alreadyExistsError(this.kind, this.root, tag, this.itemPath(tag), cause)
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
