/**
 * The environment of the build as the module reads it (`os.environ[...]`, `os.environ.get`, `os.getenv`,
 * `setdefault`, `del`, `in`): what the module set, else the build's environment, every read recorded (the names
 * are reported and the values digested); after a change bento does not follow (`load_dotenv()`), unknown.
 */
import type {CallCtx, Interp} from './context.js'
import {FALSE, NONE, pyRepr, str, TRUE, typeName} from './pyops.js'
import type {ModuleState, PyValue, Site, Unknown} from './values.js'

/** A variable of the build's environment the module read: its value (null: not set) and where it was first read. */
export interface EnvRead {
  name: string
  value: string | null
  site: Site
}

/**
 * `load_dotenv()` without arguments (python-dotenv): the `.env` it finds for a module file — the nearest one from
 * the module's directory up to the build context — with its variables (or the line bento does not model); null:
 * there is none.
 */
export type DotenvFinder = (moduleFile: string) => ({file: string; vars: Array<[string, string]>} | {file: string; unsupported: string; line: number}) | null

export class BuildEnviron {
  /** Reads of the build's environment, by name (the first read's site). */
  readonly reads = new Map<string, EnvRead>()
  /** Variables the module set (`os.environ[k] = v`, `setdefault`) or deleted (null). */
  private readonly envSet = new Map<string, string | null>()
  /** The module changed the environment in a way bento does not follow (`load_dotenv()`, `os.environ.update`). */
  changed: Unknown | undefined

  constructor(
    private readonly ev: Interp,
    /** The build's environment; undefined: every read is unknown (nothing is guessed). */
    private readonly environ: Readonly<Record<string, string | undefined>> | undefined,
    /** Not given: `load_dotenv()` changes the environment in a way bento does not follow. */
    private readonly dotenv?: DotenvFinder,
  ) {}

  unknownRead(site: Site): PyValue {
    return this.ev.opaque(
      'a value read from the environment of the build',
      'write the value literally, pass it as a Bento argument (bentoml.use_arguments + --arg), or declare it in envs so it is set when the image runs',
      site,
    )
  }

  /**
   * `os.environ[key]` as CPython reads it: what the module set, else the build's environment (the read recorded).
   * The value is null when the variable is not set; unknown without an environment or after a change bento does
   * not follow. A key that is not a str is CPython's TypeError.
   */
  read(key: PyValue, site: Site, mod: ModuleState, at: {line: number; col: number}): {value: string | null} | {unknown: PyValue} {
    if (key.t === 'opaque') return {unknown: key}
    if (key.t !== 'str') throw this.ev.failure(mod, at, `TypeError: str expected, not ${typeName(key)}`, 'name environment variables with strings')
    const environ = this.environ
    if (environ === undefined) return {unknown: this.unknownRead(site)}
    if (this.changed) return {unknown: {t: 'opaque', u: this.changed}}
    const mine = this.envSet.get(key.v)
    if (mine !== undefined) return {value: mine}
    const value = Object.prototype.hasOwnProperty.call(environ, key.v) ? environ[key.v] ?? null : null
    if (!this.reads.has(key.v)) this.reads.set(key.v, {name: key.v, value, site})
    return {value}
  }

  keyError(mod: ModuleState, at: {line: number; col: number}, name: string): Error {
    return this.ev.failure(
      mod,
      at,
      `KeyError: ${pyRepr(str(name))} (${name} is not set in the environment of bento build; BentoML's import fails here too)`,
      `set ${name} in the environment of the build, or read it with os.environ.get(${pyRepr(str(name))}, default)`,
    )
  }

  /** `os.environ[key] = value` (value null: `del`): later reads see it, as in CPython. */
  write(key: PyValue, value: PyValue | null, mod: ModuleState, at: {line: number; col: number}): void {
    if (key.t === 'opaque' || value?.t === 'opaque') {
      const u = key.t === 'opaque' ? key.u : (value as {u: Unknown}).u
      this.changed ??= {...u, why: `the environment as changed at line ${at.line}: ${u.why}`}
      return
    }
    if (key.t !== 'str') throw this.ev.failure(mod, at, `TypeError: str expected, not ${typeName(key)}`, 'name environment variables with strings')
    if (value === null) {
      const r = this.read(key, {file: mod.file ?? '', line: at.line, col: at.col}, mod, at)
      if ('value' in r && r.value === null) throw this.keyError(mod, at, key.v)
      this.envSet.set(key.v, null)
      return
    }
    if (value.t !== 'str') throw this.ev.failure(mod, at, `TypeError: str expected, not ${typeName(value)}`, 'environment values are strings: write str(value)')
    this.envSet.set(key.v, value.v)
  }

  /** `os.getenv(k[, d])`, `os.environ.get(k[, d])`, `os.environ.setdefault(k[, d])`; undefined for other names. */
  call(name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue | undefined {
    if (name !== 'os.getenv' && name !== 'os.environ.get' && name !== 'os.environ.setdefault') return undefined
    const short = name.slice(name.lastIndexOf('.') + 1)
    const key = pos[0] ?? kw.get('key')
    const dflt = pos[1] ?? kw.get(name === 'os.environ.setdefault' ? 'value' : 'default')
    const extra = [...kw.keys()].find((k) => k !== 'key' && k !== 'default' && k !== 'value')
    if (key === undefined || pos.length > 2 || extra !== undefined) {
      throw this.ev.failure(c.mod, c.e, `TypeError: ${short}() takes 1 or 2 arguments`, `write ${c.label}("NAME", default)`)
    }
    if (dflt?.t === 'opaque') return dflt
    const r = this.read(key, c.site, c.mod, c.e)
    if ('unknown' in r) return r.unknown
    if (r.value !== null) return str(r.value)
    if (name !== 'os.environ.setdefault') return dflt ?? NONE
    this.write(key, dflt ?? NONE, c.mod, c.e)
    return dflt ?? NONE
  }

  /**
   * `load_dotenv()` as python-dotenv 1.2 runs it (override=False): unless PYTHON_DOTENV_DISABLED is true, the
   * variables of the `.env` found for the calling module are set where the environment does not set them. Each is a
   * read of the environment (listed in envRead, its value in the digest: the `.env`'s when it is the one used).
   * undefined: bento does not follow it (the caller marks the environment changed).
   */
  loadDotenv(c: CallCtx): PyValue | undefined {
    const find = this.dotenv
    if (find === undefined || this.environ === undefined || this.changed) return undefined
    const at = {line: c.e.line, col: c.e.col}
    const disabled = this.read(str('PYTHON_DOTENV_DISABLED'), c.site, c.mod, at)
    if (!('value' in disabled)) return undefined
    if (disabled.value !== null && ['1', 'true', 't', 'yes', 'y'].includes(disabled.value.toLowerCase())) return FALSE
    const found = find(c.mod.file ?? '')
    if (found === null) return FALSE
    if ('unsupported' in found) {
      this.changed = {
        why: `a variable of the environment after load_dotenv() at line ${c.e.line}, which loads ${found.file}:${found.line}: ${found.unsupported}, which bento does not follow`,
        hint: 'write that line of the .env as KEY=value, or set the variable in the environment of the build',
        site: c.site,
      }
      return {t: 'opaque', u: this.changed}
    }
    for (const [k, v] of found.vars) {
      const r = this.read(str(k), c.site, c.mod, at)
      if (!('value' in r)) return undefined
      if (r.value !== null) continue
      this.envSet.set(k, v)
      const read = this.reads.get(k)
      if (read) this.reads.set(k, {...read, value: v})
    }
    return found.vars.length > 0 ? TRUE : FALSE
  }
}
