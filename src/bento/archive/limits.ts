/**
 * Bounds on what an import may write (D14): total declared bytes, number of entries, compression ratio (a
 * decompression bomb guard), and the free disk, each checked before an entry is written.
 */
import {statfs} from 'node:fs/promises'

import {humanSize} from '../../byte-size.js'
import {type ArchiveError, diskFullError} from '../../errors.js'
import {archiveError, interrupted} from './errors.js'

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

/** What an extraction has counted so far against the limits and the free disk. */
export interface ImportBudget {
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
}

export async function freeSpace(dir: string): Promise<{free: number; block: number}> {
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
export async function admit(state: ImportBudget, archive: string, root: string, type: string, size: number): Promise<void> {
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
