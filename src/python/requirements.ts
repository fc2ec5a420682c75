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

/** A `-r`/`-c` line that cannot be inlined: the file and line naming it, and why. */
export interface NestedRequirementsProblem {
  file: string
  line: number
  message: string
  hint: string
}

const NESTED_RE = /^(?:(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?<=^-[rc])))(\S.*?)\s*$/

/** The files a requirements file names with `-r`/`-c` (posix paths relative to the build context), with their lines. */
export function nestedRequirementRefs(file: string, text: string): Array<{path: string; line: number}> {
  const out: Array<{path: string; line: number}> = []
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : ''
  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\n|\r/)
    .forEach((line, i) => {
      const m = NESTED_RE.exec(line.replace(/(^|\s)#.*$/, '').trim())
      const target = m?.[2]
      if (target === undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return
      out.push({path: normalizePosix(target.startsWith('/') ? target : dir === '' ? target : `${dir}/${target}`), line: i + 1})
    })
  return out
}

/**
 * A requirements file with its nested `-r`/`--requirement` and `-c`/`--constraint` files inlined where they are
 * named, each path relative to the file naming it — as BentoML does (`pip_requirements_parser` with
 * `include_nested=True`, the `-r`/`-c` options then dropped), so `env/python/requirements.txt` stands alone. Like
 * BentoML, a constraints file's lines become requirement lines. `read(path)` gets a posix path relative to the
 * build context (it may start with `../`) and returns the text, or undefined when there is no such file.
 */
export function inlineRequirements(
  rel: string,
  read: (path: string) => string | undefined,
): {text: string; files: string[]; problems: NestedRequirementsProblem[]; sites: Array<{file: string; line: number}>} {
  const problems: NestedRequirementsProblem[] = []
  const files: string[] = []
  const out: string[] = []
  /** Where each line of `out` was written: its file and line (messages about a line of the inlined text). */
  const sites: Array<{file: string; line: number}> = []
  const visit = (file: string, text: string, stack: string[]): void => {
    files.push(file)
    const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/)
    if (lines[lines.length - 1] === '') lines.pop()
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? ''
      const stripped = line.replace(/(^|\s)#.*$/, '').trim()
      const m = NESTED_RE.exec(stripped)
      if (m === null) {
        out.push(line.trimEnd())
        sites.push({file, line: i + 1})
        continue
      }
      const target = m[2] ?? ''
      const kind = m[1]?.startsWith('-c') || m[1] === '--constraint' ? 'constraints' : 'requirements'
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
        problems.push({file, line: i + 1, message: `the ${kind} file "${target}" is a URL, which bento does not fetch`, hint: 'download it into the project and name it by a relative path'})
        continue
      }
      const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : ''
      const path = normalizePosix(target.startsWith('/') ? target : dir === '' ? target : `${dir}/${target}`)
      if (stack.includes(path)) {
        problems.push({file, line: i + 1, message: `"${stripped}" includes ${path}, which includes ${file} again`, hint: 'remove the cycle'})
        continue
      }
      const nested = read(path)
      if (nested === undefined) {
        problems.push({
          file,
          line: i + 1,
          message: `"${stripped}" names ${kind} file ${path}, which does not exist`,
          hint: `paths in ${file} are relative to the directory of ${file}`,
        })
        continue
      }
      visit(path, nested, [...stack, path])
    }
  }
  const root = read(rel)
  if (root === undefined) return {text: '', files, problems: [{file: rel, line: 0, message: `${rel} does not exist`, hint: 'check python.requirements_txt'}], sites}
  visit(rel, root, [rel])
  while (out.length > 0 && out[out.length - 1] === '') {
    out.pop()
    sites.pop()
  }
  return {text: out.length > 0 ? `${out.join('\n')}\n` : '', files, problems, sites}
}

function normalizePosix(p: string): string {
  const abs = p.startsWith('/')
  const parts: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop()
    else if (part === '..' && abs) continue
    else parts.push(part)
  }
  return (abs ? '/' : '') + parts.join('/')
}
