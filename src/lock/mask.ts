/**
 * Credentials in index URLs never reach a file of the Bento or a message: literal `user:password@` of a URL is
 * dropped (or masked in messages); `${VAR}` references stay as written (a name, not a secret) and their values,
 * which uv expands from the environment, are masked wherever they would be shown.
 */

/** `scheme://user[:password]@host` → `scheme://<replacement>host`, unless the user info is only `${VAR}` references. */
export function maskCredentials(text: string, replacement: string): string {
  return text.replace(/\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/@\s'"]+)@/g, (whole, scheme: string, userinfo: string) =>
    /^(?:\$\{[A-Za-z_][A-Za-z0-9_]*\}|:)+$/.test(userinfo) ? whole : `${scheme}${replacement}`,
  )
}

/** Every value in `secrets` (at least 4 characters) replaced by `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of [...secrets].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(s).join('***')
  return out
}

/** The names of the `${VAR}` references in requirement lines (pip's and uv's syntax: upper case, digits, `_`). */
export function referencedVariables(lines: readonly string[]): string[] {
  const names = new Set<string>()
  for (const l of lines) for (const m of l.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) names.add(m[1] as string)
  return [...names]
}

/** Whether a URL holds literal credentials (not `${VAR}` references). */
export function hasLiteralCredentials(text: string): boolean {
  return maskCredentials(text, '') !== text
}
