import {randomBytes} from 'node:crypto'
import type {Dirent} from 'node:fs'
import {lstat, readdir, rename, rm, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'

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

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const

/**
 * BentoML's `human_readable_size`: divide by 1024 while >= 1024 (up to PiB), then `f"{size:.2f} {unit}"`.
 * Python rounds exact ties to even (`1152` → `1.12 KiB`), so integer sizes are rounded with exact arithmetic.
 */
export function humanSize(bytes: number): string {
  let unitIndex = 0
  let scaled = bytes
  while (scaled >= 1024 && unitIndex < UNITS.length - 1) {
    scaled /= 1024
    unitIndex++
  }
  const unit = UNITS[unitIndex] ?? 'PiB'
  if (!Number.isSafeInteger(bytes) || bytes < 0) return `${scaled.toFixed(2)} ${unit}`
  const den = 1024n ** BigInt(unitIndex)
  const num = BigInt(bytes) * 100n
  let q = num / den
  const r2 = (num % den) * 2n
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n
  const whole = q / 100n
  const cents = (q % 100n).toString().padStart(2, '0')
  return `${whole}.${cents} ${unit}`
}
