/**
 * Which files of the build context go into the Bento's `src/` — BentoML 1.4's rules (format doc §5):
 * a file is taken iff `include` matches, `exclude` does not, the always-ignored spec does not and no
 * `.bentoignore` above it matches (relative to the directory holding that `.bentoignore`).
 *
 * Walk: as BentoML 1.4.20+ (`os.walk`, no `followlinks`): symlinked directories are not walked and a
 * symlinked file is kept as a symlink. Deliberate differences, because BentoML's result would be unsafe
 * or it crashes:
 * - a symlink that resolves outside the build context, or whose target is missing (dangling, loop), or
 *   that points at something other than a regular file, is skipped with a warning (BentoML copies the
 *   link verbatim — leaking a host path that dangles in the image — or crashes on `stat`);
 * - `symlinkTarget` is the link rewritten relative to its own directory, pointing at the real file;
 * - FIFOs, sockets and devices are skipped with a warning (BentoML crashes copying them);
 * - an unreadable directory is an error (BentoML 1.4.20+ silently drops it).
 */
import type {Dirent} from 'node:fs'
import {lstat, readdir, readFile, realpath, stat} from 'node:fs/promises'
import {join, posix, relative, sep} from 'node:path'

import {humanSize} from '../byte-size.js'
import {ConfigError, type Diagnostic, NotFoundError} from '../errors.js'
import {type CompiledGitWildMatch, compileDetailed, PathSpec} from './gitwildmatch.js'

export interface FileEntry {
  /** Path relative to the build context, `/`-separated. */
  rel: string
  /** Absolute path (under the real path of the build context). */
  abs: string
  /** `lstat` size: for a symlink, the length of the link text. */
  size: number
  /** Permission bits (`st_mode & 0o7777`) from `lstat`. */
  mode: number
  /** Set for a symlinked file: the link to create, relative to the entry's directory. */
  symlinkTarget?: string
}

export interface SelectFilesOptions {
  ctxDir: string
  include: string[]
  exclude: string[]
  /** File named in diagnostics about `include`/`exclude` entries. Default `bentofile.yaml`. */
  configFile?: string
  /** Runs after each directory is listed, before its entries are looked at (tests remove files here). */
  onListed?: (dirRel: string) => Promise<void>
}

export interface SelectFilesResult {
  files: FileEntry[]
  warnings: Diagnostic[]
}

/** BentoML 1.4.15's `BentoPathSpec.extra`. */
export const ALWAYS_IGNORED = ['.git/', '.venv/', 'venv/', '__pycache__/', '.DS_Store'] as const
export const BENTOIGNORE = '.bentoignore'
export const LARGE_FILE_BYTES = 10 * 1024 * 1024

interface IgnoreFile {
  /** Directory holding the `.bentoignore`, relative to the context ('' for the root). */
  base: string
  spec: PathSpec
}

interface Walk {
  ctx: string
  configFile: string
  include: PathSpec
  exclude: PathSpec
  extra: PathSpec
  /** Positive include patterns and whether each matched a file (or possibly one in a pruned directory). */
  includeHits: Array<{index: number; pattern: CompiledGitWildMatch; hit: boolean}>
  files: FileEntry[]
  /** Symlink entries and the real file they point at (relative to the context). */
  links: Array<{rel: string; targetRel: string}>
  warnings: Diagnostic[]
  onListed?: (dirRel: string) => Promise<void>
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as {code: unknown}).code) : undefined
}

function contextError(message: string, path: string, hint: string, cause?: unknown): NotFoundError {
  return new NotFoundError(message, {code: 'E_BUILD_CONTEXT', hint, cause, data: {path}})
}

/**
 * A file or directory of the build context that was there when the build looked and is gone now (an editor, a
 * generator, a `git checkout` at work): E_BUILD_CONTEXT naming it; the build leaves nothing in the store.
 */
export function vanishedError(shown: string, path: string, cause?: unknown): NotFoundError {
  return contextError(
    `"${shown}" of the build context disappeared while bento build was reading it: a file changed during the build; run it again`,
    path,
    'Run `bento build` again once nothing is removing or renaming files in the project.',
    cause,
  )
}

function vanished(error: unknown): boolean {
  const code = errnoCode(error)
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** The relative path of `rel` seen from the directory `base` ('' = root); `base` is an ancestor. */
function under(base: string, rel: string): string {
  return base === '' ? rel : rel.slice(base.length + 1)
}

function compileConfigPatterns(patterns: string[], key: 'include' | 'exclude', configFile: string): PathSpec {
  return PathSpec.fromLines(patterns, (i) => ({file: configFile, key: `${key}[${i}]`}))
}

/** Split like Python's text-mode file iteration: universal newlines, each line keeps its `\n`. */
function pythonLines(text: string): string[] {
  const parts = text.replace(/\r\n?/g, '\n').split('\n')
  return parts.map((p, i) => (i < parts.length - 1 ? `${p}\n` : p))
}

async function readBentoignore(abs: string, rel: string): Promise<PathSpec | undefined> {
  let raw: Buffer
  try {
    raw = await readFile(abs)
  } catch (e) {
    // BentoML only reads `.bentoignore` entries that are files (`is_file()` follows symlinks).
    if (['ENOENT', 'ELOOP', 'EISDIR', 'ENOTDIR'].includes(errnoCode(e) ?? '')) return undefined
    throw contextError(
      `Cannot read ${rel} (${errnoCode(e) ?? String(e)})`,
      rel,
      'Make the file readable, or delete it.',
      e,
    )
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(raw)
  } catch (e) {
    throw new ConfigError(`${rel} is not valid UTF-8`, [
      {file: rel, message: 'not valid UTF-8 text', hint: 'Save the file as UTF-8.', severity: 'error'},
    ], {cause: e})
  }
  return PathSpec.fromLines(pythonLines(text), (i) => ({file: rel, line: i + 1}))
}

/** Dropped by an exclusion: `exclude`, the always-ignored spec, or a `.bentoignore` above it. */
function isExcluded(w: Walk, rel: string, ignores: readonly IgnoreFile[]): boolean {
  return (
    w.exclude.matchFile(rel) ||
    w.extra.matchFile(rel) ||
    ignores.some((ig) => ig.spec.matchFile(under(ig.base, rel)))
  )
}

/**
 * BentoML's `BentoPathSpec.includes`. Also records include "hits": an include pattern hits when it
 * matches a file that no exclusion drops (so pruned, fully excluded directories cannot hide a hit).
 */
function isIncluded(w: Walk, rel: string, ignores: readonly IgnoreFile[], noteHits: boolean): boolean {
  if (isExcluded(w, rel, ignores)) return false
  if (noteHits) for (const h of w.includeHits) if (!h.hit && h.pattern.regex?.test(rel)) h.hit = true
  return w.include.matchFile(rel)
}

/** Can `dir` be skipped because every file below it is provably not selected? */
function prunable(w: Walk, dir: string, ignores: readonly IgnoreFile[]): boolean {
  // Files below are all dropped by an exclusion, so they can't be include "hits" either (see isIncluded);
  // with `include` matching nothing below, no include pattern can hit there.
  return (
    w.extra.dirVerdict(dir) === 'all-match' ||
    w.include.dirVerdict(dir) === 'none-match' ||
    w.exclude.dirVerdict(dir) === 'all-match' ||
    ignores.some((ig) => ig.spec.dirVerdict(under(ig.base, dir)) === 'all-match')
  )
}

async function addSymlink(w: Walk, rel: string, abs: string): Promise<void> {
  const skip = (message: string, hint: string): void => {
    w.warnings.push({file: rel, message: `symlink skipped: ${message}`, hint, severity: 'warning'})
  }
  let target
  let real: string
  try {
    target = await stat(abs)
    real = await realpath(abs)
  } catch (e) {
    skip(`its target cannot be resolved (${errnoCode(e) ?? String(e)})`, 'Fix or delete the link, or exclude it.')
    return
  }
  const realRel = relative(w.ctx, real)
  if (realRel === '' || realRel.startsWith(`..${sep}`) || realRel === '..' || realRel.startsWith(sep)) {
    skip(
      `it points outside the build context (${real})`,
      'Copy the file into the build context; a link out of it would dangle inside the Bento and the image.',
    )
    return
  }
  if (!target.isFile()) {
    skip('its target is not a regular file', 'Exclude the link.')
    return
  }
  const targetRel = realRel.split(sep).join('/')
  const link = await lstat(abs).catch((error: unknown) => {
    throw vanished(error) ? vanishedError(rel, abs, error) : error
  })
  if (target.size > LARGE_FILE_BYTES) w.warnings.push(largeFileWarning(rel, target.size))
  const symlinkTarget = posix.relative(posix.dirname(`/${rel}`), `/${targetRel}`)
  w.files.push({rel, abs, size: link.size, mode: link.mode & 0o7777, symlinkTarget})
  w.links.push({rel, targetRel})
}

function largeFileWarning(rel: string, size: number): Diagnostic {
  return {
    file: rel,
    message: `File size is larger than 10MiB (${humanSize(size, {digits: 1, unit: 'MiB'})})`,
    hint: 'Exclude it (bentofile `exclude` or .bentoignore) unless the service needs it; models belong in the model store.',
    severity: 'warning',
  }
}

async function walkDir(w: Walk, dirAbs: string, dirRel: string, inherited: readonly IgnoreFile[]): Promise<void> {
  let entries: Dirent[]
  try {
    entries = await readdir(dirAbs, {withFileTypes: true})
  } catch (e) {
    const shown = dirRel === '' ? '.' : dirRel
    if (dirRel !== '' && vanished(e)) throw vanishedError(shown, dirAbs, e)
    throw contextError(
      `Cannot read directory "${shown}" of the build context ${w.ctx} (${errnoCode(e) ?? String(e)})`,
      dirAbs,
      dirRel === ''
        ? 'Make the build context readable.'
        : `Make it readable (chmod), or exclude it: add "${dirRel}/" to exclude in ${w.configFile} or to a .bentoignore (excluded directories are not read).`,
      e,
    )
  }
  await w.onListed?.(dirRel)
  const join_ = (name: string): string => (dirRel === '' ? name : `${dirRel}/${name}`)
  const undecodable = entries.some((e) => e.name.includes('\uFFFD')) ? await nonUtf8Names(dirAbs) : new Map<string, string>()
  let ignores = inherited
  const own = entries.find((e) => e.name === BENTOIGNORE && !e.isDirectory())
  if (own !== undefined) {
    const spec = await readBentoignore(join(dirAbs, own.name), join_(own.name))
    if (spec !== undefined) ignores = [...inherited, {base: dirRel, spec}]
  }

  const subdirs: string[] = []
  const pending: Array<Promise<void>> = []
  for (const e of entries) {
    const rel = join_(e.name)
    const abs = join(dirAbs, e.name)
    const escaped = undecodable.get(e.name)
    if (escaped !== undefined) {
      // Node cannot name this entry (its name is not UTF-8): what the Bento would need, we refuse (D15).
      const wanted = e.isDirectory() ? !prunable(w, rel, ignores) : isIncluded(w, rel, ignores, false)
      if (!wanted) continue
      const shownRel = dirRel === '' ? escaped : `${dirRel}/${escaped}`
      throw contextError(
        `The build context has a ${e.isDirectory() ? 'directory' : 'file'} whose name is not valid UTF-8: "${shownRel}"`,
        join(dirAbs, escaped),
        `Rename it (UTF-8 names only), or leave it out: add it to exclude in ${w.configFile} or to a .bentoignore (e.g. a pattern with * in place of the odd characters).`,
      )
    }
    if (e.isDirectory()) {
      subdirs.push(e.name)
    } else if (e.isSymbolicLink()) {
      pending.push(
        (async () => {
          const isDir = await stat(abs).then(
            (s) => s.isDirectory(),
            () => false,
          )
          if (isDir) {
            // Like `os.walk`: a symlinked directory is listed as a directory and not entered.
            if (isIncluded(w, rel, ignores, false)) {
              w.warnings.push({
                file: rel,
                message: 'symlinked directory not followed: its files are not part of the Bento (BentoML 1.4.20+ behaviour)',
                hint: 'Replace the link with a real directory, or copy the files in.',
                severity: 'warning',
              })
            }
            return
          }
          if (isIncluded(w, rel, ignores, true)) await addSymlink(w, rel, abs)
        })(),
      )
    } else {
      if (!isIncluded(w, rel, ignores, true)) continue
      if (!e.isFile()) {
        w.warnings.push({
          file: rel,
          message: 'skipped: not a regular file (FIFO, socket or device)',
          hint: 'Exclude it in the bentofile or a .bentoignore.',
          severity: 'warning',
        })
        continue
      }
      pending.push(
        lstat(abs).then(
          (st) => {
            if (st.size > LARGE_FILE_BYTES) w.warnings.push(largeFileWarning(rel, st.size))
            w.files.push({rel, abs, size: st.size, mode: st.mode & 0o7777})
          },
          (error: unknown) => {
            throw vanished(error) ? vanishedError(rel, abs, error) : error
          },
        ),
      )
    }
  }
  await Promise.all(pending)
  for (const name of subdirs) {
    const rel = join_(name)
    if (!prunable(w, rel, ignores)) await walkDir(w, join(dirAbs, name), rel, ignores)
  }
}

/** Entries of `dir` whose names are not valid UTF-8: lossy name (as readdir gives it) → name with `\xNN` escapes. */
async function nonUtf8Names(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const decoder = new TextDecoder('utf-8', {fatal: true})
  for (const raw of await readdir(dir, {encoding: 'buffer'})) {
    try {
      decoder.decode(raw)
    } catch {
      let escaped = ''
      for (const byte of raw) escaped += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`
      out.set(raw.toString('utf8'), escaped)
    }
  }
  return out
}

/**
 * Select the build context's files for the Bento's `src/`, sorted by `rel` (UTF-8 byte order).
 * Throws `ConfigError` for invalid patterns (every one at once) or an `include` entry starting with `../`,
 * and `NotFoundError` (code `E_BUILD_CONTEXT`) for a missing context or an unreadable directory.
 */
export async function selectFiles(opts: SelectFilesOptions): Promise<SelectFilesResult> {
  const configFile = opts.configFile ?? 'bentofile.yaml'
  const outside = opts.include.flatMap((p, i) =>
    p.startsWith('../')
      ? [
          {
            file: configFile,
            key: `include[${i}]`,
            message: `"${p}": paths outside of the build context directory cannot be included`,
            hint: 'Copy those files into the build context.',
            severity: 'error' as const,
          },
        ]
      : [],
  )
  if (outside.length > 0) throw new ConfigError('include: paths outside of the build context', outside)

  const problems: Diagnostic[] = []
  const compile = (key: 'include' | 'exclude'): PathSpec => {
    try {
      return compileConfigPatterns(opts[key], key, configFile)
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e
      problems.push(...e.diagnostics)
      return PathSpec.fromLines([])
    }
  }
  const include = compile('include')
  const exclude = compile('exclude')
  if (problems.length > 0) throw new ConfigError('Invalid include/exclude patterns', problems)

  let ctx: string
  try {
    ctx = await realpath(opts.ctxDir)
    if (!(await stat(ctx)).isDirectory()) throw new Error('not a directory')
  } catch (e) {
    throw contextError(
      `Bento build context ${opts.ctxDir} does not exist or is not a directory`,
      opts.ctxDir,
      'Pass the project directory that holds bentofile.yaml.',
      e,
    )
  }

  const w: Walk = {
    ctx,
    configFile,
    include,
    exclude,
    extra: PathSpec.fromLines([...ALWAYS_IGNORED]),
    includeHits: [],
    files: [],
    links: [],
    warnings: [],
    ...(opts.onListed ? {onListed: opts.onListed} : {}),
  }
  opts.include.forEach((line, index) => {
    const pattern = compileDetailed(line) // valid: the whole list compiled above
    if (pattern.regex !== null && pattern.include) w.includeHits.push({index, pattern, hit: false})
  })

  await walkDir(w, ctx, '', [])

  w.files.sort((a, b) => byteCompare(a.rel, b.rel))
  const taken = new Set(w.files.filter((f) => f.symlinkTarget === undefined).map((f) => f.rel))
  for (const l of w.links) {
    if (!taken.has(l.targetRel)) {
      w.warnings.push({
        file: l.rel,
        message: `symlink target ${l.targetRel} is not part of the Bento; the link will dangle there`,
        hint: `Include ${l.targetRel}, or exclude the link.`,
        severity: 'warning',
      })
    }
  }
  const includeWarnings: Diagnostic[] = w.includeHits
    .filter((h) => !h.hit)
    .map((h) => ({
      file: configFile,
      key: `include[${h.index}]`,
      message: `pattern "${h.pattern.pattern}" matches no file, or only files that are excluded`,
      hint: 'Check the spelling and that the path is relative to the build context; exclude, .bentoignore and the always-ignored .git/, .venv/, venv/, __pycache__/, .DS_Store take precedence over include.',
      severity: 'warning' as const,
    }))
  const warnings = [...includeWarnings, ...w.warnings.sort((a, b) => byteCompare(a.file, b.file))]
  return {files: w.files, warnings}
}
