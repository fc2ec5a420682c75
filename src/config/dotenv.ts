/**
 * BentoML's `parse_dotenv` (`_internal/utils/dotenv.py`, a port of django-dotenv), as 1.4.15 and 1.4.40 run it:
 * `KEY=value`, `export KEY=value`, `KEY: value`, quoted values, `# comments`, and `$VAR` / `${VAR}` replaced by
 * an earlier key of the file, else by the environment of `bentoml build` (`os.environ`), else by ''.
 */
// The quoted alternatives are Python's `'(?:\'|[^'])*'` from a raw string: `\'` is a plain quote there, so a quoted
// value runs to the last quote that still lets the line match.
const LINE_RE = /^(?:export\s+)?([\p{L}\p{N}_.]+)(?:\s*=\s*|:\s+?)('(?:'|[^'])*'|"(?:"|[^"])*"|[^#\n]+)?(?:\s*#.*)?$/u
const VARIABLE_RE = /(\\)?(\$)(\{?([A-Z0-9_]+)\}?)/gi

export interface DotenvEntry {
  key: string
  value: string
  /** 1-based line of the file. */
  line: number
}

/** Every assignment in file order (a key may repeat; the last one wins in `parseDotenv`). */
export function parseDotenvEntries(content: string, environ: Readonly<Record<string, string | undefined>> = {}): DotenvEntry[] {
  const env: Record<string, string> = {}
  const entries: DotenvEntry[] = []
  // Python's str.splitlines() boundaries.
  content.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/).forEach((line, index) => {
    const m = LINE_RE.exec(line)
    if (!m || m[1] === undefined) return
    const key = m[1]
    let value = (m[2] ?? '').trim()
    const quoted = /^(['"])(.*)\1$/s.exec(value)
    const quote = quoted ? quoted[1] : undefined
    if (quoted) value = quoted[2] ?? ''
    if (quote === '"') value = value.replace(/\\([^$])/g, '$1')
    if (quote !== "'") {
      // As BentoML: for each match found in the original value, in order, replace EVERY occurrence of the
      // matched text (`str.replace`), so `$A$AB` with A=v becomes `vvB`.
      for (const m of [...value.matchAll(VARIABLE_RE)]) {
        const [, escape = '', dollar = '$', braced = '', name = ''] = m
        const replacement = escape ? `${dollar}${braced}` : (env[name] ?? environ[name] ?? '')
        value = value.split(`${escape}${dollar}${braced}`).join(replacement)
      }
    }
    env[key] = value
    entries.push({key, value, line: index + 1})
  })
  return entries
}

export function parseDotenv(content: string, environ: Readonly<Record<string, string | undefined>> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const e of parseDotenvEntries(content, environ)) env[e.key] = e.value
  return env
}

/** A `.env` file as python-dotenv's `load_dotenv()` reads it, where bento models it (see parsePythonDotenv). */
export type PythonDotenv = {vars: Array<[string, string]>} | {unsupported: string; line: number}

/**
 * python-dotenv 1.x's parser (`dotenv.parser`), for the lines bento follows exactly: blank lines, `# comments`,
 * `[export ]KEY=value` with the value unquoted (a ` #comment` after it dropped, trailing spaces trimmed), in single
 * or in double quotes (then an optional comment), and `KEY` alone (no value: python-dotenv sets nothing). A value
 * with `$` (interpolation), a backslash (escapes) or a quote that does not close on its line (multi-line values) is
 * `unsupported` with its line: bento does not guess it.
 */
export function parsePythonDotenv(content: string): PythonDotenv {
  const vars: Array<[string, string]> = []
  const lines = content.split(/\r\n|\r|\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^(?:export\s+)?([^=#\s'"]+)\s*(?:=\s*(.*))?$/.exec(line)
    if (!m?.[1]) return {unsupported: 'a line bento does not parse', line: i + 1}
    if (m[2] === undefined) continue
    const raw = m[2]
    if (/[$\\]/.test(raw)) return {unsupported: 'a value with $ or \\ (interpolation or escapes)', line: i + 1}
    let value: string
    const quoted = /^(['"])([^'"]*)\1\s*(?:#.*)?$/.exec(raw)
    if (quoted) value = quoted[2] ?? ''
    else if (/^['"]/.test(raw)) return {unsupported: 'a quoted value that does not close on its line', line: i + 1}
    else value = raw.replace(/\s+#.*$/, '').trimEnd()
    vars.push([m[1], value])
  }
  return {vars}
}

/** The directories python-dotenv's `find_dotenv()` looks in for a module, inside the build context: its own, then up. */
export function dotenvDirs(projectFile: string): string[] {
  const parts = projectFile.split('/').slice(0, -1)
  const dirs: string[] = []
  for (let n = parts.length; n >= 0; n--) dirs.push(parts.slice(0, n).join('/'))
  return dirs
}

/**
 * The `.env` `load_dotenv()` loads for a module (a project file), from the `.env` files of the build context
 * (directory → content, null where there is none): the nearest one, parsed; null: none in the build context.
 */
export function nearestDotenv(found: ReadonlyMap<string, string | null>, projectFile: string): ({file: string} & PythonDotenv) | null {
  for (const dir of dotenvDirs(projectFile)) {
    const content = found.get(dir)
    if (content === undefined || content === null) continue
    return {file: dir ? `${dir}/.env` : '.env', ...parsePythonDotenv(content)}
  }
  return null
}
