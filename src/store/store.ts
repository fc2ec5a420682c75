import {cp, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm} from 'node:fs/promises'
import path from 'node:path'

import {NotFoundError, StoreError} from '../errors.js'
import {isDirectory, isErrno, writeFileAtomic} from './fs-utils.js'
import {type BentoInfo, type ModelInfo, readBentoInfo, readModelInfo} from './info.js'
import {type LockOptions, withLock} from './lock.js'
import {AmbiguousTagError, type FullTag, formatTag, isValidTagPart, parseTag, type Tag, validateTagPart} from './tag.js'

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

  constructor(home: string, kind: StoreKind, readInfo: (dir: string) => Promise<TInfo>) {
    this.home = home
    this.kind = kind
    this.root = path.join(home, kind)
    this.readInfo = readInfo
  }

  static bentos(home: string): Store<BentoInfo> {
    return new Store(home, 'bentos', readBentoInfo)
  }

  static models(home: string): Store<ModelInfo> {
    return new Store(home, 'models', readModelInfo)
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

  private get infoFile(): string {
    return this.kind === 'bentos' ? 'bento.yaml' : 'model.yaml'
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
      throw error
    }
    const dirs: string[] = []
    for (const name of names.sort(compareStrings)) {
      if (await isDirectory(path.join(dir, name))) dirs.push(name)
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
      const problem = validateTagPart(version)
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
        const problem = validateTagPart(dirName)
        if (problem === null) {
          items.push(...(await this.listVersions(dirName)))
        } else {
          const dir = path.join(this.root, dirName)
          items.push(this.broken({name: dirName, version: ''}, dir, `the directory name is not a valid tag name: ${problem}`))
        }
      }
    } else {
      const tag = this.toTag(name)
      if (tag.version !== null) {
        const full = {name: tag.name, version: tag.version}
        if (!(await isDirectory(this.itemPath(full)))) return []
        try {
          items = [await this.readItem(full)]
        } catch (error) {
          if (!(error instanceof StoreError)) throw error
          items = [{tag: full, path: this.itemPath(full), error}]
        }
      } else {
        if (!(await isDirectory(path.join(this.root, tag.name)))) throw await this.notFound(tag)
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

  /** The version named by `<name>/latest` if it names an existing version directory, else null. */
  private async readLatest(name: string): Promise<string | null> {
    let text: string
    try {
      text = await readFile(this.latestPath(name), 'utf8')
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR', 'EISDIR')) return null
      throw error
    }
    const version = text.trim()
    if (!isValidTagPart(version)) return null
    return (await isDirectory(this.itemPath({name, version}))) ? version : null
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

  /** Rewrite `<name>/latest` (no trailing newline). A read-only store is left as is. */
  private async writeLatest(name: string, version: string): Promise<void> {
    try {
      await writeFileAtomic(this.latestPath(name), version)
    } catch (error) {
      if (!isErrno(error, 'EACCES', 'EPERM', 'EROFS')) throw error
    }
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
        await this.writeLatest(tag.name, version)
      }
      return {name: tag.name, version}
    }
    if (await isDirectory(this.itemPath({name: tag.name, version}))) return {name: tag.name, version}
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
   * Delete one item (resolved like `get`, so `name` means its latest version). Afterwards `latest` names the
   * remaining version with the highest creation time, or the `<name>` directory is removed when no version is left.
   */
  async delete(tagLike: TagLike, options: {lock?: LockOptions} = {}): Promise<FullTag> {
    const tag = await this.resolve(tagLike)
    return withLock(
      this.lockPath(tag.name),
      async () => {
        const dir = this.itemPath(tag)
        if (!(await isDirectory(dir))) throw await this.notFound(tag)
        await rm(dir, {recursive: true, force: true})
        const nameDir = path.join(this.root, tag.name)
        if ((await this.subdirs(nameDir)).length === 0) {
          await rm(nameDir, {recursive: true, force: true})
          return tag
        }
        const newest = await this.newest(tag.name, 'last')
        if (newest === undefined) await rm(this.latestPath(tag.name), {force: true})
        else await this.writeLatest(tag.name, newest.tag.version)
        return tag
      },
      options.lock,
    )
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
      const problem = validateTagPart(part)
      if (problem !== null) throw new StoreError(`Cannot install '${formatTag(tag)}': ${problem}`, {code: 'E_STORE'})
    }
    // Validate before anything is moved: never install an item BentoML cannot read.
    const info = await this.readInfo(tmpDir)
    const creationTime = options.creationTime ?? info.creationTime

    await mkdir(this.root, {recursive: true})
    return withLock(
      this.lockPath(tag.name),
      async () => {
        const nameDir = path.join(this.root, tag.name)
        await mkdir(nameDir, {recursive: true})
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
      if (!isErrno(error, 'EXDEV')) throw error
    }
    // Another file system: copy next to the target first, so the final step is still an atomic rename.
    // Try $BENTOML_HOME/tmp (invisible to listings); if that is another file system as well, use a dot
    // directory inside <name>/ (BentoML would see it only for the duration of the copy).
    const stagingParents = [path.join(this.home, 'tmp'), path.dirname(target)]
    let lastError: unknown
    for (const parent of stagingParents) {
      await mkdir(parent, {recursive: true})
      const staging = await mkdtemp(path.join(parent, `.partial-${tag.name}-${tag.version}-`))
      try {
        await cp(src, staging, {recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: true})
        await rename(staging, target)
        await rm(src, {recursive: true, force: true})
        return
      } catch (error) {
        await rm(staging, {recursive: true, force: true})
        if (isErrno(error, 'ENOTEMPTY', 'EEXIST')) throw this.alreadyExists(tag, error)
        if (!isErrno(error, 'EXDEV')) throw error
        lastError = error
      }
    }
    throw lastError
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
    if (write) await writeFileAtomic(this.latestPath(tag.name), tag.version)
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
 * A fresh build directory under `$BENTOML_HOME/tmp` (`tempfile.mkdtemp(prefix="bentoml_bento_<name>")` in
 * BentoML). Interrupted builds leave such directories behind; they are never listed (they are not under bentos/).
 */
export async function makeTempDir(home: string, name: string, prefix = 'bentoml_bento_'): Promise<string> {
  const tmp = path.join(home, 'tmp')
  await mkdir(tmp, {recursive: true})
  return mkdtemp(path.join(tmp, `${prefix}${name}`))
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
