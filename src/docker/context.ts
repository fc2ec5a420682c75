import {lstat, readdir, readlink} from 'node:fs/promises'
import path from 'node:path'
import {PassThrough} from 'node:stream'

import {minimatch} from 'minimatch'
import tar from 'tar-stream'

import {ArchiveError} from '../errors.js'
import {type TarEntry, TarSourceError, writeTarEntries} from '../tar-writer.js'

export interface BuildContextOptions {
  /** The Bento directory ($BENTOML_HOME/bentos/<name>/<version>). Streamed as is, never copied. */
  bentoDir: string
  /** Generated Dockerfile content, injected at `env/docker/Dockerfile` (replacing the Bento's copy). */
  dockerfile: string
  /** `.dockerignore` patterns; applied here and included in the context as `.dockerignore`. */
  dockerignore: string[]
  /** Extra directories placed into the context, e.g. a wheelhouse at `.bento-wheelhouse`. */
  extraDirs?: Array<{src: string; dest: string}>
  /**
   * One part of a split build (containerize with committed models): the Dockerfile the engine reads, at
   * `SPLIT_DOCKERFILE`, outside every directory the image copies; `dockerfile` stays the whole one, the image's copy.
   */
  splitDockerfile?: string
}

/** Path of the generated Dockerfile inside the build context. */
export const CONTEXT_DOCKERFILE = 'env/docker/Dockerfile'

/** Where a split build's Dockerfile is in the context (`BuildContextOptions.splitDockerfile`): no COPY takes it. */
export const SPLIT_DOCKERFILE = '.bento-split.Dockerfile'

/** 1980-01-01T00:00:00Z: a fixed mtime for every entry, so identical inputs give identical tar bytes. */
export const CONTEXT_MTIME = new Date(315532800 * 1000)

/** Files that must be executable in the image whatever their mode on disk. */
const EXECUTABLES = new Set(['env/docker/entrypoint.sh', 'env/docker/setup_script', 'env/python/install.sh'])

/** One tar entry of a build context; `uid`/`gid` default to 0 (root). */
export type ContextEntry = (
  | {name: string; kind: 'dir'}
  | {name: string; kind: 'file'; abs: string; size: number; executable: boolean}
  | {name: string; kind: 'symlink'; target: string}
  | {name: string; kind: 'inline'; content: Buffer}
) & {uid?: number; gid?: number}
type Entry = ContextEntry

/**
 * `.dockerignore` semantics (moby/patternmatcher): patterns are relative to the context root, `*` and `?`
 * stay within one path segment, `**` spans any number, `!pattern` re-includes, the last matching pattern
 * wins, and a pattern that matches a directory excludes everything under it.
 */
export function dockerignoreMatcher(patterns: string[]): {excluded: (relPath: string) => boolean; hasNegations: boolean} {
  const rules = patterns
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith('#'))
    .map((p) => {
      const negate = p.startsWith('!')
      let pat = negate ? p.slice(1).trim() : p
      pat = path.posix.normalize(pat).replace(/^\/+/, '').replace(/\/+$/, '')
      return {negate, pat}
    })
    .filter((r) => r.pat !== '' && r.pat !== '.')
  const matches = (pat: string, rel: string): boolean => {
    const parts = rel.split('/')
    for (let i = parts.length; i >= 1; i--) {
      if (minimatch(parts.slice(0, i).join('/'), pat, {dot: true, nobrace: true, noext: true})) return true
    }
    return false
  }
  return {
    hasNegations: rules.some((r) => r.negate),
    excluded: (rel) => {
      let out = false
      for (const r of rules) if (matches(r.pat, rel)) out = !r.negate
      return out
    },
  }
}

/** The entries under `root`, named `prefix/…`, in directory order (sort them before packing). */
export async function walkDir(
  root: string,
  prefix: string,
  ignore: ReturnType<typeof dockerignoreMatcher> | undefined,
  out: Entry[],
): Promise<void> {
  const rel = (name: string): string => (prefix === '' ? name : `${prefix}/${name}`)
  const dirents = await readdir(root, {withFileTypes: true})
  for (const d of dirents) {
    const name = rel(d.name)
    const abs = path.join(root, d.name)
    const isExcluded = ignore?.excluded(name) ?? false
    const st = await lstat(abs)
    if (st.isDirectory()) {
      if (isExcluded && !ignore?.hasNegations) continue
      if (!isExcluded) out.push({name, kind: 'dir'})
      await walkDir(abs, name, ignore, out)
    } else if (isExcluded) {
      continue
    } else if (st.isSymbolicLink()) {
      out.push({name, kind: 'symlink', target: await readlink(abs)})
    } else if (st.isFile()) {
      out.push({name, kind: 'file', abs, size: st.size, executable: EXECUTABLES.has(name) || (st.mode & 0o111) !== 0})
    }
    // sockets, fifos and devices are skipped: they cannot be part of an image.
  }
}

/** Every entry of the context, sorted by path (byte order), parents before children, no duplicates. */
export async function buildContextEntries(opts: BuildContextOptions): Promise<Entry[]> {
  const ignore = dockerignoreMatcher(opts.dockerignore)
  const walked: Entry[] = []
  await walkDir(opts.bentoDir, '', ignore, walked)
  for (const extra of opts.extraDirs ?? []) {
    const dest = path.posix.normalize(extra.dest).replace(/^\/+|\/+$/g, '')
    walked.push({name: dest, kind: 'dir'})
    await walkDir(extra.src, dest, undefined, walked)
  }
  const byName = new Map<string, Entry>()
  for (const e of walked) byName.set(e.name, e)
  byName.set(CONTEXT_DOCKERFILE, {name: CONTEXT_DOCKERFILE, kind: 'inline', content: Buffer.from(opts.dockerfile)})
  if (opts.splitDockerfile !== undefined) byName.set(SPLIT_DOCKERFILE, {name: SPLIT_DOCKERFILE, kind: 'inline', content: Buffer.from(opts.splitDockerfile)})
  const ignoreText = opts.dockerignore.length > 0 ? `${opts.dockerignore.join('\n')}\n` : ''
  byName.set('.dockerignore', {name: '.dockerignore', kind: 'inline', content: Buffer.from(ignoreText)})
  // Parents of injected/extra entries.
  for (const name of [...byName.keys()]) {
    const parts = name.split('/')
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/')
      if (!byName.has(dir)) byName.set(dir, {name: dir, kind: 'dir'})
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** A file of the context could not be read whole: it vanished (a delete racing the build), or changed size. */
class EntryReadError extends Error {
  constructor(
    message: string,
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(message)
  }
}

function entryReadError(e: {name: string; abs: string}, err: unknown): EntryReadError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  const what =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? `${e.name} is gone (was the Bento deleted or changed while it was being read?)`
      : (err as Error | undefined)?.message === 'Size mismatch'
        ? `${e.name} changed while it was being read (its size is not the one listed)`
        : `${e.name} cannot be read: ${(err as Error | undefined)?.message ?? String(err)}`
  return new EntryReadError(what, e.abs, err)
}

/** A context entry as the one tar writer takes it (src/tar-writer.ts): the same headers as `bento export` writes. */
function toTarEntry(e: Entry): TarEntry {
  const owner = {uid: e.uid ?? 0, gid: e.gid ?? 0}
  switch (e.kind) {
    case 'dir':
      return {...owner, name: e.name, type: 'directory'}
    case 'symlink':
      return {...owner, name: e.name, type: 'symlink', linkname: e.target}
    case 'inline':
      return {...owner, name: e.name, type: 'file', executable: EXECUTABLES.has(e.name), content: e.content}
    case 'file':
      return {...owner, name: e.name, type: 'file', executable: e.executable, source: e.abs, size: e.size}
  }
}

/**
 * The Docker build context for a Bento, as a tar stream read straight from the Bento directory:
 * files are streamed from disk one at a time (never buffered whole, never copied to a temp dir), the
 * generated Dockerfile is injected at `env/docker/Dockerfile`, `.dockerignore` patterns are honoured
 * (and shipped as `.dockerignore`), and entry order, owners, modes and mtimes are fixed, so the same
 * Bento always gives the same bytes and the daemon's layer cache hits.
 *
 * A read error (a file vanished, changed size) destroys the stream with an `ArchiveError` (E_DOCKER_CONTEXT) naming
 * the file; the stream handed out is the only one that emits it.
 */
export function bentoBuildContext(opts: BuildContextOptions): NodeJS.ReadableStream {
  return packContext(() => buildContextEntries(opts), opts.bentoDir)
}

/**
 * A tar stream of `entries()` (already sorted, parents first): one file read at a time, fixed mtime and owners
 * (root unless an entry says otherwise), so the same entries always give the same bytes. A read error destroys
 * the stream with an `ArchiveError` naming `source`.
 */
export function packContext(entries: () => Promise<ContextEntry[]>, source: string): NodeJS.ReadableStream {
  const pack = tar.pack()
  // tar-stream packs are streamx streams; hand callers a plain Node stream.
  const out = new PassThrough()
  let current: Entry | undefined
  // The first failure, typed, ends `out`; whether the pack or the producer sees it first.
  const fail = (err: unknown): void => {
    if (out.destroyed) return
    // A file that vanished or changed size (TarSourceError, from the writer) or could not be read: named after it.
    const read = current?.kind === 'file' ? entryReadError(current, err instanceof TarSourceError ? err.cause : err) : undefined
    out.destroy(
      new ArchiveError(`Could not stream the build context from ${source}: ${read?.message ?? (err as Error).message}`, {
        code: 'E_DOCKER_CONTEXT',
        cause: read ? read.cause : err,
        hint: 'check that the Bento directory is readable and not being modified during the build, then run it again',
        data: {path: read ? read.path : source},
      }),
    )
  }
  pack.on('error', fail)
  // A consumer that stops early (the daemon refused the build, Ctrl-C) stops the reading too.
  out.on('close', () => pack.destroy())
  pack.pipe(out)
  void (async () => {
    try {
      const all = await entries()
      // Read lazily by the writer: `current` is the entry being written when a failure comes.
      const tarEntries = function* (): Generator<TarEntry> {
        for (const entry of all) {
          current = entry
          yield toTarEntry(entry)
        }
        current = undefined
      }
      await writeTarEntries(pack, tarEntries(), {mtime: CONTEXT_MTIME})
    } catch (err) {
      fail(err)
      pack.destroy()
    }
  })()
  return out
}
