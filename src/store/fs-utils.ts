import {randomBytes} from 'node:crypto'
import type {Dirent} from 'node:fs'
import {lstat, readdir, rename, rm, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'

export {humanSize} from '../byte-size.js'

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

export function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = errno(error)
  return code !== undefined && codes.includes(code)
}

/** True when `p` exists (following symlinks). */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await stat(p)
    return true
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return false
    throw error
  }
}

/** True when `p` is a directory (following symlinks); false when missing or not a directory. */
export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory()
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR', 'ELOOP')) return false
    throw error
  }
}

/**
 * Write `content` to `file` atomically: write `<file>.tmp-<pid>-<random>` in the same directory, then rename.
 * A reader sees either the old or the new content, never half of it.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await writeFile(tmp, content)
    await rename(tmp, file)
  } catch (error) {
    await rm(tmp, {force: true})
    throw error
  }
}

/**
 * Total size in bytes of the regular files below `dir`, as BentoML's `calc_dir_size`
 * (`sum(f.stat().st_size for f in Path(dir).glob("**\/*") if f.is_file())`): a symlink to a file counts with its
 * target's size, broken symlinks are skipped, and `**` does not descend into symlinked directories.
 */
export async function dirSize(dir: string): Promise<number> {
  let total = 0
  let entries: Dirent[]
  try {
    entries = await readdir(dir, {withFileTypes: true})
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR', 'EACCES')) return 0
    throw error
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      total += await dirSize(full)
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      try {
        const info = entry.isFile() ? await lstat(full) : await stat(full)
        if (info.isFile()) total += info.size
      } catch (error) {
        if (!isErrno(error, 'ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES')) throw error
      }
    }
  }
  return total
}
