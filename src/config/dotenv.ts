/**
 * BentoML's `parse_dotenv` (a port of django-dotenv): `KEY=value`, `export KEY=value`, `KEY: value`,
 * quoted values, `# comments`, and `$VAR` / `${VAR}` substitution from earlier keys, then `environ`.
 */
const LINE_RE = /^(?:export\s+)?([\p{L}\p{N}_.]+)(?:\s*=\s*|:\s+?)('(?:\\'|[^'])*'|"(?:\\"|[^"])*"|[^#\n]+)?(?:\s*#.*)?$/u
const VARIABLE_RE = /(\\)?(\$)(\{?([A-Z0-9_]+)\}?)/gi

export function parseDotenv(content: string, environ: Readonly<Record<string, string | undefined>> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of content.split(/\r\n|\r|\n/)) {
    const m = LINE_RE.exec(line)
    if (!m || m[1] === undefined) continue
    const key = m[1]
    let value = (m[2] ?? '').trim()
    const quoted = /^(['"])(.*)\1$/s.exec(value)
    const quote = quoted ? quoted[1] : undefined
    if (quoted) value = quoted[2] ?? ''
    if (quote === '"') value = value.replace(/\\([^$])/g, '$1')
    if (quote !== "'") {
      value = value.replace(VARIABLE_RE, (_whole: string, escape: string | undefined, dollar: string, braced: string, name: string) => {
        if (escape) return `${dollar}${braced}`
        return env[name] ?? environ[name] ?? ''
      })
    }
    env[key] = value
  }
  return env
}
