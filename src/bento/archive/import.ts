/**
 * `bento import`: an archive made by `bento export` or `bentoml export` (xz, gzip or plain tar) extracted with strict
 * checks (paths.ts) and bounds (limits.ts) into `$BENTOML_HOME/tmp`, and only then installed, so a rejected archive
 * leaves nothing behind.
 */
import {constants, createReadStream} from 'node:fs'
import {copyFile, lstat, open, readdir, rm, symlink} from 'node:fs/promises'
import path from 'node:path'
import {type Readable, Transform, type TransformCallback, type Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGunzip} from 'node:zlib'

import tar from 'tar-stream'

import type {Cleanup} from '../../cleanup.js'
import {ArchiveError, BentoError, diskFullError, InterruptedError, isDiskFull, NotFoundError, StoreError} from '../../errors.js'
import {
  type BentoInfo,
  ensureHome,
  type FullTag,
  formatTag,
  isDirectory,
  makeTempDir,
  parseTag,
  readBentoInfo,
  readModelInfo,
  Store,
  tagPartProblem,
} from '../../store/index.js'
import {storeFsError} from '../../store/store.js'
import {TAR_MODES} from '../../tar-writer.js'
import {modelsOfBento} from '../models-of.js'
import {dirMaker, linkTree} from '../write.js'
import {xzDecompress, type XzExit} from '../xz.js'
import {archiveError, interrupted, UNSAFE_HINT, xzMissing} from './errors.js'
import type {ModelDirRef} from './export.js'
import {type DetectedFormat, detectArchiveFormat} from './formats.js'
import {admit, DEFAULT_IMPORT_LIMITS, freeSpace, type ImportBudget, type ImportLimits} from './limits.js'
import {escapingModelSymlink, escapingSymlink, safeEntryName} from './paths.js'

export interface ImportOptions {
  archive: string
  home: string
  /** Default `DEFAULT_IMPORT_LIMITS`; each can be raised (or 0: none). */
  limits?: Partial<ImportLimits>
  /** Ctrl-C: stop, remove everything written, throw `InterruptedError`. */
  signal?: AbortSignal
  /** Where the extraction and staging directories are registered while they exist (removed on a forced exit). */
  cleanup?: Cleanup
}

export interface ImportResult {
  tag: FullTag
  /** Where the Bento now is: `$BENTOML_HOME/bentos/<name>/<version>` (it keeps its `models/`). */
  path: string
  format: DetectedFormat
  /** Models copied into `$BENTOML_HOME/models`. */
  modelsInstalled: FullTag[]
  /** Models in the archive that the model store already had. */
  modelsSkipped: FullTag[]
  /** `models[]` tags of bento.yaml found neither in the archive nor in the model store. */
  missingModels: string[]
}

interface Extraction extends ImportBudget {
  /** archive path → kind, including implicitly created parent directories */
  seen: Map<string, 'file' | 'directory' | 'symlink'>
  symlinks: Map<string, string>
  /** Creates directories under the extraction root as 0755 whatever the umask (write.ts `dirMaker`). */
  ensureDir: (dir: string) => Promise<void>
}

type ExtractedEntry = tar.ExtractEvents['entry'][1]

async function handleEntry(entry: ExtractedEntry, root: string, archive: string, state: Extraction): Promise<void> {
  const h = entry.header
  const raw = h.name
  const unsafe = (why: string) =>
    archiveError('E_ARCHIVE_UNSAFE', `Unsafe archive ${archive}: entry '${raw}' ${why}`, {hint: UNSAFE_HINT, data: {entry: raw}})
  const invalid = (why: string, cause?: unknown) =>
    archiveError('E_ARCHIVE_INVALID', `Invalid archive ${archive}: entry '${raw}' ${why}`, {
      cause,
      hint: 'The archive was not imported and nothing was written. Re-export the Bento.',
      data: {entry: raw},
    })
  const type = h.type ?? 'file'
  if (type === 'character-device' || type === 'block-device' || type === 'fifo') {
    throw unsafe(`is a ${type === 'fifo' ? 'FIFO' : type.replace('-', ' ')}`)
  }
  const name = safeEntryName(raw, archive)
  await admit(state, archive, root, type, type === 'file' || type === 'contiguous-file' ? h.size ?? 0 : 0)
  // Read entries with async iteration, not stream.pipeline: an entry stream that tar-stream has already
  // destroyed (truncated archive) would make pipeline wait forever.
  const drain = async () => {
    for await (const _chunk of entry) {
      // directories and links carry no data
    }
  }
  if (name === '') {
    if (type !== 'directory') throw unsafe('has an empty name')
    return drain()
  }
  const parts = name.split('/')
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/')
    const kind = state.seen.get(prefix)
    if (kind === 'symlink') throw unsafe(`is inside the symlink '${prefix}'`)
    if (kind === 'file') throw invalid(`is inside the file '${prefix}'`)
  }
  const previous = state.seen.get(name)
  if (previous !== undefined && !(previous === 'directory' && type === 'directory')) {
    throw invalid('appears twice (or clashes with a directory)')
  }
  const target = path.join(root, ...parts)
  const markParents = () => {
    for (let i = 1; i < parts.length; i++) state.seen.set(parts.slice(0, i).join('/'), 'directory')
  }
  await state.ensureDir(path.dirname(target))
  markParents()
  try {
    switch (type) {
      case 'directory': {
        await state.ensureDir(target)
        state.seen.set(name, 'directory')
        return await drain()
      }
      case 'file':
      case 'contiguous-file': {
        const mode = ((h.mode ?? 0) & 0o111) === 0 ? TAR_MODES.file : TAR_MODES.executable
        state.seen.set(name, 'file')
        const handle = await open(target, 'wx', mode)
        let written = 0
        try {
          for await (const chunk of entry) {
            if (state.signal?.aborted) throw interrupted()
            const bytes = chunk as Uint8Array
            await handle.write(bytes)
            written += bytes.length
          }
          await handle.chmod(mode) // whatever the umask
        } finally {
          await handle.close()
        }
        if (written !== (h.size ?? 0)) throw invalid(`is truncated (${written} of ${h.size ?? 0} bytes)`)
        return
      }
      case 'symlink': {
        const link = h.linkname ?? ''
        if (link === '' || link.includes('\0')) throw invalid('is a symlink without a target')
        if (link.startsWith('/')) throw unsafe(`is a symlink to the absolute path '${link}'`)
        await symlink(link, target)
        state.seen.set(name, 'symlink')
        state.symlinks.set(name, link)
        return await drain()
      }
      case 'link': {
        const linkTarget = safeEntryName(h.linkname ?? '', archive, `hard link target of '${raw}':`)
        if (state.seen.get(linkTarget) !== 'file') {
          throw unsafe(`is a hard link to '${h.linkname ?? ''}', which is not a regular file of the archive`)
        }
        const linkParts = linkTarget.split('/')
        for (let i = 1; i < linkParts.length; i++) {
          if (state.seen.get(linkParts.slice(0, i).join('/')) === 'symlink') throw unsafe('is a hard link through a symlink')
        }
        // A copy, not a link: the stored Bento never shares inodes with anything.
        await copyFile(path.join(root, ...linkParts), target, constants.COPYFILE_EXCL)
        state.seen.set(name, 'file')
        return await drain()
      }
      default:
        throw invalid(`has an unsupported type '${type}'`)
    }
  } catch (error) {
    if (error instanceof BentoError) throw error
    if (isDiskFull(error)) throw diskFullError(`No space left on the device while importing ${archive}; nothing was imported.`, error)
    throw invalid(`could not be extracted: ${(error as Error).message}`, error)
  }
}

/** Size of the end-of-archive marker: two 512-byte zero blocks. */
const END_OF_ARCHIVE = 1024

/** A pass-through that remembers the last `size` bytes of the stream. */
class TailKeeper extends Transform {
  private tail: Buffer = Buffer.alloc(0)
  constructor(private readonly size: number) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const joined = Buffer.concat([this.tail, chunk])
    this.tail = joined.subarray(Math.max(0, joined.length - this.size))
    callback(null, chunk)
  }

  isZeros(): boolean {
    return this.tail.length === this.size && this.tail.every((byte) => byte === 0)
  }
}

async function extractSafely(
  archive: string,
  format: 'xz' | 'gz' | 'tar',
  root: string,
  options: {limits: ImportLimits; archiveBytes: number; signal?: AbortSignal},
): Promise<Extraction> {
  const {free, block} = await freeSpace(root)
  const state: Extraction = {
    seen: new Map(),
    symlinks: new Map(),
    limits: options.limits,
    archiveBytes: options.archiveBytes,
    entries: 0,
    declared: 0,
    needed: 0,
    free,
    block,
    signal: options.signal,
    ensureDir: dirMaker(root),
  }
  const extract = tar.extract()
  let xz: {exit: Promise<XzExit>; kill: () => void} | undefined
  let input: Awaited<ReturnType<typeof open>> | undefined
  let source: Readable
  if (format === 'xz') {
    input = await open(archive, 'r')
    const child = xzDecompress(input)
    xz = child
    source = child.stdout
  } else {
    source = createReadStream(archive)
  }
  const tail = new TailKeeper(END_OF_ARCHIVE)
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [source]
  if (format === 'gz') stages.push(createGunzip())
  stages.push(tail, extract as unknown as Writable)
  const feeding = pipeline(stages as unknown as [Readable, Writable])
  let feedError: unknown
  feeding.catch((error: unknown) => {
    feedError = error
  })
  const corrupt = (cause: unknown) =>
    archiveError('E_ARCHIVE_INVALID', `Invalid archive ${archive}: not a readable ${format === 'tar' ? 'tar' : `tar.${format}`} file (${(cause as Error | undefined)?.message ?? String(cause)})`, {
      cause,
      hint: 'The archive was not imported and nothing was written. Check that the file is complete (not truncated).',
    })
  try {
    for await (const entry of extract) await handleEntry(entry, root, archive, state)
    await feeding
  } catch (error) {
    source.destroy()
    xz?.kill()
    await feeding.catch(() => undefined)
    if (xz) {
      const result = await xz.exit
      await input?.close()
      if (result.spawnError?.code === 'ENOENT') throw xzMissing(result.spawnError)
    }
    // When the stream itself failed (truncated, not a tar), that is the story, not the entry it cut short.
    // (Stopping early ourselves makes the pipeline fail with ERR_STREAM_PREMATURE_CLOSE: not a stream problem.)
    const streamFailed =
      feedError !== undefined && (feedError as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE'
    if (options.signal?.aborted) throw interrupted()
    if (error instanceof BentoError && !(error instanceof ArchiveError)) throw error // E_DISK_FULL, E_INTERRUPTED
    if (error instanceof ArchiveError && (error.code !== 'E_ARCHIVE_INVALID' || !streamFailed)) throw error
    throw corrupt(streamFailed ? feedError : error)
  }
  if (xz) {
    const result = await xz.exit
    await input?.close()
    if (result.spawnError?.code === 'ENOENT') throw xzMissing(result.spawnError)
    if (result.code !== 0) throw corrupt(new Error(`xz: ${result.stderr}`))
  }
  // tar-stream accepts a tar cut at an entry boundary; every tar writer ends with two zero blocks.
  if (!tail.isZeros()) throw corrupt(new Error('no end-of-archive marker, the file is truncated'))
  return state
}

/** The first bytes of the archive and its size. Only a regular file is an archive (D13: a directory, /dev/zero). */
async function readHead(file: string): Promise<{head: Buffer; size: number}> {
  let handle
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new NotFoundError(`Archive ${file} does not exist`, {code: 'E_ARCHIVE_NOT_FOUND', hint: 'Check the path.', data: {path: file}})
    }
    throw archiveError('E_ARCHIVE_INVALID', `Cannot read the archive ${file} (${code ?? String(error)})`, {
      cause: error,
      hint: code === 'EACCES' || code === 'EPERM' ? 'Make the file readable.' : 'Check the path.',
      data: {path: file, errno: code},
    })
  }
  try {
    const st = await handle.stat()
    if (!st.isFile()) {
      const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a pipe' : st.isSocket() ? 'a socket' : 'a device'
      throw archiveError('E_ARCHIVE_INVALID', `${file} is ${what}, not an archive file`, {
        hint: st.isDirectory()
          ? 'Import takes an archive made by `bento export` or `bentoml export`. To import a Bento directory, export it first.'
          : 'Save the archive to a regular file first, then import that file.',
        data: {path: file},
      })
    }
    const buffer = Buffer.alloc(6)
    const {bytesRead} = await handle.read(buffer, 0, 6, 0)
    return {head: buffer.subarray(0, bytesRead), size: st.size}
  } finally {
    await handle.close()
  }
}

async function bundledModels(root: string, archive: string): Promise<ModelDirRef[]> {
  const modelsDir = path.join(root, 'models')
  if (!(await lstat(modelsDir).catch(() => null))?.isDirectory()) return []
  const found: ModelDirRef[] = []
  for (const name of (await readdir(modelsDir)).sort()) {
    const nameDir = path.join(modelsDir, name)
    if (!(await lstat(nameDir)).isDirectory()) continue
    for (const version of (await readdir(nameDir)).sort()) {
      const dir = path.join(nameDir, version)
      if (!(await lstat(dir)).isDirectory()) continue
      for (const part of [name, version]) {
        const problem = tagPartProblem(part, {version: true})
        if (problem !== null) {
          throw archiveError('E_ARCHIVE_INVALID', `Invalid archive ${archive}: models/${name}/${version}: ${problem}`, {
            hint: 'The archive was not imported and nothing was written.',
          })
        }
      }
      try {
        await readModelInfo(dir)
      } catch (error) {
        if (!(error instanceof StoreError)) throw error
        throw archiveError('E_ARCHIVE_INVALID', `Invalid archive ${archive}: model models/${name}/${version}: ${error.message}`, {
          cause: error,
          hint: 'The archive was not imported and nothing was written.',
        })
      }
      found.push({name, version, dir})
    }
  }
  return found
}

/**
 * Import an archive made by `bento export` or `bentoml export` (xz, gzip or plain tar, detected by magic bytes).
 * Extraction is strict (see `handleEntry`); any problem removes the temp dir and throws `ArchiveError`
 * `E_ARCHIVE_UNSAFE` / `E_ARCHIVE_INVALID`. Then, as BentoML's `Bento.save`, each bundled model whose tag is
 * absent is copied into the model store, and the Bento is installed — keeping its `models/` (self-contained).
 * An existing Bento tag → `StoreError` `E_ALREADY_EXISTS` (exit 5) with nothing changed.
 */
export async function importBento(options: ImportOptions): Promise<ImportResult> {
  const {archive, home, signal, cleanup} = options
  const limits: ImportLimits = {...DEFAULT_IMPORT_LIMITS, ...options.limits}
  const {head, size: archiveBytes} = await readHead(archive)
  const detected = detectArchiveFormat(head)
  if (detected === 'zip') {
    throw archiveError('E_ARCHIVE_INVALID', `Unsupported archive ${archive}: zip archives are not supported`, {
      hint: 'Export the Bento as .bento (tar + xz), .tar.gz or .tar.',
    })
  }
  await ensureHome(home)
  const bentos = Store.bentos(home, {cleanup})
  const models = Store.models(home, {cleanup})
  if (signal?.aborted) throw interrupted()
  const {dir: root, forget: forgetRoot} = await makeTempDir(home, 'archive', {kind: 'import', near: bentos.root, cleanup})
  const staging: Array<{dir: string; forget: () => void}> = []
  try {
    const state = await extractSafely(archive, detected, root, {limits, archiveBytes, signal})
    const escaping = escapingSymlink(state.symlinks)
    if (escaping) {
      throw archiveError('E_ARCHIVE_UNSAFE', `Unsafe archive ${archive}: entry '${escaping[0]}' is a symlink to '${escaping[1]}', outside the Bento`, {
        hint: UNSAFE_HINT,
        data: {entry: escaping[0]},
      })
    }
    if (state.seen.get('bento.yaml') !== 'file') {
      const tops = [...state.seen.keys()].filter((k) => !k.includes('/'))
      const nested = tops.filter((k) => state.seen.get(`${k}/bento.yaml`) === 'file')
      throw archiveError('E_ARCHIVE_INVALID', `Invalid archive ${archive}: no bento.yaml at the archive root`, {
        hint:
          nested.length > 0
            ? `bento.yaml is inside '${nested[0] ?? ''}/'; archive the contents of the Bento directory, not the directory itself.`
            : 'This is not a Bento archive. Create one with `bento export` or `bentoml export`.',
      })
    }
    let info: BentoInfo
    try {
      info = await readBentoInfo(root)
    } catch (error) {
      if (!(error instanceof StoreError)) throw error
      throw archiveError('E_ARCHIVE_INVALID', `Invalid archive ${archive}: ${error.message}`, {cause: error, hint: 'The archive was not imported.'})
    }
    const tag: FullTag = {name: info.name, version: info.version}
    for (const [key, part] of [['name', tag.name], ['version', tag.version]] as const) {
      const problem = tagPartProblem(part, {version: true})
      if (problem !== null) {
        throw archiveError('E_ARCHIVE_INVALID', `Invalid archive ${archive}: bento.yaml ${key}: ${problem}`, {
          hint: 'The archive was not imported and nothing was written (no model either).',
          data: {key},
        })
      }
    }
    const unreadable = info.bentomlProblem
    if (unreadable !== null) {
      throw archiveError('E_ARCHIVE_INVALID', `Invalid archive ${archive}: bento.yaml ${unreadable.key}: ${unreadable.message}`, {
        hint: 'BentoML could not read this Bento (`bentoml list` would fail on it); it was not imported.',
        data: {key: unreadable.key},
      })
    }
    // The archive is fine; the store already holds the tag: a store error (exit 5), as for `build --version`.
    const alreadyExists = (cause?: unknown) =>
      new StoreError(`Bento '${formatTag(tag)}' already exists in the store ${bentos.root}`, {
        code: 'E_ALREADY_EXISTS',
        cause,
        hint: `Delete it first (\`bento delete ${formatTag(tag)}\`) if you want to replace it.`,
        data: {tag: formatTag(tag)},
      })
    if (await isDirectory(bentos.itemPath(tag))) throw alreadyExists()

    const bundled = await bundledModels(root, archive)
    const escapingInModel = escapingModelSymlink(state.symlinks, bundled)
    if (escapingInModel) {
      throw archiveError('E_ARCHIVE_UNSAFE', `Unsafe archive ${archive}: entry '${escapingInModel[0]}' is a symlink to '${escapingInModel[1]}', outside its model directory`, {
        hint: UNSAFE_HINT,
        data: {entry: escapingInModel[0]},
      })
    }
    const modelsInstalled: FullTag[] = []
    const modelsSkipped: FullTag[] = []
    for (const model of bundled) {
      if (signal?.aborted) throw interrupted()
      const modelTag = {name: model.name, version: model.version}
      if (await isDirectory(models.itemPath(modelTag))) {
        modelsSkipped.push(modelTag)
        continue
      }
      const tmp = await makeTempDir(home, model.name, {kind: 'model', near: models.root, cleanup})
      staging.push(tmp)
      // Hard links to the files the Bento keeps under models/ (copies across file systems): no second copy on disk.
      await linkTree(model.dir, tmp.dir, {linked: 0, copied: 0})
      try {
        await models.install(tmp.dir, modelTag)
        modelsInstalled.push(modelTag)
      } catch (error) {
        if (error instanceof StoreError && error.code === 'E_ALREADY_EXISTS') modelsSkipped.push(modelTag)
        else throw error
      }
    }

    if (signal?.aborted) throw interrupted()
    try {
      await bentos.install(root, tag)
    } catch (error) {
      if (error instanceof StoreError && error.code === 'E_ALREADY_EXISTS') throw alreadyExists(error)
      throw error
    }

    const missingModels: string[] = []
    for (const ref of modelsOfBento(info)) {
      if (ref.registry !== 'bentoml') continue
      let refTag: FullTag
      try {
        const parsed = parseTag(ref.tag)
        if (parsed.version === null) continue
        refTag = {name: parsed.name, version: parsed.version}
      } catch {
        missingModels.push(ref.tag)
        continue
      }
      if (!(await isDirectory(models.itemPath(refTag)))) missingModels.push(ref.tag)
    }
    return {tag, path: bentos.itemPath(tag), format: detected, modelsInstalled, modelsSkipped, missingModels}
  } catch (error) {
    if (signal?.aborted && !(error instanceof InterruptedError)) throw interrupted()
    if (!(error instanceof BentoError) && isDiskFull(error)) {
      throw diskFullError(`No space left on the device while importing ${archive}; nothing was imported.`, error)
    }
    throw storeFsError(error, home)
  } finally {
    await rm(root, {recursive: true, force: true})
    forgetRoot()
    for (const tmp of staging) {
      await rm(tmp.dir, {recursive: true, force: true})
      tmp.forget()
    }
  }
}
