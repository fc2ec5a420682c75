/**
 * Name and path safety of archive entries: the archive's path order, where a symlink leads (inside the Bento, inside
 * a model directory), and which entry names are refused on import (absolute, `..`, backslashes, NUL).
 */
import path from 'node:path'

import {archiveError, UNSAFE_HINT} from './errors.js'

/** Compare archive paths segment by segment, so a directory's entries stay together right after it. */
export function compareArchivePaths(a: string, b: string): number {
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
export function escapingSymlink(symlinks: Map<string, string>): [string, string] | undefined {
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
export function escapingModelSymlink(
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

/** Normalize an entry name; throw E_ARCHIVE_UNSAFE for absolute paths, `..`, backslashes or NUL. '' = the root. */
export function safeEntryName(raw: string, archive: string, what = 'entry'): string {
  const unsafe = (why: string) =>
    archiveError('E_ARCHIVE_UNSAFE', `Unsafe archive ${archive}: ${what} '${raw}' ${why}`, {hint: UNSAFE_HINT, data: {entry: raw}})
  if (raw.includes('\0')) throw unsafe('contains a NUL byte')
  if (raw.includes('\\')) throw unsafe('contains a backslash')
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw unsafe('is an absolute path')
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) throw unsafe("contains a '..' segment")
  return parts.join('/')
}

/** Whether `file` is `dir` or below it (file-system paths). */
export function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}
