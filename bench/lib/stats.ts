/** Small statistics for noisy machines: medians and ratios, nothing that pretends to more precision. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null
  return a / b
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<{x: number; y: number}>): number {
  const n = points.length
  if (n < 2) return Number.NaN
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0)
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0)
  return den === 0 ? Number.NaN : num / den
}

export const MiB = 1024 * 1024
export const GiB = 1024 * MiB

export function fmtBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '–'
  if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${n} B`
}

export function fmtSeconds(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–'
  return ms < 10_000 ? `${(ms / 1000).toFixed(3)} s` : `${(ms / 1000).toFixed(1)} s`
}

export function fmtRatio(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return '–'
  return r < 0.1 ? r.toFixed(3) : r.toFixed(2)
}
