/**
 * Key-by-key comparison of two `bentoml get -o json` documents (the real `bentoml build`'s Bento and bento's), plus
 * their `src/` file sets. Pure: no I/O.
 *
 * Left out: what differs by construction — `version` (bento's is a content digest), `creation_time` (of the Bento and
 * of each model entry). Python requirements are compared by package name (a lock, when there is one, pins versions
 * BentoML resolved on PyPI that bento does not resolve).
 */

/** The keys compared, in the table's order; `src` is the file set of the Bento's `src/`. */
export const COMPARED_KEYS = [
  'service',
  'name',
  'bentoml_version',
  'entry_service',
  'spec',
  'labels',
  'envs',
  'args',
  'models',
  'services',
  'schema',
  'apis',
  'runners',
  'image',
  'docker',
  'python',
  'conda',
  'src',
] as const

const IGNORED = new Set(['version', 'creation_time'])

export interface KeyDiff {
  key: string
  /** Up to a few leaf paths that differ, with both values (ours second). */
  paths: string[]
}

export interface Comparison {
  agreeing: string[]
  differing: KeyDiff[]
}

export interface BentoView {
  info: Record<string, unknown>
  src: string[]
}

/** The names of the requirements in a requirements text (PEP 503 normalized), sorted, without duplicates. */
export function requirementNames(text: string): string[] {
  const names = new Set<string>()
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim()
    if (!line || line.startsWith('#') || line.startsWith('-')) continue
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line)
    if (m?.[1]) names.add(m[1].toLowerCase().replace(/[-_.]+/g, '-'))
    else names.add(line)
  }
  return [...names].sort()
}

/** The document as compared: creation times out, requirements as names. */
export function normalize(value: unknown, path: string[] = []): unknown {
  if (Array.isArray(value)) return value.map((v, i) => normalize(v, [...path, String(i)]))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (IGNORED.has(k)) continue
      if ((k === 'python_requirements' || k === 'requirements_txt_content') && typeof v === 'string') out[k] = requirementNames(v)
      else out[k] = normalize(v, [...path, k])
    }
    return out
  }
  return value
}

function show(v: unknown): string {
  if (v === undefined) return '(missing)'
  const s = JSON.stringify(v)
  return s.length > 120 ? `${s.slice(0, 117)}...` : s
}

/** The leaf paths where `a` and `b` differ (object keys in any order). */
export function diffPaths(a: unknown, b: unknown, path = '', out: string[] = [], limit = 4): string[] {
  if (out.length >= limit) return out
  if (Array.isArray(a) && Array.isArray(b)) {
    const flat = (x: unknown[]): boolean => x.every((v) => v === null || typeof v !== 'object')
    if (flat(a) && flat(b) && JSON.stringify(a) !== JSON.stringify(b)) {
      const only = (x: unknown[], y: unknown[]): unknown[] => x.filter((v) => !y.some((w) => JSON.stringify(w) === JSON.stringify(v)))
      const [x, y] = [only(a, b), only(b, a)]
      out.push(x.length || y.length ? `${path}: only bentoml ${show(x)}, only bento ${show(y)}` : `${path}: the same items in another order`)
      return out
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) diffPaths(a[i], b[i], `${path}[${i}]`, out, limit)
    return out
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    for (const k of keys) diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out, limit)
    return out
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path}: ${show(a)} ≠ ${show(b)}`)
  return out
}

/** Compare BentoML's Bento (`theirs`) with bento's (`ours`), key by key. */
export function compareBentos(theirs: BentoView, ours: BentoView): Comparison {
  const a = normalize(theirs.info) as Record<string, unknown>
  const b = normalize(ours.info) as Record<string, unknown>
  const keys = [...COMPARED_KEYS, ...new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !(COMPARED_KEYS as readonly string[]).includes(k)))]
  const agreeing: string[] = []
  const differing: KeyDiff[] = []
  for (const key of keys) {
    if (key === 'src') {
      const paths = diffPaths(theirs.src, ours.src, 'src')
      if (paths.length) differing.push({key, paths})
      else agreeing.push(key)
      continue
    }
    if (!(key in a) && !(key in b)) continue
    const paths = diffPaths(a[key], b[key], key)
    if (paths.length) differing.push({key, paths})
    else agreeing.push(key)
  }
  return {agreeing, differing}
}
