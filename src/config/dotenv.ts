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
