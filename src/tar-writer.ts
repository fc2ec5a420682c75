/**
 * The one tar writer: `bento export` archives (bento/archive/export.ts), the Docker build context of a Bento and the
 * layers of model and wheelhouse images (docker/context.ts) all go through `writeTarEntries`. Deterministic: every
 * header is a function of the entry and the tar's fixed mtime — owner root unless the entry says otherwise, no user
 * or group names, modes normalized (directories 0755, files 0644 or 0755 when executable, symlinks 0777), directory
 * names ending with '/' as GNU tar and Python's tarfile write them. The order is the caller's (each sorts its own).
 * Files are streamed from disk one at a time, never held whole in memory.
 */
import {createReadStream} from 'node:fs'

import type tar from 'tar-stream'

import {InterruptedError} from './errors.js'

/** The normalized modes: whatever a file's mode on disk, only "executable or not" survives. */
export const TAR_MODES = {directory: 0o755, file: 0o644, executable: 0o755, symlink: 0o777} as const

/** One entry: a directory, a file streamed from `source` (of `size` bytes) or held in `content`, or a symlink. */
export type TarEntry = (
  | {name: string; type: 'directory'}
  | {name: string; type: 'file'; executable: boolean; source: string; size: number}
  | {name: string; type: 'file'; executable: boolean; content: Buffer}
  | {name: string; type: 'symlink'; linkname: string}
) & {uid?: number; gid?: number}

export type TarHeader = Partial<tar.Header> & {name: string}

/** The header `entry` gets in a tar whose entries all have `mtime`. */
export function tarHeader(entry: TarEntry, mtime: Date): TarHeader {
  const owner = {mtime, uid: entry.uid ?? 0, gid: entry.gid ?? 0, uname: '', gname: ''}
  switch (entry.type) {
    case 'directory':
      return {...owner, name: `${entry.name}/`, type: 'directory', mode: TAR_MODES.directory, size: 0}
    case 'symlink':
      return {...owner, name: entry.name, type: 'symlink', mode: TAR_MODES.symlink, size: 0, linkname: entry.linkname}
    case 'file':
      return {
        ...owner,
        name: entry.name,
        type: 'file',
        mode: entry.executable ? TAR_MODES.executable : TAR_MODES.file,
        size: 'content' in entry ? entry.content.length : entry.size,
      }
  }
}

/** A file of the tar could not be read whole: it vanished (deleted meanwhile), or its size is not the one listed. */
export class TarSourceError extends Error {
  constructor(
    readonly source: string,
    readonly what: 'gone' | 'changed',
    override readonly cause: unknown,
  ) {
    super(`${source}: ${what}`)
  }
}

/** `error` as a `TarSourceError` when it says the source vanished or changed size; any other error as it is. */
export function sourceError(source: string, error: unknown): unknown {
  if (error instanceof TarSourceError || error instanceof InterruptedError) return error
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOENT' || code === 'ENOTDIR') return new TarSourceError(source, 'gone', error)
  if ((error as Error | undefined)?.message === 'Size mismatch') return new TarSourceError(source, 'changed', error)
  return error
}

function interrupted(): InterruptedError {
  return new InterruptedError('Interrupted; nothing was written.')
}

/** Wait until `sink` can take more data, or is closed; never leaves a listener behind (D18). */
export function drained(sink: NodeJS.WritableStream & {destroyed?: boolean}): Promise<void> {
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

function writeEntry(pack: tar.Pack, entry: TarEntry, mtime: Date, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve())
    const header = tarHeader(entry, mtime)
    if (entry.type !== 'file') {
      pack.entry(header, done)
      return
    }
    if ('content' in entry) {
      pack.entry(header, entry.content, done)
      return
    }
    const {source} = entry
    // Every failure reaches the caller through this promise; the entry's own stream must never emit an 'error'
    // nobody listens to (a crash, E8).
    const sink = pack.entry(header, (error) => (error ? reject(sourceError(source, error)) : resolve()))
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
      const typed = sourceError(source, error)
      reject(typed instanceof Error ? typed : new Error(String(typed)))
    })
  })
}

export interface WriteTarOptions {
  /** The mtime of every entry. */
  mtime: Date
  /** Checked before each entry and each chunk: an abort throws `InterruptedError`. */
  signal?: AbortSignal
}

/**
 * Write `entries` into `pack` in their order, then finalize it. A failure is thrown (a vanished or resized file as
 * `TarSourceError`); the pack is left to the caller to destroy.
 */
export async function writeTarEntries(pack: tar.Pack, entries: Iterable<TarEntry>, options: WriteTarOptions): Promise<void> {
  for (const entry of entries) {
    if (options.signal?.aborted) throw interrupted()
    await writeEntry(pack, entry, options.mtime, options.signal)
  }
  pack.finalize()
}
