/**
 * The Python version a project asks for (`requires-python`, `.python-version`) → the one a BentoML base image
 * offers (`python:X.Y-slim` for debian; the distro's table in config-facts.ts).
 */
import {comparePep440, isPep440Specifier, satisfiesSpecifier} from './pep440.js'

/** Patch releases tried per minor: X.Y is chosen when some X.Y.z (z < this) satisfies the specifier. */
const PATCHES = 100

/**
 * The newest of `offered` (`3.9` … `3.13`) with a release that satisfies the PEP 440 specifier set `spec`
 * (`>=3.12`, `>=3.9,<3.11`, `~=3.12.0`, `==3.12.*`); null when none does. Throws a TypeError on a bad specifier.
 */
export function newestPythonFor(spec: string, offered: readonly string[]): string | null {
  if (!isPep440Specifier(spec)) throw new TypeError(`not a PEP 440 specifier: ${spec}`)
  const sorted = [...offered].sort(comparePep440).reverse()
  for (const minor of sorted) {
    for (let z = 0; z < PATCHES; z++) if (satisfiesSpecifier(`${minor}.${z}`, spec)) return minor
  }
  return null
}

/** `3.12.4`, `3.12`, `cpython-3.12`, `cpython@3.12.4` (pyenv / uv `.python-version`) → `3.12`; null for anything else (`pypy3.10`, `system`, `3.13t`). */
export function pythonMinorOf(line: string): string | null {
  const m = /^(?:cpython[-@]?)?(\d+)\.(\d+)(?:\.\d+)?$/i.exec(line.trim())
  return m ? `${m[1]}.${m[2]}` : null
}
