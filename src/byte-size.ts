/** The one byte formatter of the project (a leaf: it imports nothing, so the reporter may load it at start-up). */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const
export type SizeUnit = (typeof UNITS)[number]

export interface SizeFormat {
  /**
   * 2 (the default): BentoML's `human_readable_size`, `f"{size:.2f} {unit}"` up to PiB, exact ties to even as
   * Python rounds them (`1152` → `1.12 KiB`). 1: the short form of progress lines and messages, up to TiB, bytes
   * shown whole, rounded as `toFixed(1)` (`1536` → `1.5 KiB`).
   */
  digits?: 1 | 2
  /** Always this unit (`{digits: 1, unit: 'MiB'}` → `0.5 MiB`) instead of the largest one that keeps the number ≥ 1. */
  unit?: SizeUnit
}

/** `bytes` as a number and a binary unit: `1.12 KiB` (BentoML's form), or `1.5 KiB` with `{digits: 1}`. */
export function humanSize(bytes: number, format: SizeFormat = {}): string {
  const digits = format.digits ?? 2
  const top = digits === 2 ? UNITS.length - 1 : UNITS.indexOf('TiB')
  let unitIndex = format.unit === undefined ? 0 : UNITS.indexOf(format.unit)
  let scaled = bytes / 1024 ** unitIndex
  if (format.unit === undefined) {
    while (scaled >= 1024 && unitIndex < top) {
      scaled /= 1024
      unitIndex++
    }
  }
  const unit = UNITS[unitIndex] ?? 'PiB'
  if (digits === 1) return `${unitIndex === 0 ? String(scaled) : scaled.toFixed(1)} ${unit}`
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
