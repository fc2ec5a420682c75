/**
 * PEP 440 versions and specifiers, through @renovatebot/pep440 (Renovate's maintained port of
 * Python's `packaging`). `1.4.15rc1 < 1.4.15 < 1.4.15.post1`, `1.4.15 == 1.4.15.0`.
 */
import {compare, satisfies, valid, validRange} from '@renovatebot/pep440'

/** True for a PEP 440 version (`1.4.15`, `1.4.15rc1`, `1.4.15.post1`, `1!2.0`). */
export function isPep440Version(v: string): boolean {
  return valid(v) !== null
}

/** <0, 0, >0 as `a` sorts before, equal to or after `b`. Throws on a string that is not a PEP 440 version. */
export function comparePep440(a: string, b: string): number {
  if (!isPep440Version(a)) throw new TypeError(`not a PEP 440 version: ${a}`)
  if (!isPep440Version(b)) throw new TypeError(`not a PEP 440 version: ${b}`)
  return compare(a, b)
}

/** `a >= b` (PEP 440). */
export function versionAtLeast(a: string, b: string): boolean {
  return comparePep440(a, b) >= 0
}

/** The newest of `versions` (PEP 440), or undefined for an empty list. */
export function newestVersion(versions: readonly string[]): string | undefined {
  let best: string | undefined
  for (const v of versions) if (best === undefined || comparePep440(v, best) > 0) best = v
  return best
}

/** True for a specifier set such as `>=1.4.22,<1.5` or `~=1.4.0` (the empty specifier too). */
export function isPep440Specifier(spec: string): boolean {
  return spec.trim() === '' || validRange(spec)
}

/** Whether `version` satisfies the specifier set (pre-releases only when the specifier names one, as pip). */
export function satisfiesSpecifier(version: string, spec: string): boolean {
  if (spec.trim() === '') return true
  return satisfies(version, spec)
}

/**
 * The version an exact clause of the specifier set pins (`==1.4.22`, `===1.4.22`), or null when there is none
 * (`>=1.4`, `==1.4.*`, `~=1.4.0`).
 */
export function exactPin(spec: string): string | null {
  for (const clause of spec.split(',')) {
    const m = /^\s*(===?)\s*([^\s*]+)\s*$/.exec(clause)
    if (m?.[2] !== undefined && (m[1] === '===' || isPep440Version(m[2]))) return m[2]
  }
  return null
}
