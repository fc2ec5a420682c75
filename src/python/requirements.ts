/**
 * Reading pip requirements files (and `python.packages` lines) well enough to answer
 * "does the user already name this package?".
 */

export interface Requirement {
  /** PEP 503 normalized project name; `null` for option lines (`-r`, `-e`, `--index-url`…) and bare URLs/paths. */
  name: string | null
  /** The requirement text as written (continuations joined, comment removed, trimmed). */
  raw: string
  /** 1-based line where the requirement starts. */
  line: number
  /** Named requirements: the version specifier set as written without spaces (`>=1.4.22,<1.5`), `''` when none. */
  specifier: string
  /** Named requirements: `[io,grpc]` → `['io', 'grpc']`. */
  extras: string[]
  /** `name @ <url>`: a direct reference. */
  url: boolean
}

/** PEP 503: lowercase, runs of `-`, `_`, `.` become a single `-`. */
export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-')
}

const NAME_RE = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?=$|[[(<>=!~;@\s,])/

export function parseRequirements(text: string): Requirement[] {
  const out: Requirement[] = []
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/)
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1
    let logical = lines[i] ?? ''
    // pip joins lines ending in a backslash before stripping comments
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + (lines[i + 1] ?? '')
      i++
    }
    // A comment starts at '#' at line start or after whitespace
    const raw = logical.replace(/(^|\s)#.*$/, '').trim()
    if (raw === '') continue
    out.push({name: requirementName(raw), raw, line: startLine, ...requirementParts(raw)})
  }
  return out
}

function requirementName(raw: string): string | null {
  if (raw.startsWith('-')) return null
  // URLs and paths without a name (`https://…/x.whl`, `./pkg`, `git+https://…`)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) || raw.startsWith('.') || raw.startsWith('/')) return null
  const m = NAME_RE.exec(raw)
  if (m === null || m[1] === undefined) return null
  // `name.whl` / `name.tar.gz` file paths are not names
  if (/\.(whl|tar\.gz|zip|tgz)$/i.test(m[1])) return null
  return normalizePackageName(m[1])
}

const PARTS_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[([^\]]*)\])?\s*(@)?\s*([^;]*)/

/** Specifier, extras and direct-reference flag of a named requirement (PEP 508, markers dropped). */
function requirementParts(raw: string): Pick<Requirement, 'specifier' | 'extras' | 'url'> {
  const m = PARTS_RE.exec(raw)
  if (m === null || requirementName(raw) === null) return {specifier: '', extras: [], url: false}
  const extras = (m[1] ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
  if (m[2] === '@') return {specifier: '', extras, url: true}
  const specifier = (m[3] ?? '').replace(/\s+/g, '').replace(/^\((.*)\)$/, '$1')
  return {specifier, extras, url: false}
}

/** The first requirement naming `name` (compared PEP 503-normalized), if any. */
export function packageNamed(reqs: readonly Requirement[], name: string): Requirement | undefined {
  const n = normalizePackageName(name)
  return reqs.find((r) => r.name === n)
}
