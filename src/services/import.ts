import {DEFAULT_IMPORT_LIMITS, importBento, type ImportLimits} from '../bento/archive/index.js'
import type {Cleanup} from '../cleanup.js'
import {UsageError} from '../errors.js'
import {ensureHome} from '../store/home.js'
import {recoverHome} from '../store/recover.js'
import {formatTag} from '../store/tag.js'

export interface ImportServiceOptions {
  home: string
  archive: string
  /** As given by the user (flags, else environment): `--max-size 300G`, `--max-entries 500000`, `--max-ratio 1000`; '0': no limit. */
  limits?: {maxSize?: string; maxEntries?: string; maxRatio?: string}
  signal?: AbortSignal
  cleanup?: Cleanup
}

const SIZE_UNITS: Record<string, number> = {'': 1, b: 1, k: 2 ** 10, kb: 1e3, kib: 2 ** 10, m: 2 ** 20, mb: 1e6, mib: 2 ** 20, g: 2 ** 30, gb: 1e9, gib: 2 ** 30, t: 2 ** 40, tb: 1e12, tib: 2 ** 40}

/** `300G`, `1.5TiB`, `500MB`, `1048576` → bytes (K/M/G/T alone are binary, as `du`); null when not a size. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (!m) return null
  const unit = SIZE_UNITS[(m[2] ?? '').toLowerCase()]
  if (unit === undefined) return null
  return Math.round(Number(m[1]) * unit)
}

function parseLimit(flag: string, text: string | undefined, parse: (t: string) => number | null): number | undefined {
  if (text === undefined || text === '') return undefined
  const value = parse(text)
  if (value === null || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`invalid ${flag} "${text}"`, {
      hint: flag === '--max-size' ? 'give a size such as 300G, 1.5TiB or 500MB (0: no limit)' : 'give a non-negative number (0: no limit)',
      data: {flag, value: text},
    })
  }
  return value
}

/** `bento import ARCHIVE`: bounded, strict extraction; models into the model store, the Bento into the Bento store. */
export async function importBentoService(opts: ImportServiceOptions): Promise<{
  tag: string
  path: string
  models: Array<{tag: string; imported: boolean}>
  missingModels: string[]
}> {
  const number = (t: string): number | null => (/^\s*\d+(\.\d+)?\s*$/.test(t) ? Number(t) : null)
  const limits: ImportLimits = {
    maxBytes: parseLimit('--max-size', opts.limits?.maxSize, parseSize) ?? DEFAULT_IMPORT_LIMITS.maxBytes,
    maxEntries: parseLimit('--max-entries', opts.limits?.maxEntries, number) ?? DEFAULT_IMPORT_LIMITS.maxEntries,
    maxRatio: parseLimit('--max-ratio', opts.limits?.maxRatio, number) ?? DEFAULT_IMPORT_LIMITS.maxRatio,
  }
  await ensureHome(opts.home)
  await recoverHome(opts.home)
  const r = await importBento({archive: opts.archive, home: opts.home, limits, signal: opts.signal, cleanup: opts.cleanup})
  return {
    tag: formatTag(r.tag),
    path: r.path,
    models: [...r.modelsInstalled.map((t) => ({tag: formatTag(t), imported: true})), ...r.modelsSkipped.map((t) => ({tag: formatTag(t), imported: false}))],
    missingModels: r.missingModels,
  }
}
