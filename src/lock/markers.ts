/**
 * PEP 508 environment markers, evaluated for a lock's target (the image's platform and Python), not for the machine
 * bento runs on: `platform_machine == 'aarch64' and python_full_version < '3.12'`.
 */
import {comparePep440, isPep440Version, satisfiesSpecifier} from '../bentoml/pep440.js'
import {LockError} from '../errors.js'

export const MARKER_VARIABLES = [
  'os_name', 'sys_platform', 'platform_machine', 'platform_python_implementation', 'platform_release', 'platform_system',
  'platform_version', 'python_version', 'python_full_version', 'implementation_name', 'implementation_version', 'extra',
  // PEP 751 (pylock.toml): the sets of extras and dependency groups asked for, `'web' in extras`.
  'extras', 'dependency_groups',
] as const
export type MarkerVariable = (typeof MARKER_VARIABLES)[number]
export type MarkerEnvironment = Readonly<Record<Exclude<MarkerVariable, 'extra' | 'extras' | 'dependency_groups'>, string>>

const VERSION_VARIABLES = new Set(['python_version', 'python_full_version', 'implementation_version'])

/** Operating system facts per uv target family (`x86_64-manylinux_2_36`, `linux`, `aarch64-apple-darwin`, …). */
function osOf(uvTarget: string): {os_name: string; sys_platform: string; platform_system: string} {
  if (/windows/.test(uvTarget)) return {os_name: 'nt', sys_platform: 'win32', platform_system: 'Windows'}
  if (/macos|darwin/.test(uvTarget)) return {os_name: 'posix', sys_platform: 'darwin', platform_system: 'Darwin'}
  return {os_name: 'posix', sys_platform: 'linux', platform_system: 'Linux'}
}

function machineOf(uvTarget: string, system: string): string {
  const arch = /^(x86_64|aarch64|i686|armv7|ppc64le|s390x)-/.exec(uvTarget)?.[1] ?? 'x86_64'
  if (system === 'Windows') return arch === 'aarch64' ? 'ARM64' : arch === 'i686' ? 'x86' : 'AMD64'
  if (system === 'Darwin') return arch === 'aarch64' ? 'arm64' : arch
  return arch === 'armv7' ? 'armv7l' : arch
}

/**
 * The marker environment of a CPython image for `uvTarget` (as `lockPlatform` maps it) and `pythonVersion` (`X.Y`,
 * or `X.Y.Z`): `python_full_version` is `X.Y.0` when only `X.Y` is known, as uv assumes for `--python-version X.Y`.
 * `platform_release` and `platform_version` are empty (unknown before the image runs).
 */
export function markerEnvironment(target: {uvTarget: string; pythonVersion: string}): MarkerEnvironment {
  const os = osOf(target.uvTarget)
  const parts = target.pythonVersion.split('.')
  const full = parts.length >= 3 ? target.pythonVersion : `${parts[0] ?? '3'}.${parts[1] ?? '0'}.0`
  return {
    ...os,
    platform_machine: machineOf(target.uvTarget, os.platform_system),
    platform_python_implementation: 'CPython',
    implementation_name: 'cpython',
    platform_release: '',
    platform_version: '',
    python_version: `${parts[0] ?? '3'}.${parts[1] ?? '0'}`,
    python_full_version: full,
    implementation_version: full,
  }
}

type Token = {kind: 'var'; value: string} | {kind: 'str'; value: string} | {kind: 'op'; value: string} | {kind: 'and' | 'or' | '(' | ')'}

function bad(marker: string, why: string): LockError {
  return new LockError(`Invalid environment marker "${marker}": ${why}`, {hint: 'write the marker as PEP 508 defines it', data: {marker}})
}

function tokenize(marker: string): Token[] {
  const out: Token[] = []
  const re = /\s*(?:(\()|(\))|('[^']*'|"[^"]*")|(===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)|(and\b|or\b)|([A-Za-z_][A-Za-z0-9_.]*)|(\S))/y
  let m: RegExpExecArray | null
  while (re.lastIndex < marker.length && (m = re.exec(marker)) !== null) {
    if (m[1]) out.push({kind: '('})
    else if (m[2]) out.push({kind: ')'})
    else if (m[3]) out.push({kind: 'str', value: m[3].slice(1, -1)})
    else if (m[4]) out.push({kind: 'op', value: m[4].replace(/\s+/, ' ')})
    else if (m[5]) out.push({kind: m[5] as 'and' | 'or'})
    else if (m[6]) {
      const name = m[6] === 'platform.python_implementation' ? 'platform_python_implementation' : m[6] === 'os.name' ? 'os_name' : m[6] === 'sys.platform' ? 'sys_platform' : m[6] === 'platform.version' ? 'platform_version' : m[6] === 'platform.machine' ? 'platform_machine' : m[6]
      if (!(MARKER_VARIABLES as readonly string[]).includes(name)) throw bad(marker, `unknown variable ${m[6]}`)
      out.push({kind: 'var', value: name})
    } else if (m[7]) throw bad(marker, `unexpected "${m[7]}"${m[7] === "'" || m[7] === '"' ? ' (an unterminated string)' : ''}`)
    else break
  }
  return out
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-')
}

function compare(marker: string, op: string, lhs: {var?: string; value: string}, rhs: {var?: string; value: string}): boolean {
  if (op === 'in') return rhs.value.includes(lhs.value)
  if (op === 'not in') return !rhs.value.includes(lhs.value)
  const versionVar = (lhs.var !== undefined && VERSION_VARIABLES.has(lhs.var)) || (rhs.var !== undefined && VERSION_VARIABLES.has(rhs.var))
  if (lhs.var === 'extra' || rhs.var === 'extra') {
    const [a, b] = [normalizeName(lhs.value), normalizeName(rhs.value)]
    if (op === '==' || op === '===') return a === b
    if (op === '!=') return a !== b
    throw bad(marker, `${op} cannot compare extra`)
  }
  if (versionVar && op !== '===' && isPep440Version(lhs.value) && (op === '~=' || isPep440Version(rhs.value.replace(/\.\*$/, '')))) {
    if (op === '~=' || rhs.value.endsWith('.*')) return satisfiesSpecifier(lhs.value, `${op}${rhs.value}`)
    const c = comparePep440(lhs.value, rhs.value)
    switch (op) {
      case '==': return c === 0
      case '!=': return c !== 0
      case '<': return c < 0
      case '<=': return c <= 0
      case '>': return c > 0
      case '>=': return c >= 0
    }
  }
  // Strings (and versions that do not parse): PEP 508 compares them as strings, for == and != only.
  if (op === '==' || op === '===') return lhs.value === rhs.value
  if (op === '!=') return lhs.value !== rhs.value
  throw bad(marker, `${op} cannot compare "${lhs.value}" and "${rhs.value}" (not versions)`)
}

/**
 * Whether `marker` holds in `env` (the empty marker always does). `extras`: the extras requested (normalized names);
 * `extra == 'x'` is false without them. A marker that does not parse is E_LOCK naming it.
 */
export function evaluateMarker(marker: string, env: MarkerEnvironment, extras: ReadonlySet<string> = new Set(), groups: ReadonlySet<string> = new Set()): boolean {
  if (marker.trim() === '') return true
  const tokens = tokenize(marker)
  let pos = 0
  const peek = (): Token | undefined => tokens[pos]
  const value = (): {var?: string; value: string; extraSet?: boolean; set?: ReadonlySet<string>} => {
    const t = tokens[pos++]
    if (t?.kind === 'str') return {value: t.value}
    if (t?.kind === 'var' && (t.value === 'extras' || t.value === 'dependency_groups')) return {var: t.value, value: '', set: t.value === 'extras' ? extras : groups}
    if (t?.kind === 'var') return t.value === 'extra' ? {var: 'extra', value: '', extraSet: true} : {var: t.value, value: env[t.value as keyof MarkerEnvironment]}
    throw bad(marker, 'expected a variable or a quoted string')
  }
  const atom = (): boolean => {
    if (peek()?.kind === '(') {
      pos++
      const v = or()
      if (peek()?.kind !== ')') throw bad(marker, 'a "(" is not closed')
      pos++
      return v
    }
    const lhs = value()
    const op = tokens[pos++]
    if (op?.kind !== 'op') throw bad(marker, 'expected a comparison operator')
    const rhs = value()
    if (lhs.var === undefined && rhs.var === undefined) throw bad(marker, 'compares two strings')
    if (rhs.set !== undefined && lhs.var === undefined && (op.value === 'in' || op.value === 'not in')) {
      const has = [...rhs.set].some((e) => normalizeName(e) === normalizeName(lhs.value))
      return op.value === 'in' ? has : !has
    }
    if (lhs.set !== undefined || rhs.set !== undefined) throw bad(marker, `${lhs.set ? lhs.var : rhs.var} takes only "'name' in ${lhs.set ? lhs.var : rhs.var}"`)
    if (lhs.extraSet === true || rhs.extraSet === true) {
      // `extra == 'x'` holds when x is one of the requested extras.
      const other = lhs.extraSet === true ? rhs : lhs
      const hit = [...extras].some((e) => compare(marker, op.value, {var: 'extra', value: e}, other))
      return op.value === '!=' ? ![...extras].some((e) => normalizeName(e) === normalizeName(other.value)) : hit
    }
    return compare(marker, op.value, lhs, rhs)
  }
  const and = (): boolean => {
    let v = atom()
    while (peek()?.kind === 'and') {
      pos++
      const r = atom()
      v = v && r
    }
    return v
  }
  const or = (): boolean => {
    let v = and()
    while (peek()?.kind === 'or') {
      pos++
      const r = and()
      v = v || r
    }
    return v
  }
  const result = or()
  if (pos !== tokens.length) throw bad(marker, 'unexpected text after the expression')
  return result
}
