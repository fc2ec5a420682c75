/**
 * Bento archives: `bento export` / `bento import`, interoperable with `bentoml export` / `bentoml import`
 * (format doc §7). Export is deterministic: the same Bento gives the same bytes. Import extracts with strict
 * checks into `$BENTOML_HOME/tmp` and only then installs, so a rejected archive leaves nothing behind.
 */
import {constants, createReadStream, createWriteStream} from 'node:fs'
import {copyFile, lstat, mkdir, open, readdir, readlink, rename, rm, stat, statfs, symlink} from 'node:fs/promises'
import path from 'node:path'
import {type Readable, Transform, type TransformCallback, type Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGunzip, createGzip} from 'node:zlib'

import tar from 'tar-stream'

import {humanSize} from '../byte-size.js'
import type {Cleanup} from '../cleanup.js'
import {ArchiveError, BentoError, diskFullError, InterruptedError, isDiskFull, NotFoundError, StoreError} from '../errors.js'
import {modelsOfBento} from './models-of.js'
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
} from '../store/index.js'
import {OWNER_TOKEN, ownerAlive, ownerFromMatch, ownerToken} from '../store/owner.js'
import {isErrno} from '../store/fs-utils.js'
import {storeFsError} from '../store/store.js'
import {dirMaker, linkTree} from './write.js'
import {xzCompress, xzDecompress, type XzExit} from './xz.js'

export type ArchiveFormat = 'bento' | 'gz' | 'tar'

/** Fixed header fields: every entry gets these, whatever the source files say. */
const FIXED_MTIME = new Date(0)
const DIR_MODE = 0o755
const FILE_MODE = 0o644
const EXEC_MODE = 0o755
const SYMLINK_MODE = 0o777

const EXTENSIONS: Record<ArchiveFormat, string> = {bento: '.bento', gz: '.tar.gz', tar: '.tar'}

export interface ModelDirRef {
  name: string
  version: string
  /** The model directory (with model.yaml), e.g. `$BENTOML_HOME/models/<name>/<version>`. */
  dir: string
}

export interface ExportOptions {
  /** The stored Bento directory (with bento.yaml). */
  bentoDir: string
  /** Models to bundle as `models/<name>/<version>/` (those already under the Bento's own `models/` are kept). */
  modelDirs?: ModelDirRef[]
  /** Output file, or a directory (existing, or ending with `/`) to write `<name>-<version>.bento` into. */
  out: string
  /** Default: from the extension of `out` (`.tar.gz`/`.tgz`/`.gz` → gz, `.tar` → tar), else `bento` (tar + xz). */
  format?: ArchiveFormat
  /** Ctrl-C: stop, remove the temp file, throw `InterruptedError`. */
  signal?: AbortSignal
  /** Where the temp file is registered while it exists (removed on a forced exit). */
  cleanup?: Cleanup
  /** Runs once the entries are planned, before any file is read (tests change the Bento underneath here). */
  afterPlan?: () => Promise<unknown>
}

export interface ExportResult {
  path: string
  format: ArchiveFormat
  tag: FullTag
  /** Size of the archive file. */
  bytes: number
  /** Number of tar entries. */
  entries: number
}

interface PlannedEntry {
  name: string
  type: 'directory' | 'file' | 'symlink'
  mode: number
  source?: string
  size?: number
  linkname?: string
  content?: Buffer
}

function archiveError(
  code: 'E_ARCHIVE_UNSAFE' | 'E_ARCHIVE_INVALID' | 'E_ARCHIVE_TOO_LARGE' | 'E_ARCHIVE',
  message: string,
  extra: {hint?: string; cause?: unknown; data?: Record<string, unknown>} = {}): ArchiveError {
  return new ArchiveError(message, {code, ...extra})
}

/** Compare archive paths segment by segment, so a directory's entries stay together right after it. */
function compareArchivePaths(a: string, b: string): number {
  const as = a.split('/')
  const bs = b.split('/')
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const x = as[i] ?? ''
    const y = bs[i] ?? ''
    if (x !== y) return Buffer.compare(Buffer.from(x), Buffer.from(y))
  }
  return as.length - bs.length
}

/**
 * Follow `target` from the directory `fromDir` (archive-relative, '' = root) the way the kernel would, expanding
 * the archive's own symlinks. Returns false when the path leaves the root at any point (or loops).
 */
function staysInside(fromDir: string, target: string, symlinks: Map<string, string>, hops = 0): false | string[] {
  if (target.startsWith('/') || hops > 40) return false
  let current = fromDir === '' ? [] : fromDir.split('/')
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (current.length === 0) return false
      current = current.slice(0, -1)
      continue
    }
    const next = [...current, part]
    const link = symlinks.get(next.join('/'))
    if (link === undefined) {
      current = next
      continue
    }
    const resolved = staysInside(current.join('/'), link, symlinks, hops + 1)
    if (resolved === false) return false
    current = resolved
  }
  return current
}

/** The first symlink whose target escapes the root, or undefined. */
function escapingSymlink(symlinks: Map<string, string>): [string, string] | undefined {
  for (const [name, target] of [...symlinks.entries()].sort(([a], [b]) => compareArchivePaths(a, b))) {
    if (staysInside(path.posix.dirname(name) === '.' ? '' : path.posix.dirname(name), target, symlinks) === false) {
      return [name, target]
    }
  }
  return undefined
}

/**
 * A model directory is copied on its own into the model store, so its symlinks must stay inside
 * `models/<name>/<version>/`, not merely inside the Bento.
 */
function escapingModelSymlink(
  symlinks: Map<string, string>,
  models: Array<{name: string; version: string}>,
): [string, string] | undefined {
  for (const model of models) {
    const prefix = `models/${model.name}/${model.version}/`
    const inside = new Map(
      [...symlinks].filter(([name]) => name.startsWith(prefix)).map(([name, target]) => [name.slice(prefix.length), target]),
    )
    const escaping = escapingSymlink(inside)
    if (escaping) return [prefix + escaping[0], escaping[1]]
  }
  return undefined
}

async function walk(dir: string, prefix: string, entries: Map<string, PlannedEntry>, symlinks: Map<string, string>): Promise<void> {
  const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  for (const name of names) {
    const source = path.join(dir, name)
    const archivePath = prefix === '' ? name : `${prefix}/${name}`
    const info = await lstat(source)
    if (info.isDirectory()) {
      entries.set(archivePath, {name: archivePath, type: 'directory', mode: DIR_MODE})
      await walk(source, archivePath, entries, symlinks)
    } else if (info.isFile()) {
      const mode = (info.mode & 0o111) === 0 ? FILE_MODE : EXEC_MODE
      entries.set(archivePath, {name: archivePath, type: 'file', mode, source, size: info.size})
    } else if (info.isSymbolicLink()) {
      const linkname = await readlink(source)
      entries.set(archivePath, {name: archivePath, type: 'symlink', mode: SYMLINK_MODE, linkname})
      symlinks.set(archivePath, linkname)
    } else {
      throw archiveError('E_ARCHIVE_INVALID', `Cannot archive ${source}: not a regular file, directory or symlink`, {
        hint: 'Remove sockets, FIFOs and device files from the Bento directory.',
        data: {path: source},
      })
    }
  }
}

function inferFormat(out: string): ArchiveFormat {
  const lower = out.toLowerCase()
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz') || lower.endsWith('.gz')) return 'gz'
  if (lower.endsWith('.tar')) return 'tar'
  return 'bento'
}

/** Newest version (by model.yaml creation_time, then version) per model name, for `models/<name>/latest`. */
async function latestVersions(models: ModelDirRef[]): Promise<Map<string, string>> {
  const best = new Map<string, {version: string; time: number}>()
  for (const model of models) {
    const info = await readModelInfo(model.dir)
    const time = info.creationTime.getTime()
    const current = best.get(model.name)
    if (!current || time > current.time || (time === current.time && model.version > current.version)) {
      best.set(model.name, {version: model.version, time})
    }
  }
  return new Map([...best].map(([name, {version}]) => [name, version]))
}

async function planEntries(bentoDir: string, modelDirs: ModelDirRef[]): Promise<PlannedEntry[]> {
  const entries = new Map<string, PlannedEntry>()
  const symlinks = new Map<string, string>()
  await walk(bentoDir, '', entries, symlinks)
  const added: ModelDirRef[] = []
  for (const model of modelDirs) {
    for (const part of [model.name, model.version]) {
      const problem = tagPartProblem(part)
      if (problem !== null) throw archiveError('E_ARCHIVE_INVALID', `Cannot bundle model ${model.name}:${model.version}: ${problem}`)
    }
    const base = `models/${model.name}/${model.version}`
    if (entries.has(base)) continue // already bundled inside the Bento
    for (const dir of ['models', `models/${model.name}`, base]) {
      if (!entries.has(dir)) entries.set(dir, {name: dir, type: 'directory', mode: DIR_MODE})
    }
    await walk(model.dir, base, entries, symlinks)
    added.push(model)
  }
  for (const [name, version] of await latestVersions(added)) {
    const latest = `models/${name}/latest`
    if (!entries.has(latest)) {
      const content = Buffer.from(version)
      entries.set(latest, {name: latest, type: 'file', mode: FILE_MODE, content, size: content.length})
    }
  }
  const bundledModels = [...entries.keys()]
    .map((name) => name.split('/'))
    .filter((parts) => parts.length === 3 && parts[0] === 'models' && entries.get(parts.join('/'))?.type === 'directory')
    .map(([, name = '', version = '']) => ({name, version}))
  const escaping = escapingSymlink(symlinks) ?? escapingModelSymlink(symlinks, bundledModels)
  if (escaping) {
    throw archiveError('E_ARCHIVE_UNSAFE', `Cannot export: symlink '${escaping[0]}' → '${escaping[1]}' points outside its Bento or model directory`, {
      hint: 'Importers (bento import) reject such links; replace the link with the file it points to.',
      data: {entry: escaping[0], target: escaping[1]},
    })
  }
  return [...entries.values()].sort((a, b) => compareArchivePaths(a.name, b.name))
}

function header(entry: PlannedEntry): Partial<tar.Header> & {name: string} {
  return {
    // Directory names end with '/', as GNU tar and Python's tarfile write them.
    name: entry.type === 'directory' ? `${entry.name}/` : entry.name,
    type: entry.type,
    mode: entry.mode,
    size: entry.type === 'file' ? entry.size ?? 0 : 0,
    ...(entry.linkname === undefined ? {} : {linkname: entry.linkname}),
    mtime: FIXED_MTIME,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
  }
}

/** Wait until `sink` can take more data, or is closed; never leaves a listener behind (D18). */
function drained(sink: NodeJS.WritableStream & {destroyed?: boolean}): Promise<void> {
  return new Promise<void>((resume) => {
    const done = (): void => {
      sink.off('drain', done)
      sink.off('close', done)
      resume()
    }
    sink.on('drain', done)
    sink.on('close', done)
  })
}

/** A source file of the export could not be read whole: it vanished (deleted meanwhile) or changed size. */
class SourceReadError extends Error {
  constructor(
    readonly source: string,
    readonly what: 'gone' | 'changed',
    override readonly cause: unknown,
  ) {
    super(`${source}: ${what}`)
  }
}

function sourceReadError(source: string, error: unknown): unknown {
  if (error instanceof SourceReadError || error instanceof InterruptedError) return error
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOENT' || code === 'ENOTDIR') return new SourceReadError(source, 'gone', error)
  if ((error as Error | undefined)?.message === 'Size mismatch') return new SourceReadError(source, 'changed', error)
  return error
}

function addEntry(pack: tar.Pack, entry: PlannedEntry, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve())
    if (entry.type !== 'file') {
      pack.entry(header(entry), done)
      return
    }
    if (entry.content !== undefined) {
      pack.entry(header(entry), entry.content, done)
      return
    }
    const source = entry.source ?? ''
    const sink = pack.entry(header(entry), (error) => (error ? reject(sourceReadError(source, error)) : resolve()))
    sink.on('error', () => undefined) // reported through the entry's callback
    const stream = createReadStream(source)
    void (async () => {
      for await (const chunk of stream) {
        if (signal?.aborted) throw interrupted()
        if (sink.destroyed) throw new Error('the archive stream was closed')
        if (!sink.write(chunk)) await drained(sink)
      }
      sink.end(undefined)
    })().catch((error: unknown) => {
      stream.destroy()
      const typed = sourceReadError(source, error)
      reject(typed instanceof Error ? typed : new Error(String(typed)))
    })
  })
}

function interrupted(): InterruptedError {
  return new InterruptedError('Interrupted; nothing was written.')
}

async function produce(pack: tar.Pack, entries: PlannedEntry[], signal?: AbortSignal): Promise<void> {
  try {
    for (const entry of entries) {
      if (signal?.aborted) throw interrupted()
      await addEntry(pack, entry, signal)
    }
    pack.finalize()
  } catch (error) {
    pack.destroy(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
}

function xzMissing(cause: unknown): ArchiveError {
  return archiveError('E_ARCHIVE', 'The `xz` program is needed for .bento archives but was not found', {
    cause,
    hint: 'Install xz-utils (e.g. `apt-get install xz-utils`), or use a .tar.gz / .tar output.',
  })
}

/** The archive could not be written at `file` (read-only place, permissions, full disk): typed, never E_BUG. */
function writeError(file: string, cause: unknown): Error {
  if (cause instanceof ArchiveError || cause instanceof InterruptedError) return cause
  if (isDiskFull(cause)) return diskFullError(`No space left on the device while writing ${file}; nothing was written.`, cause, {path: file})
  const code = (cause as NodeJS.ErrnoException | undefined)?.code
  if (code !== undefined && WRITE_ERRNOS.has(code)) {
    return archiveError('E_ARCHIVE', `Cannot write the archive ${file}: ${describeErrno(code)}`, {
      cause,
      hint: 'Choose a destination you can write to (a writable directory on a disk with room for the archive).',
      data: {path: file, errno: code},
    })
  }
  return cause instanceof Error ? cause : new Error(String(cause))
}

const WRITE_ERRNOS = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'EEXIST', 'ELOOP', 'EIO', 'EFBIG', 'EXDEV'])

function describeErrno(code: string): string {
  const text: Record<string, string> = {
    EROFS: 'read-only file system',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'a part of the path is not a directory',
    EISDIR: 'it is a directory',
    ENAMETOOLONG: 'the name is too long',
    EEXIST: 'a file is in the way where a directory is needed',
    ELOOP: 'too many levels of symbolic links',
    EIO: 'input/output error',
    EFBIG: 'the file is too large for that file system',
  }
  return `${text[code] ?? 'failed'} (${code})`
}

async function writeArchive(entries: PlannedEntry[], format: ArchiveFormat, file: string, signal?: AbortSignal): Promise<void> {
  const pack = tar.pack()
  if (format === 'bento') {
    const handle = await open(file, 'wx', 0o644)
    try {
      const producing = produce(pack, entries, signal)
      let produceError: unknown
      producing.catch((error: unknown) => {
        produceError = error
      })
      const exit = await xzCompress(pack as unknown as Readable, handle, signal)
      await producing.catch(() => undefined)
      if (exit.spawnError?.code === 'ENOENT') throw xzMissing(exit.spawnError)
      if (exit.spawnError) throw exit.spawnError
      if (signal?.aborted) throw interrupted()
      if (produceError !== undefined && !(exit.code !== 0 && exit.stderr !== '')) throw produceError
      if (exit.code !== 0) {
        if (/no space left/i.test(exit.stderr)) {
          throw diskFullError(`No space left on the device while writing ${file}; nothing was written.`, new Error(exit.stderr))
        }
        throw archiveError('E_ARCHIVE', `xz failed (${exit.code === null ? `signal ${String(exit.signal)}` : `exit code ${exit.code}`}): ${exit.stderr}`)
      }
      if (exit.feedError !== undefined) throw exit.feedError
      await handle.sync()
    } finally {
      await handle.close()
    }
    return
  }
  // Node's gzip header has mtime 0 and no file name: the output depends only on the input.
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [pack as unknown as Readable]
  if (format === 'gz') stages.push(createGzip({level: 9}))
  stages.push(createWriteStream(file, {flags: 'wx', mode: 0o644, flush: true}))
  try {
    await Promise.all([produce(pack, entries, signal), pipeline(stages as unknown as [Readable, Writable], {signal})])
  } catch (error) {
    if (signal?.aborted) throw interrupted()
    throw error
  }
}

/** Temp names of exports: `.<out name>.bento-tmp-<owner token>` next to the output, so the next export can sweep them. */
const EXPORT_TMP = new RegExp(`^\\..+\\.bento-tmp-${OWNER_TOKEN}$`)

function exportTempPath(out: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.bento-tmp-${ownerToken()}`)
}

/** Remove the temp files of exports into `dir` whose process is gone (killed with SIGKILL, power loss). */
export async function sweepExportTemps(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const owner = ownerFromMatch(EXPORT_TMP.exec(name))
    if (owner === null || ownerAlive(owner)) continue
    const file = path.join(dir, name)
    try {
      if (!(await lstat(file)).isFile()) continue
      await rm(file, {force: true})
      removed.push(file)
    } catch {
      // gone meanwhile, or not ours to remove: leave it
    }
  }
  return removed
}

/**
 * Write a deterministic archive of a Bento (plus models): sorted entries, mtime 0, uid/gid 0, no user/group
 * names, modes 0644 / 0755 (executables and directories), plain relative names (`bento.yaml`, `src/…`,
 * `models/<n>/<v>/…`, `models/<n>/latest`), symlinks kept. Streams into `.<out>.bento-tmp-<owner>` (xz
 * writes straight into it: nothing is held in memory), then renames it to `out`. An interrupt (`signal`) or a
 * failure removes the temp file; temp files of killed exports into the same directory are swept first.
 */
export async function exportBento(options: ExportOptions): Promise<ExportResult> {
  const {signal, cleanup} = options
  let info: BentoInfo
  try {
    info = await readBentoInfo(options.bentoDir)
  } catch (error) {
    if (error instanceof StoreError) {
      throw archiveError('E_ARCHIVE_INVALID', `Cannot export ${options.bentoDir}: ${error.message}`, {cause: error, hint: error.hint})
    }
    throw error
  }
  const tag = {name: info.name, version: info.version}
  let format = options.format
  let out = options.out
  if (out.endsWith('/') || out.endsWith(path.sep) || (await isDirectory(out))) {
    format ??= 'bento'
    out = path.join(out, `${tag.name}-${tag.version}${EXTENSIONS[format]}`)
  }
  format ??= inferFormat(out)

  const vanished = (error: unknown): unknown => readerError(error, tag, options.bentoDir, options.modelDirs ?? [])
  const entries = await planEntries(options.bentoDir, options.modelDirs ?? []).catch((error: unknown) => {
    throw vanished(isErrno(error, 'ENOENT', 'ENOTDIR') ? new SourceReadError((error as NodeJS.ErrnoException).path ?? options.bentoDir, 'gone', error) : error)
  })
  await options.afterPlan?.()
  if (signal?.aborted) throw interrupted()
  try {
    await mkdir(path.dirname(out), {recursive: true})
  } catch (error) {
    throw writeError(path.dirname(out), error)
  }
  await sweepExportTemps(path.dirname(out))
  const tmp = exportTempPath(out)
  const forget = cleanup?.add(tmp)
  try {
    await writeArchive(entries, format, tmp, signal)
    if (signal?.aborted) throw interrupted()
    await rename(tmp, out)
  } catch (error) {
    await rm(tmp, {force: true})
    throw writeError(out, vanished(error))
  } finally {
    forget?.()
  }
  return {path: out, format, tag, bytes: (await stat(out)).size, entries: entries.length}
}

/**
 * A source that vanished or changed while exported (a delete racing the export: `bento delete` waits for
 * `bento export`, but `bentoml delete` or an `rm` do not): typed, naming the Bento or model and the file.
 */
function readerError(error: unknown, tag: FullTag, bentoDir: string, modelDirs: ModelDirRef[]): unknown {
  if (!(error instanceof SourceReadError)) return error
  const model = modelDirs.find((m) => isInside(m.dir, error.source))
  const owner = model === undefined ? {what: 'Bento', tag: formatTag(tag), dir: bentoDir} : {what: 'Model', tag: `${model.name}:${model.version}`, dir: model.dir}
  const rel = path.relative(owner.dir, error.source) || '.'
  if (error.what === 'changed') {
    return archiveError('E_ARCHIVE', `${owner.what} '${owner.tag}' changed while being exported: ${rel} changed while it was read (its size is not the one listed); nothing was written`, {
      cause: error.cause,
      hint: 'Export again once nothing is writing into it.',
      data: {path: error.source},
    })
  }
  return new NotFoundError(`${owner.what} '${owner.tag}' was deleted or changed while being exported: ${rel} is gone; nothing was written`, {
    code: model === undefined ? 'E_BENTO_NOT_FOUND' : 'E_MODEL_NOT_FOUND',
    cause: error.cause,
    hint: '`bento delete` waits for a running export, but another tool (`bentoml delete`, rm) does not. Check with `bento list` / `bento models list`, then export again.',
    data: {path: error.source, tag: owner.tag},
  })
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

// ───────────────────────────── import ─────────────────────────────

export type DetectedFormat = 'xz' | 'gz' | 'tar' | 'zip'

/** By magic bytes: xz `FD 37 7A 58 5A 00`, gzip `1F 8B`, zip `PK\x03\x04`, anything else is tried as tar. */
export function detectArchiveFormat(head: Uint8Array): DetectedFormat {
  const xz = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]
  if (xz.every((byte, i) => head[i] === byte)) return 'xz'
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gz'
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip'
  return 'tar'
}

/** Bounds on what an import may write (D14). 0 means no limit. */
export interface ImportLimits {
  /** Total bytes of the files in the archive (as their headers declare). */
  maxBytes: number
  /** Number of entries. */
  maxEntries: number
  /** Declared file bytes per byte of archive (once more than 64 MiB are declared): a decompression bomb guard. */
  maxRatio: number
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {maxBytes: 256 * 2 ** 30, maxEntries: 200_000, maxRatio: 100}

/** Declared bytes below which the ratio limit does not apply (a small archive of text compresses very well). */
const RATIO_FLOOR = 64 * 2 ** 20

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

const UNSAFE_HINT =
  'The archive was not imported and nothing was written. Import only archives made by `bento export` or `bentoml export`.'

interface Extraction {
  /** archive path → kind, including implicitly created parent directories */
  seen: Map<string, 'file' | 'directory' | 'symlink'>
  symlinks: Map<string, string>
  limits: ImportLimits
  /** Size of the archive file. */
  archiveBytes: number
  entries: number
  /** Sum of the declared file sizes so far. */
  declared: number
  /** Disk space the extraction will use so far (sizes rounded up to blocks). */
  needed: number
  /** Free bytes for the extraction directory (refreshed when `needed` comes close). */
  free: number
  block: number
  signal?: AbortSignal
  /** Creates directories under the extraction root as 0755 whatever the umask (write.ts `dirMaker`). */
  ensureDir: (dir: string) => Promise<void>
}

async function freeSpace(dir: string): Promise<{free: number; block: number}> {
  try {
    const st = await statfs(dir)
    return {free: st.bavail * st.bsize, block: st.bsize || 4096}
  } catch {
    return {free: Number.POSITIVE_INFINITY, block: 4096}
  }
}

const LIMIT_FLAGS: Record<keyof ImportLimits, {flag: string; env: string; what: string}> = {
  maxBytes: {flag: '--max-size', env: 'BENTO_IMPORT_MAX_SIZE', what: 'total size'},
  maxEntries: {flag: '--max-entries', env: 'BENTO_IMPORT_MAX_ENTRIES', what: 'number of entries'},
  maxRatio: {flag: '--max-ratio', env: 'BENTO_IMPORT_MAX_RATIO', what: 'compression ratio'},
}

function limitError(archive: string, limit: keyof ImportLimits, value: number, max: number): ArchiveError {
  const {flag, env, what} = LIMIT_FLAGS[limit]
  const shown = (n: number): string => (limit === 'maxBytes' ? humanSize(n, {digits: 1}) : limit === 'maxRatio' ? `${Math.round(n)}:1` : n.toLocaleString('en-US'))
  return archiveError('E_ARCHIVE_TOO_LARGE', `Refused archive ${archive}: its ${what} passes the limit (${shown(value)} > ${shown(max)})`, {
    hint: `Nothing was written. If you trust this archive, raise the limit: ${flag} (or ${env}); 0 means no limit.`,
    data: {limit, value, max},
  })
}

/** Count an entry against the limits and the free disk, before anything of it is written. */
async function admit(state: Extraction, archive: string, root: string, type: string, size: number): Promise<void> {
  if (state.signal?.aborted) throw interrupted()
  const {limits} = state
  state.entries++
  if (limits.maxEntries > 0 && state.entries > limits.maxEntries) throw limitError(archive, 'maxEntries', state.entries, limits.maxEntries)
  const isFile = type === 'file' || type === 'contiguous-file'
  if (isFile) {
    state.declared += size
    if (limits.maxBytes > 0 && state.declared > limits.maxBytes) throw limitError(archive, 'maxBytes', state.declared, limits.maxBytes)
    const ratio = state.declared / Math.max(1, state.archiveBytes)
    if (limits.maxRatio > 0 && state.declared > RATIO_FLOOR && ratio > limits.maxRatio) {
      throw limitError(archive, 'maxRatio', ratio, limits.maxRatio)
    }
  }
  state.needed += Math.ceil(size / state.block) * state.block + (isFile ? 0 : state.block)
  if (state.needed > state.free) {
    const fresh = await freeSpace(root)
    state.free = fresh.free + state.needed - size // what is already written counts as used
    if (state.needed > state.free) {
      throw diskFullError(
        `No space left for ${archive}: its files need ${humanSize(state.needed, {digits: 1})} and the disk of ${root} has ${humanSize(fresh.free, {digits: 1})} free; nothing was imported.`,
        Object.assign(new Error('ENOSPC'), {code: 'ENOSPC'}),
        {needed: state.needed, free: fresh.free},
      )
    }
  }
}

/** Normalize an entry name; throw E_ARCHIVE_UNSAFE for absolute paths, `..`, backslashes or NUL. '' = the root. */
function safeEntryName(raw: string, archive: string, what = 'entry'): string {
  const unsafe = (why: string) =>
    archiveError('E_ARCHIVE_UNSAFE', `Unsafe archive ${archive}: ${what} '${raw}' ${why}`, {hint: UNSAFE_HINT, data: {entry: raw}})
  if (raw.includes('\0')) throw unsafe('contains a NUL byte')
  if (raw.includes('\\')) throw unsafe('contains a backslash')
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw unsafe('is an absolute path')
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) throw unsafe("contains a '..' segment")
  return parts.join('/')
}

type TarEntry = tar.ExtractEvents['entry'][1]

async function handleEntry(entry: TarEntry, root: string, archive: string, state: Extraction): Promise<void> {
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
        const mode = ((h.mode ?? 0) & 0o111) === 0 ? FILE_MODE : EXEC_MODE
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
