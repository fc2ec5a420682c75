/**
 * `bento export`: a Bento (plus its models) as an archive `bentoml import` reads (format doc §7). Deterministic: the
 * same Bento gives the same bytes (entries sorted by `compareArchivePaths`, headers by the one tar writer,
 * src/tar-writer.ts). Written into a temp file next to the output, then renamed: an interrupt leaves nothing.
 */
import {createWriteStream} from 'node:fs'
import {lstat, mkdir, open, readdir, readlink, rename, rm, stat} from 'node:fs/promises'
import path from 'node:path'
import type {Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGzip} from 'node:zlib'

import tar from 'tar-stream'

import type {Cleanup} from '../../cleanup.js'
import {ArchiveError, diskFullError, InterruptedError, isDiskFull, NotFoundError, StoreError} from '../../errors.js'
import {type BentoInfo, type FullTag, formatTag, isDirectory, readBentoInfo, readModelInfo, tagPartProblem} from '../../store/index.js'
import {isErrno} from '../../store/fs-utils.js'
import {OWNER_TOKEN, ownerAlive, ownerFromMatch, ownerToken} from '../../store/owner.js'
import {type TarEntry, TarSourceError, writeTarEntries} from '../../tar-writer.js'
import {xzCompress} from '../xz.js'
import {archiveError, interrupted, xzMissing} from './errors.js'
import {type ArchiveFormat, EXTENSIONS, inferFormat} from './formats.js'
import {compareArchivePaths, escapingModelSymlink, escapingSymlink, isInside} from './paths.js'

/** The mtime of every entry of an export (the Unix epoch). */
const FIXED_MTIME = new Date(0)

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

async function walk(dir: string, prefix: string, entries: Map<string, TarEntry>, symlinks: Map<string, string>): Promise<void> {
  const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  for (const name of names) {
    const source = path.join(dir, name)
    const archivePath = prefix === '' ? name : `${prefix}/${name}`
    const info = await lstat(source)
    if (info.isDirectory()) {
      entries.set(archivePath, {name: archivePath, type: 'directory'})
      await walk(source, archivePath, entries, symlinks)
    } else if (info.isFile()) {
      entries.set(archivePath, {name: archivePath, type: 'file', executable: (info.mode & 0o111) !== 0, source, size: info.size})
    } else if (info.isSymbolicLink()) {
      const linkname = await readlink(source)
      entries.set(archivePath, {name: archivePath, type: 'symlink', linkname})
      symlinks.set(archivePath, linkname)
    } else {
      throw archiveError('E_ARCHIVE_INVALID', `Cannot archive ${source}: not a regular file, directory or symlink`, {
        hint: 'Remove sockets, FIFOs and device files from the Bento directory.',
        data: {path: source},
      })
    }
  }
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

async function planEntries(bentoDir: string, modelDirs: ModelDirRef[]): Promise<TarEntry[]> {
  const entries = new Map<string, TarEntry>()
  const symlinks = new Map<string, string>()
  await walk(bentoDir, '', entries, symlinks)
  const added: ModelDirRef[] = []
  for (const model of modelDirs) {
    for (const part of [model.name, model.version]) {
      const problem = tagPartProblem(part)
      if (problem !== null) throw archiveError('E_ARCHIVE_INVALID', `Cannot bundle model ${formatTag(model)}: ${problem}`)
    }
    const base = `models/${model.name}/${model.version}`
    if (entries.has(base)) continue // already bundled inside the Bento
    for (const dir of ['models', `models/${model.name}`, base]) {
      if (!entries.has(dir)) entries.set(dir, {name: dir, type: 'directory'})
    }
    await walk(model.dir, base, entries, symlinks)
    added.push(model)
  }
  for (const [name, version] of await latestVersions(added)) {
    const latest = `models/${name}/latest`
    if (!entries.has(latest)) {
      const content = Buffer.from(version)
      entries.set(latest, {name: latest, type: 'file', executable: false, content})
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

/** Every entry into `pack`, with the archive's fixed mtime; a failure destroys the pack. */
async function produce(pack: tar.Pack, entries: TarEntry[], signal?: AbortSignal): Promise<void> {
  try {
    await writeTarEntries(pack, entries, {mtime: FIXED_MTIME, signal})
  } catch (error) {
    pack.destroy(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
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

async function writeArchive(entries: TarEntry[], format: ArchiveFormat, file: string, signal?: AbortSignal): Promise<void> {
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
    throw vanished(isErrno(error, 'ENOENT', 'ENOTDIR') ? new TarSourceError((error as NodeJS.ErrnoException).path ?? options.bentoDir, 'gone', error) : error)
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
  if (!(error instanceof TarSourceError)) return error
  const model = modelDirs.find((m) => isInside(m.dir, error.source))
  const owner = model === undefined ? {what: 'Bento', tag: formatTag(tag), dir: bentoDir} : {what: 'Model', tag: formatTag(model), dir: model.dir}
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
