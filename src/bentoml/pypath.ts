/** How BentoML expands paths from configuration (BENTOML_HOME, a `docker.env` dotenv path): Python's posixpath. */

/** Python's `posixpath.expandvars`: `$NAME` / `${NAME}` replaced when set, left as is when not. */
export function expandVars(value: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/\$(\w+|\{[^}]*\})/g, (match, group: string) => {
    const name = group.startsWith('{') && group.endsWith('}') ? group.slice(1, -1) : group
    const replacement = env[name]
    return replacement === undefined ? match : replacement
  })
}

/**
 * Python's `posixpath.expanduser` for `~` and `~/…` (`$HOME` first, then `homedir`). `~user` forms are left
 * unchanged: we do not read the password database.
 */
export function expandUser(value: string, env: Readonly<Record<string, string | undefined>>, homedir: string): string {
  if (!value.startsWith('~')) return value
  let slash = value.indexOf('/', 1)
  if (slash < 0) slash = value.length
  if (slash !== 1) return value
  const userhome = (env.HOME ?? homedir).replace(/\/+$/, '')
  return userhome + value.slice(slash) || '/'
}
