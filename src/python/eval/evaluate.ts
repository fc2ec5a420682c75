/**
 * A safe evaluator for the subset of Python that BentoML service modules use to describe their build:
 * module-level statements executed in order, the way `import service` would run them, but without running
 * anything the evaluator does not know. It never imports or runs the user's code.
 *
 * What it executes: literals, names, f-strings, list/tuple/dict displays with `*`/`**` splats, arithmetic and
 * `+` on strings/lists, comparisons, `and`/`or`/`not`, conditional expressions, walrus, subscripts, the common
 * str/list/dict methods and builtins; `if`/`elif`/`else`, `for` over known sequences (`break`/`continue`/`else`),
 * `with` blocks (`bentoml.importing()`), `try` (the body; a handler only for an import of a local module that
 * does not exist), assignments to names, tuples, attributes and items, augmented assignments, `del`; imports of
 * local modules (executed once, as Python does) and of packages (opaque names); classes (their bodies, so pydantic
 * argument models are known) and `def`s (never called).
 * BentoML objects are modelled: `bentoml.images.Image` (../bentoml/image.ts, with object identity: a method call
 * mutates the one image every name bound to it sees), `@bentoml.service(...)`, `bentoml.use_arguments(Model)`
 * with pydantic field defaults overridden by the Bento arguments, `pydantic.Field`.
 *
 * Anything else evaluates to an *opaque* value that remembers why (the result of a function call, a value from
 * the environment or a file, a `@property`…) and where. Opaque values are harmless until the build needs them:
 * then the consumer reports the reason with the file and line. Objects handed to code the evaluator does not run
 * (an unknown function, a branch on an unknown condition) are *tainted* the same way, so nothing they might have
 * done to an image is silently lost.
 */
import {
  Image,
  IMAGE_INIT_PARAMS,
  type ImageFiles,
  type ImageInit,
  ImageRuleError,
} from '../../bentoml/image.js'
import type {Diagnostic} from '../../errors.js'
import {Budget, BudgetExceeded} from './budget.js'
import {type Arg, type Expr, parseModule, scanModule, type Stmt} from '../parse/index.js'
import type {ClassValue, ModuleState, PyValue, ServiceValue, Site, Unknown} from './values.js'
import {type DumpsOptions, jsonDumps, jsonLoads, PyException, type PyOps, shlexQuote} from './stdlib.js'

import {bool, FALSE, firstOf, fromJson, int, isHashable, keyOf, NONE, orderOf, parseFloatText, parseIntBase, parseNumber, pyEquals, pyFloat, pyRepr, pyReprValue, pyStr, pyStrip, pyTypeName, str, TRUE, typeName} from './pyops.js'
import {classLookup, coerce, modelFields} from './pydantic.js'
import {describeOps, exprLabel, exprText, forHeader, relocate, walkCalls} from './ast-text.js'

export type {ClassValue, ModuleState, PyValue, ServiceValue, Site, Unknown} from './values.js'
export {fromJson, pyFloat, pyRepr, pyReprValue, pyStr, toJson, typeName} from './pyops.js'

export interface EvaluateOptions {
  /** Relative posix path → source, as for `readService`. */
  files: Map<string, string>
  /** The module BentoML imports (`service`, `pkg.mod`). */
  module: string
  /** The Bento arguments after merging (`--arg`, `--arg-file`, bentofile `args`). */
  args: Record<string, unknown>
  /** Which of `args` came from `--arg` (strings pydantic coerces) — all of them are treated alike. */
  imageFiles?: ImageFiles
  defaultPythonVersion?: string
  /**
   * The environment of the build (`bento build`'s): `os.environ[...]`, `os.environ.get`, `os.getenv` read it, as
   * they read `bentoml build`'s. Not given: those reads are unknown values (nothing is guessed).
   */
  environ?: Readonly<Record<string, string | undefined>>
}

/** A variable of the build's environment the module read: its value (null: not set) and where it was first read. */
export interface EnvRead {
  name: string
  value: string | null
  site: Site
}

export interface Evaluation {
  /** Every `@bentoml.service` class applied while executing, keyed `file:line` of its `class` statement. */
  services: Map<string, ServiceValue>
  modules: Map<string, ModuleState | null>
  /** Errors BentoML would raise while importing (an image rule broken, an argument error, …). */
  diagnostics: Diagnostic[]
  /** Every variable of `environ` the module read, sorted by name. */
  envRead: EnvRead[]
}

// ---------------------------------------------------------------------------------------------


/** Names Python resolves without an import. */
const BUILTINS = new Set([
  'len', 'str', 'int', 'float', 'bool', 'list', 'tuple', 'dict', 'sorted', 'range', 'min', 'max', 'any', 'all',
  'enumerate', 'zip', 'print', 'isinstance', 'open', 'repr', 'reversed', 'set', 'getattr', 'hasattr', 'type', 'abs',
])

/** Canonical names for the BentoML objects the evaluator models. */
function canonicalExt(q: string): string {
  switch (q) {
    case 'bentoml.images.PythonImage':
    case '_bentoml_sdk.images.Image':
    case '_bentoml_sdk.images.PythonImage':
      return 'bentoml.images.Image'
    case '_bentoml_sdk.service':
    case '_bentoml_sdk.service.service':
    case '_bentoml_sdk.service.factory.service':
      return 'bentoml.service'
    case 'bentoml._internal.utils.args.use_arguments':
      return 'bentoml.use_arguments'
    case '_bentoml_impl.loader.importing':
      return 'bentoml.importing'
    case 'pydantic.fields.Field':
      return 'pydantic.Field'
    case '_bentoml_sdk.task':
    case '_bentoml_sdk.decorators.task':
      return 'bentoml.task'
    default:
      return q
  }
}

/** A name from a package: `TYPE_CHECKING` is False while BentoML imports the service. */
function extValue(q: string): PyValue {
  if (q === 'typing.TYPE_CHECKING' || q === 'typing_extensions.TYPE_CHECKING') return FALSE
  return {t: 'ext', name: q}
}

const ENV_READS = new Set(['os.environ', 'os.getenv', 'os.environ.get', 'os.getenvb', 'os.environ.setdefault', 'dotenv.load_dotenv', 'dotenv.dotenv_values'])
/** Calls that change the environment in ways bento does not follow: later reads of it are unknown. */
const ENV_MUTATORS = new Set([
  'os.environ.update', 'os.environ.pop', 'os.environ.popitem', 'os.environ.clear', 'os.environ.__setitem__', 'os.environ.__delitem__',
  'os.putenv', 'os.unsetenv', 'dotenv.load_dotenv', 'dotenv.main.load_dotenv',
])

class Signal {
  constructor(readonly kind: 'break' | 'continue') {}
}

/** A Python exception the evaluator knows happens (e.g. importing a local module that does not exist). */
class PyRaise {
  constructor(
    readonly type: string,
    readonly message: string,
    readonly site: Site,
  ) {}
}

/** A statement BentoML would fail on while importing: reported, and the import (the whole evaluation) stops there. */
class ImportFailure extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message)
  }
}

export function evaluateModule(opts: EvaluateOptions): Evaluation {
  const ev = new Evaluator(opts)
  try {
    ev.importModule(opts.module, {file: '', line: 0, col: 0})
  } catch (e) {
    // As in Python, the first exception ends the import: BentoML's build stops there.
    if (e instanceof ImportFailure) ev.diagnostics.push(e.diagnostic)
    else if (e instanceof BudgetExceeded) ev.diagnostics.push({...ev.at, severity: 'error', message: e.message, hint: 'bento reads the service module without running it; build configuration values must be small and quick to compute'})
    else if (e instanceof RangeError) {
      // A safety net under the budgets: a value or an expression nested too deeply for the JS stack, or too large
      // for a JS string or array, is still an error at the line, never E_BUG.
      const what = /call stack/i.test(e.message) ? 'this expression or value nests too deeply to evaluate' : 'this value is too large to evaluate'
      ev.diagnostics.push({...ev.at, severity: 'error', message: `${what}; bento evaluates build configuration only; write the value as a literal`, hint: 'bento reads the service module without running it; build configuration values must be small and quick to compute'})
    }
    else if (e instanceof PyRaise) {
      ev.diagnostics.push({
        ...e.site,
        severity: 'error',
        message: `${e.type}: ${e.message} (BentoML fails to import the service here)`,
        hint: 'local modules must be inside the build context (and included by the bentofile); relative imports need a package',
      })
    } else throw e
  }
  const envRead = [...ev.envReads.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return {services: ev.services, modules: ev.modules, diagnostics: ev.diagnostics, envRead}
}

/** `key` of a service class in `Evaluation.services`. */
export function serviceKey(file: string, line: number): string {
  return `${file}:${line}`
}

class Evaluator {
  readonly modules = new Map<string, ModuleState | null>()
  readonly services = new Map<string, ServiceValue>()
  readonly diagnostics: Diagnostic[] = []
  private readonly dirs = new Set<string>()
  readonly budget = new Budget()
  /** Where evaluation is (the statement or expression last started), for budget errors. */
  at: Site = {file: '', line: 0, col: 0}
  /** Reads of the build's environment, by name (the first read's site). */
  readonly envReads = new Map<string, EnvRead>()
  /** Variables the module set (`os.environ[k] = v`, `setdefault`) or deleted (null). */
  private readonly envSet = new Map<string, string | null>()
  /** The module changed the environment in a way bento does not follow (`load_dotenv()`, `os.environ.update`). */
  private envChanged: Unknown | undefined

  constructor(private readonly opts: EvaluateOptions) {
    for (const f of opts.files.keys()) {
      const parts = f.split('/')
      for (let i = 1; i < parts.length; i++) this.dirs.add(parts.slice(0, i).join('/'))
    }
  }

  // ---- modules ----------------------------------------------------------------------------

  private moduleFile(name: string): {file: string | null; isPackage: boolean} | undefined {
    const path = name.split('.').join('/')
    if (this.opts.files.has(`${path}.py`)) return {file: `${path}.py`, isPackage: false}
    if (this.opts.files.has(`${path}/__init__.py`)) return {file: `${path}/__init__.py`, isPackage: true}
    if (this.dirs.has(path)) return {file: null, isPackage: true}
    return undefined
  }

  isLocal(name: string): boolean {
    return this.moduleFile(name) !== undefined
  }

  /** Execute a local module once (and its parent packages first); undefined when it is not local. */
  importModule(name: string, site: Site): ModuleState | undefined {
    if (this.modules.has(name)) return this.modules.get(name) ?? undefined
    const where = this.moduleFile(name)
    if (where === undefined) {
      this.modules.set(name, null)
      return undefined
    }
    const dot = name.lastIndexOf('.')
    if (dot !== -1) this.importModule(name.slice(0, dot), site)
    const mod: ModuleState = {name, file: where.file, isPackage: where.isPackage, env: new Map(), externalStars: []}
    mod.env.set('__name__', str(name))
    this.modules.set(name, mod)
    if (dot !== -1) {
      const parent = this.modules.get(name.slice(0, dot))
      parent?.env.set(name.slice(dot + 1), {t: 'module', name, mod})
    }
    if (where.file !== null) {
      const scanned = parseModule(this.opts.files.get(where.file) ?? '')
      const fatal = scanned.problems.find((p) => p.fatal)
      if (fatal) {
        throw new ImportFailure({file: where.file, line: fatal.line, col: fatal.col, severity: 'error', message: fatal.message, hint: 'bento reads the service module without running it'})
      }
      for (const p of scanned.problems.slice(0, 3)) {
        this.diagnostics.push({
          file: where.file,
          line: p.line,
          col: p.col,
          severity: 'warning',
          message: `could not follow Python syntax: ${p.message}`,
          hint: 'the service is read statically; values set on this line may be reported as not understood',
        })
      }
      this.execBlock(scanned.stmts, mod, null)
    }
    return mod
  }

  private site(mod: ModuleState, x: {line: number; col: number}): Site {
    return {file: mod.file ?? '', line: x.line, col: x.col}
  }

  private opaque(why: string, hint: string, site: Site): PyValue {
    return {t: 'opaque', u: {why, hint, site}}
  }

  // ---- statements -------------------------------------------------------------------------

  /** Execute statements in `mod` (class bodies pass their namespace as `ns`); if/for/try chains across siblings. */
  private execBlock(stmts: Stmt[], mod: ModuleState, ns: Map<string, PyValue> | null): void {
    const env = ns ?? mod.env
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i] as Stmt
      if (s.kind === 'block' && ['if', 'for', 'while', 'try', 'with'].includes(s.keyword)) {
        const chain = [s]
        const follows = s.keyword === 'if' ? ['elif', 'else'] : s.keyword === 'try' ? ['except', 'else', 'finally'] : ['else']
        while (s.keyword !== 'with') {
          const n = stmts[i + 1]
          if (n?.kind !== 'block' || !follows.includes(n.keyword)) break
          chain.push(n)
          i++
        }
        this.tick(mod, s)
        this.execChain(chain, mod, env, ns)
      } else this.exec(s, mod, ns)
    }
  }

  private execChain(chain: Array<Extract<Stmt, {kind: 'block'}>>, mod: ModuleState, env: Map<string, PyValue>, ns: Map<string, PyValue> | null): void {
    const head = chain[0] as Extract<Stmt, {kind: 'block'}>
    const site = this.site(mod, head)
    switch (head.keyword) {
      case 'if': {
        for (let k = 0; k < chain.length; k++) {
          const b = chain[k] as Extract<Stmt, {kind: 'block'}>
          if (b.keyword === 'else') return this.execBlock(b.body, mod, ns)
          const testExpr = b.exprs[0]
          const test = testExpr ? this.eval(testExpr, mod, env) : NONE
          const t = this.truth(test)
          if (t === undefined) {
            const u = this.unknownOf(test, this.site(mod, b))
            const why: Unknown = {why: `it is set under \`${b.keyword} ${exprLabel(testExpr ?? b.exprs[0] as Expr)}\` (line ${b.line}), a condition bento cannot evaluate: ${u.why}`, hint: u.hint, site: u.site}
            for (const rest of chain.slice(k)) this.skipUnknown(rest.body, mod, env, why)
            return
          }
          if (t) return this.execBlock(b.body, mod, ns)
        }
        return
      }
      case 'for': {
        const parsed = forHeader(head.exprs)
        const elseBody = chain.find((b) => b.keyword === 'else')?.body ?? []
        if (parsed === undefined) {
          const u: Unknown = {why: `it is set in a for loop at line ${head.line} whose header bento cannot read`, hint: 'loop over a list: for x in [...]', site}
          this.skipUnknown([...head.body, ...elseBody], mod, env, u)
          return
        }
        const iterV = this.eval(parsed.iter, mod, env)
        const items = this.iterate(iterV)
        if (items === undefined) {
          const u0 = this.unknownOf(iterV, this.site(mod, parsed.iter))
          const u: Unknown = {why: `it is set in \`for ... in ${exprLabel(parsed.iter)}\` (line ${head.line}), over values bento cannot list: ${u0.why}`, hint: u0.hint, site: u0.site}
          this.skipUnknown([...head.body, ...elseBody], mod, env, u)
          return
        }
        for (const item of [...items]) {
          this.assign(parsed.target, item, mod, env)
          try {
            this.execBlock(head.body, mod, ns)
          } catch (e) {
            if (e instanceof Signal) {
              if (e.kind === 'break') return
              continue
            }
            throw e
          }
        }
        this.execBlock(elseBody, mod, ns)
        return
      }
      case 'while': {
        const u: Unknown = {why: `it is set in a while loop (line ${head.line}), which bento does not run`, hint: 'use for over a list', site}
        this.skipUnknown(chain.flatMap((b) => b.body), mod, env, u)
        return
      }
      case 'with': {
        for (const e of head.exprs) {
          const [ctxExpr, target] = e.k === 'ops' && e.ops.length === 1 && e.ops[0] === 'as' && e.parts.length === 2 ? [e.parts[0] as Expr, e.parts[1] as Expr] : [e, undefined]
          const v = this.eval(ctxExpr, mod, env)
          if (target) {
            const u: Unknown = {why: `the value of \`with ${exprLabel(ctxExpr)} as ...\``, hint: 'use module-level values', site: this.site(mod, ctxExpr)}
            this.assign(target, v.t === 'opaque' ? v : {t: 'opaque', u}, mod, env)
          }
        }
        return this.execBlock(head.body, mod, ns)
      }
      case 'try': {
        const handlers = chain.filter((b) => b.keyword === 'except')
        const elseBody = chain.find((b) => b.keyword === 'else')?.body ?? []
        const finallyBody = chain.find((b) => b.keyword === 'finally')?.body ?? []
        try {
          this.execBlock(head.body, mod, ns)
          this.execBlock(elseBody, mod, ns)
        } catch (e) {
          if (!(e instanceof PyRaise)) throw e
          const h = handlers.find((b) => b.exprs.length === 0 || b.exprs.some((x) => /\b(ImportError|ModuleNotFoundError|Exception|BaseException)\b/.test(exprText(x))))
          if (h === undefined) throw e
          const asTarget = h.exprs.find((x) => x.k === 'ops' && x.ops.includes('as'))
          if (asTarget?.k === 'ops') {
            const t = asTarget.parts[asTarget.parts.length - 1]
            if (t?.k === 'name') env.set(t.id, this.opaque('an exception object', 'do not use exceptions as values', this.site(mod, h)))
          }
          this.execBlock(h.body, mod, ns)
        } finally {
          this.execBlock(finallyBody, mod, ns)
        }
        return
      }
      default:
        return
    }
  }

  /**
   * Statements bento does not run (a branch on an unknown condition, a loop over unknown values): every name they
   * bind becomes unknown, and every object they may change (a call's receiver or arguments, an attribute or item
   * they assign) is tainted — so nothing they might have done is silently lost.
   */
  private skipUnknown(stmts: Stmt[], mod: ModuleState, env: Map<string, PyValue>, u: Unknown): void {
    const opaque: PyValue = {t: 'opaque', u}
    const bindName = (t: Expr): void => {
      if (t.k === 'name') env.set(t.id, opaque)
      else if (t.k === 'seq') t.items.forEach(bindName)
      else if (t.k === 'starred') bindName(t.value)
      else if (t.k === 'attr' || t.k === 'sub') this.taintPure(t.k === 'attr' ? t.obj : t.obj, mod, env, u)
    }
    const visitExpr = (e: Expr): void => {
      walkCalls(e, (x) => {
        if (x.k === 'walrus') env.set(x.target, opaque)
        if (x.k === 'call') {
          if (x.fn.k === 'attr') this.taintPure(x.fn.obj, mod, env, u)
          for (const a of x.args) this.taintPure(a.value, mod, env, u)
        }
      })
    }
    for (const s of stmts) {
      switch (s.kind) {
        case 'assign':
          s.targets.forEach(bindName)
          visitExpr(s.value)
          break
        case 'augassign': {
          const cur = s.target.k === 'name' ? env.get(s.target.id) ?? mod.env.get(s.target.id) : undefined
          if (cur && (cur.t === 'list' || cur.t === 'dict')) this.taint(cur, u)
          bindName(s.target)
          visitExpr(s.value)
          break
        }
        case 'expr':
          s.exprs.forEach(visitExpr)
          break
        case 'import':
          for (const n of s.names) env.set(n.asName ?? n.module.split('.')[0] ?? n.module, opaque)
          break
        case 'from':
          for (const n of s.names) if (n.name !== '*') env.set(n.asName ?? n.name, opaque)
          break
        case 'def':
        case 'class':
          env.set(s.name, opaque)
          break
        case 'block':
          s.exprs.forEach(visitExpr)
          if (s.keyword === 'for') {
            const h = forHeader(s.exprs)
            if (h) bindName(h.target)
          }
          if (s.keyword === 'with') for (const e of s.exprs) if (e.k === 'ops' && e.ops[0] === 'as' && e.parts[1]) bindName(e.parts[1])
          this.skipUnknown(s.body, mod, env, u)
          break
        case 'other':
          if (s.keyword === 'del') s.exprs.forEach(bindName)
          break
        default:
          break
      }
    }
  }

  /** Taint the object a name/attribute chain refers to, without running anything. */
  private taintPure(e: Expr, mod: ModuleState, env: Map<string, PyValue>, u: Unknown): void {
    if (e.k !== 'name' && e.k !== 'attr') {
      walkCalls(e, (x) => {
        if (x.k === 'name') this.taintPure(x, mod, env, u)
      })
      return
    }
    let v: PyValue | undefined
    if (e.k === 'name') v = env.get(e.id) ?? mod.env.get(e.id)
    else {
      const base = e.obj.k === 'name' ? env.get(e.obj.id) ?? mod.env.get(e.obj.id) : undefined
      if (base?.t === 'module' && base.mod) v = base.mod.env.get(e.attr)
      else if (base !== undefined) v = base
    }
    if (v !== undefined) this.taint(v, u)
  }

  private tick(mod: ModuleState, s: {line: number; col: number}): void {
    this.at = {file: mod.file ?? '', line: s.line, col: s.col}
    this.budget.charge()
  }

  private exec(s: Stmt, mod: ModuleState, ns: Map<string, PyValue> | null): void {
    this.tick(mod, s)
    const env = ns ?? mod.env
    switch (s.kind) {
      case 'import':
        for (const n of s.names) {
          const top = n.module.split('.')[0] ?? n.module
          const local = this.isLocal(top)
          if (local) {
            const parts = n.module.split('.')
            for (let i = 1; i <= parts.length; i++) {
              if (this.importModule(parts.slice(0, i).join('.'), this.site(mod, s)) === undefined) {
                this.raiseImport(mod, s, parts.slice(0, i).join('.'))
              }
            }
          }
          if (n.asName !== undefined) env.set(n.asName, this.moduleValue(n.module))
          else env.set(top, this.moduleValue(top))
        }
        return
      case 'from':
        return this.execFrom(s, mod, env)
      case 'assign': {
        const value = this.eval(s.value, mod, env)
        for (const t of s.targets) this.assign(t, value, mod, env)
        return
      }
      case 'augassign': {
        const cur = this.eval(s.target, mod, env)
        const rhs = this.eval(s.value, mod, env)
        if (s.op === '+' && cur.t === 'list') {
          const items = this.iterate(rhs)
          if (items === undefined) cur.taint ??= this.unknownOf(rhs, this.site(mod, s.value))
          else this.extend(cur.items, items, 'the list')
          return
        }
        if (s.op === '|' && cur.t === 'dict' && rhs.t === 'dict') {
          for (const [k, v] of rhs.map) cur.map.set(k, v)
          return
        }
        this.assign(s.target, this.binop(s.op, cur, rhs, s, mod), mod, env)
        return
      }
      case 'annotation':
        return
      case 'expr':
        for (const e of s.exprs) {
          // a docstring or a bare call: only the effects count
          if (e.k === 'str') continue
          this.eval(e, mod, env)
        }
        return
      case 'def': {
        const isProperty = s.decorators.some((d) => d.k === 'name' && (d.id === 'property' || d.id === 'cached_property') ||
          d.k === 'attr' && (d.attr === 'cached_property' || d.attr === 'property'))
        env.set(s.name, {t: 'func', name: s.name, site: this.site(mod, s), isProperty})
        return
      }
      case 'class':
        return this.execClass(s, mod, env)
      case 'block':
        // Chains (if/elif/else, for/else, try/except) are run by execBlock; a lone block keyword here is
        // one whose head was not understood (`else` without `if`, `match`): its body is not run.
        return this.skipUnknown(s.body, mod, env, {why: `a \`${s.keyword}\` block`, hint: 'use if/elif/else and for', site: this.site(mod, s)})
      case 'other':
        return this.execOther(s, mod, env)
      default:
        return
    }
  }

  private raiseImport(mod: ModuleState, s: Stmt, name: string): never {
    throw new PyRaise('ImportError', `No module named '${name}'`, this.site(mod, s))
  }

  private moduleValue(name: string): PyValue {
    const m = this.modules.get(name)
    if (m) return {t: 'module', name, mod: m}
    return {t: 'ext', name: canonicalExt(name)}
  }

  private absolute(mod: ModuleState, level: number, module: string, site: Site): string {
    if (level === 0) return module
    let base = mod.isPackage ? mod.name : mod.name.split('.').slice(0, -1).join('.')
    if (base === '') throw new PyRaise('ImportError', 'attempted relative import with no known parent package', site)
    for (let i = 1; i < level; i++) base = base.split('.').slice(0, -1).join('.')
    return [base, module].filter((x) => x !== '').join('.')
  }

  private execFrom(s: Extract<Stmt, {kind: 'from'}>, mod: ModuleState, env: Map<string, PyValue>): void {
    const abs = this.absolute(mod, s.level, s.module, this.site(mod, s))
    const top = abs.split('.')[0] ?? abs
    if (s.level > 0 || this.isLocal(top)) {
      const m = this.importModule(abs, this.site(mod, s))
      if (m === undefined) throw new PyRaise('ImportError', `No module named '${abs}'`, this.site(mod, s))
      for (const n of s.names) {
        if (n.name === '*') {
          const all = m.env.get('__all__')
          const names = all && (all.t === 'list' || all.t === 'tuple') ? all.items.flatMap((x) => (x.t === 'str' ? [x.v] : [])) : [...m.env.keys()].filter((k) => !k.startsWith('_'))
          for (const k of names) {
            const v = m.env.get(k)
            if (v !== undefined) env.set(k, v)
          }
          if (env === mod.env) mod.externalStars.push(...m.externalStars)
          continue
        }
        let v = m.env.get(n.name)
        if (v === undefined) {
          const sub = this.importModule(`${abs}.${n.name}`, this.site(mod, s))
          if (sub) v = {t: 'module', name: sub.name, mod: sub}
        }
        if (v === undefined) throw new PyRaise('ImportError', `cannot import name '${n.name}' from '${abs}'`, this.site(mod, s))
        env.set(n.asName ?? n.name, v)
      }
      return
    }
    for (const n of s.names) {
      if (n.name === '*') {
        mod.externalStars.push(abs)
        continue
      }
      env.set(n.asName ?? n.name, extValue(canonicalExt(`${abs}.${n.name}`)))
    }
  }

  private execClass(s: Extract<Stmt, {kind: 'class'}>, mod: ModuleState, env: Map<string, PyValue>): void {
    const site = this.site(mod, s)
    const cls: ClassValue = {
      name: s.name,
      site,
      bases: s.bases.filter((b) => b.name === undefined && b.star === undefined).map((b) => this.eval(b.value, mod, env)),
      ns: new Map(),
      annotations: [],
      hasTask: false,
    }
    // The class body runs in its own namespace; names it does not bind are looked up in the module.
    const bodyMod: ModuleState = {...mod, env: new Map(mod.env)}
    for (const st of s.body) {
      if (st.kind === 'annotation' && st.target.k === 'name') cls.annotations.push({name: st.target.id, annotation: st.annotation})
      if (st.kind === 'assign' && st.annotation && st.targets.length === 1 && st.targets[0]?.k === 'name') {
        cls.annotations.push({name: st.targets[0].id, annotation: st.annotation})
      }
    }
    for (const st of s.body) {
      if (st.kind !== 'def') continue
      for (const d of st.decorators) {
        const dv = this.eval(d.k === 'call' ? d.fn : d, mod, env)
        if (dv.t === 'ext' && dv.name === 'bentoml.task') cls.hasTask = true
      }
    }
    for (const b of cls.bases) if (b.t === 'class' && b.cls.hasTask) cls.hasTask = true
    const before = new Map(bodyMod.env)
    this.execBlock(s.body, bodyMod, null)
    for (const [k, v] of bodyMod.env) if (before.get(k) !== v) cls.ns.set(k, v)
    let value: PyValue = {t: 'class', cls}
    // Decorators apply bottom-up.
    for (const d of [...s.decorators].reverse()) value = this.applyDecorator(d, value, mod, env, site)
    env.set(s.name, value)
  }

  private applyDecorator(d: Expr, target: PyValue, mod: ModuleState, env: Map<string, PyValue>, classSite: Site): PyValue {
    const dv = this.eval(d, mod, env)
    if (dv.t === 'ext' && dv.name === 'bentoml.service') return this.makeService(target, new Map(), this.site(mod, d), classSite)
    if (dv.t === 'svcdeco') return this.makeService(target, dv.kwargs, dv.site, classSite, dv.unknown)
    // Other decorators (bentoml.asgi_app(...), …) return the class they decorate.
    return target
  }

  private makeService(target: PyValue, kwargs: Map<string, PyValue>, decoratorSite: Site, classSite: Site, unknownKwargs?: Unknown): PyValue {
    if (target.t === 'service') {
      throw new ImportFailure({
        ...decoratorSite,
        severity: 'error',
        message: 'service() decorator can only be applied once',
        hint: 'keep one @bentoml.service(...) on the class',
      })
    }
    if (target.t !== 'class') return target
    const svc: ServiceValue = {
      className: target.cls.name,
      cls: target.cls,
      site: classSite,
      decoratorSite,
      kwargs,
      ...(unknownKwargs ? {unknownKwargs} : {}),
      envs: unknownKwargs ?? this.convertEnvs(kwargs.get('envs'), decoratorSite),
    }
    this.services.set(serviceKey(classSite.file, classSite.line), svc)
    return {t: 'service', svc}
  }

  /** BentoML's `convert_envs` at decoration time: `[BentoEnvSchema(**env) for env in envs or []]`. */
  private convertEnvs(v: PyValue | undefined, site: Site): ServiceValue['envs'] {
    if (v === undefined || v.t === 'none') return []
    const u = this.unknownIn(v)
    if (u) return u
    if (v.t !== 'list' && v.t !== 'tuple') {
      return {why: `envs is a ${typeName(v)}, not a list of {"name": …, "value": …} dicts`, hint: 'write envs=[{"name": "NAME", "value": "value"}]', site}
    }
    const out: Array<{name: string; value: string; stage: string}> = []
    for (const item of v.items) {
      if (item.t !== 'dict') return {why: `an envs entry is a ${typeName(item)}, not a dict`, hint: 'write {"name": "NAME", "value": "value"}', site}
      const get = (k: string): PyValue | undefined => item.map.get(keyOf(str(k), this.budget))?.value
      const keys = [...item.map.values()].map((x) => (x.key.t === 'str' ? x.key.v : '?'))
      const extra = keys.filter((k) => !['name', 'value', 'stage'].includes(k))
      if (extra.length > 0) return {why: `envs entry has unexpected key(s) ${extra.join(', ')}`, hint: 'an envs entry has name, value and stage', site}
      const name = get('name')
      const value = get('value') ?? str('')
      const stage = get('stage') ?? str('all')
      if (name?.t !== 'str') return {why: 'an envs entry has no string "name"', hint: 'write {"name": "NAME", "value": "value"}', site}
      if (value.t !== 'str') return {why: `the value of env ${name.v} is a ${typeName(value)}`, hint: 'write the value as a string literal', site}
      if (stage.t !== 'str' || !['all', 'build', 'runtime'].includes(stage.v)) {
        return {why: `the stage of env ${name.v} must be "all", "build" or "runtime"`, hint: 'write "stage": "build" (or "runtime", "all")', site}
      }
      out.push({name: name.v, value: value.v, stage: stage.v})
    }
    return out
  }

  private execOther(s: Extract<Stmt, {kind: 'other'}>, mod: ModuleState, env: Map<string, PyValue>): void {
    switch (s.keyword) {
      case 'pass':
      case 'global':
      case 'nonlocal':
      case 'assert':
      case 'type':
      case 'return':
        return
      case 'break':
        throw new Signal('break')
      case 'continue':
        throw new Signal('continue')
      case 'del':
        for (const e of s.exprs) {
          if (e.k === 'name') env.delete(e.id)
          else if (e.k === 'sub' && e.index.length === 1 && e.index[0]) {
            const obj = this.eval(e.obj, mod, env)
            if (obj.t === 'ext' && obj.name === 'os.environ') this.writeEnv(this.eval(e.index[0], mod, env), null, mod, e)
          }
        }
        return
      case 'raise':
        throw new ImportFailure({
          ...this.site(mod, s),
          severity: 'error',
          message: 'the module raises an exception while BentoML imports it',
          hint: 'the service module must import without errors for BentoML to build it',
        })
      default:
        return
    }
  }

  private assign(t: Expr, value: PyValue, mod: ModuleState, env: Map<string, PyValue>): void {
    switch (t.k) {
      case 'name':
        env.set(t.id, value)
        return
      case 'seq': {
        if (t.kind === 'set') break
        const items = this.iterate(value)
        const star = t.items.findIndex((x) => x.k === 'starred')
        if (items === undefined) {
          const u = this.unknownOf(value, this.site(mod, t))
          for (const x of t.items) this.assign(x.k === 'starred' ? x.value : x, {t: 'opaque', u}, mod, env)
          return
        }
        if (star === -1 ? items.length !== t.items.length : items.length < t.items.length - 1) {
          throw this.failure(mod, t, `cannot unpack ${items.length} values into ${t.items.length} names`, 'match the number of names and values')
        }
        const after = t.items.length - star - 1
        t.items.forEach((x, i) => {
          if (x.k === 'starred') this.assign(x.value, {t: 'list', items: items.slice(i, items.length - after)}, mod, env)
          else this.assign(x, (star === -1 || i < star ? items[i] : items[items.length - (t.items.length - i)]) as PyValue, mod, env)
        })
        return
      }
      case 'attr': {
        const obj = this.eval(t.obj, mod, env)
        return this.setAttr(obj, t.attr, value, mod, t)
      }
      case 'sub': {
        const obj = this.eval(t.obj, mod, env)
        const idx = t.index.length === 1 && t.index[0] ? this.eval(t.index[0], mod, env) : undefined
        if (obj.t === 'ext' && obj.name === 'os.environ' && idx !== undefined) return this.writeEnv(idx, value, mod, t)
        if (obj.t === 'dict' && idx !== undefined && isHashable(idx)) {
          obj.map.set(keyOf(idx, this.budget), {key: idx, value})
          return
        }
        if (obj.t === 'list' && idx?.t === 'int') {
          const i = Number(idx.v < 0n ? BigInt(obj.items.length) + idx.v : idx.v)
          if (i >= 0 && i < obj.items.length) {
            obj.items[i] = value
            return
          }
          throw this.failure(mod, t, 'list assignment index out of range', 'check the index')
        }
        this.taint(obj, {why: `item assignment at ${this.site(mod, t).file}:${t.line} could not be followed`, hint: 'assign whole values with literal keys', site: this.site(mod, t)})
        return
      }
      default:
        break
    }
    // Anything else (a starred target alone, …): nothing bento can track.
  }

  private setAttr(obj: PyValue, attr: string, value: PyValue, mod: ModuleState, at: Expr): void {
    const site = this.site(mod, at)
    if (obj.t === 'image') {
      if (!(IMAGE_INIT_PARAMS as readonly string[]).includes(attr)) {
        throw this.failure(mod, at, `'Image' object has no attribute '${attr}'`, `settable image attributes: ${IMAGE_INIT_PARAMS.join(', ')}`)
      }
      const u = this.unknownIn(value)
      if (u) {
        obj.taint ??= {...u, why: `image.${attr} is set to a value bento cannot read: ${u.why}`}
        return
      }
      const img = obj.img as unknown as Record<string, unknown>
      if (attr === 'lock_python_packages' || attr === 'pack_git_packages') {
        if (value.t !== 'bool') throw this.failure(mod, at, `image.${attr} must be True or False`, `write image.${attr} = False`)
        img[attr] = value.v
      } else if (attr === 'commands' || attr === 'post_commands' || attr === 'build_include_paths') {
        const items = value.t === 'list' || value.t === 'tuple' ? value.items : undefined
        if (items === undefined || items.some((x) => x.t !== 'str')) throw this.failure(mod, at, `image.${attr} must be a list of strings`, 'use image.run(...) / image.build_include(...)')
        img[attr] = items.map((x) => (x as {v: string}).v)
      } else {
        if (value.t !== 'str') throw this.failure(mod, at, `image.${attr} must be a string`, `write image.${attr} = "..."`)
        img[attr] = value.v
      }
      return
    }
    if (obj.t === 'module' && obj.mod) {
      obj.mod.env.set(attr, value)
      return
    }
    if (obj.t === 'class') {
      obj.cls.ns.set(attr, value)
      return
    }
    // Attributes on objects bento does not model: nothing it reads depends on them, unless the value is a tracked object.
    this.taint(value, {why: `it is stored on an object bento does not model at ${site.file}:${site.line}`, hint: 'keep the value in a module-level variable', site})
  }

  private failure(mod: ModuleState, at: {line: number; col: number}, message: string, hint: string): ImportFailure {
    return new ImportFailure({...this.site(mod, at), severity: 'error', message, hint})
  }

  // ---- expressions ------------------------------------------------------------------------

  eval(e: Expr, mod: ModuleState, env: Map<string, PyValue>): PyValue {
    this.tick(mod, e)
    const site = this.site(mod, e)
    switch (e.k) {
      case 'str':
        if (e.unsupported !== undefined) {
          throw this.failure(mod, e, `${e.unsupported}: \\N{...} escapes are not supported: write the character`, 'write the character itself (or a \\u/\\U escape) instead of its Unicode name')
        }
        if (e.value !== null && e.parts === null) return str(e.value)
        return this.fstring(e, mod, env)
      case 'num':
        return parseNumber(e.text) ?? this.opaque(`the number ${e.text}`, 'write a plain integer or decimal', site)
      case 'const':
        return e.id === 'None' ? NONE : e.id === 'True' ? TRUE : e.id === 'False' ? FALSE : this.opaque('`...`', 'write a value', site)
      case 'name':
        return this.lookup(e.id, mod, env, site)
      case 'attr':
        return this.getAttr(this.eval(e.obj, mod, env), e.attr, mod, e)
      case 'sub': {
        const obj = this.eval(e.obj, mod, env)
        if (e.index.length !== 1 || !e.index[0] || e.index[0].k === 'ops' || e.index[0].k === 'slice') {
          return this.opaque('a slice or multi-index subscript', 'index with one literal key or position', site)
        }
        return this.subscript(obj, this.eval(e.index[0], mod, env), mod, e)
      }
      case 'seq': {
        const items: PyValue[] = []
        for (const x of e.items) {
          if (x.k === 'starred') {
            const v = this.eval(x.value, mod, env)
            const it = this.iterate(v)
            if (it === undefined) return {t: 'opaque', u: this.unknownOf(v, this.site(mod, x))}
            this.extend(items, it, 'the display')
          } else items.push(this.eval(x, mod, env))
        }
        if (e.kind === 'list') return {t: 'list', items}
        if (e.kind === 'tuple') return {t: 'tuple', items}
        return this.opaque('a set', 'use a list', site)
      }
      case 'dict': {
        const map = new Map<string, {key: PyValue; value: PyValue}>()
        for (const en of e.entries) {
          if (en.key === undefined) {
            const v = this.eval(en.value, mod, env)
            if (v.t !== 'dict') return {t: 'opaque', u: this.unknownOf(v, this.site(mod, en.value), '`**` of a value that is not a known dict')}
            for (const [k, kv] of v.map) map.set(k, kv)
            continue
          }
          const k = this.eval(en.key, mod, env)
          if (!isHashable(k)) return {t: 'opaque', u: this.unknownOf(k, this.site(mod, en.key), 'a dict key that is not a literal')}
          map.set(keyOf(k, this.budget), {key: k, value: this.eval(en.value, mod, env)})
        }
        return {t: 'dict', map}
      }
      case 'starred':
        return this.opaque('a starred expression here', 'splat into a list or a call', site)
      case 'bin': {
        // `a + b + c + …` is a left-leaning tree as deep as it is long: evaluated along its spine, not recursively.
        const spine: Array<Extract<Expr, {k: 'bin'}>> = []
        let x: Expr = e
        while (x.k === 'bin') {
          spine.push(x)
          x = x.left
        }
        let acc = this.eval(x, mod, env)
        for (let i = spine.length - 1; i >= 0; i--) {
          const b = spine[i] as Extract<Expr, {k: 'bin'}>
          this.tick(mod, b)
          acc = this.binop(b.op, acc, this.eval(b.right, mod, env), b, mod)
        }
        return acc
      }
      case 'unary': {
        const v = this.eval(e.operand, mod, env)
        if (e.op === 'not') {
          const b = this.truth(v)
          return b === undefined ? {t: 'opaque', u: this.unknownOf(v, site)} : bool(!b)
        }
        if (v.t === 'int' && (e.op === '-' || e.op === '+' || e.op === '~')) return int(e.op === '-' ? -v.v : e.op === '~' ? -v.v - 1n : v.v)
        if (v.t === 'float' && (e.op === '-' || e.op === '+')) return {t: 'float', v: e.op === '-' ? -v.v : v.v}
        if (v.t === 'bool' && (e.op === '-' || e.op === '+' || e.op === '~')) return int(e.op === '-' ? -BigInt(v.v) : e.op === '~' ? -BigInt(v.v) - 1n : BigInt(v.v))
        return {t: 'opaque', u: this.unknownOf(v, site, `unary ${e.op} of a ${typeName(v)}`)}
      }
      case 'bool': {
        let last: PyValue = NONE
        for (const x of e.values) {
          last = this.eval(x, mod, env)
          const b = this.truth(last)
          if (b === undefined) return {t: 'opaque', u: this.unknownOf(last, this.site(mod, x))}
          if (e.op === 'and' ? !b : b) return last
        }
        return last
      }
      case 'cmp': {
        let left = this.eval(e.left, mod, env)
        for (let i = 0; i < e.ops.length; i++) {
          const right = this.eval(e.rights[i] as Expr, mod, env)
          let r: boolean | undefined
          if ((e.ops[i] === 'in' || e.ops[i] === 'not in') && right.t === 'ext' && right.name === 'os.environ') {
            const got = this.readEnv(left, site, mod, e)
            if ('unknown' in got) return got.unknown
            r = (got.value !== null) === (e.ops[i] === 'in')
          } else r = this.compare(e.ops[i] as string, left, right)
          if (r === undefined) {
            const u = left.t === 'opaque' ? left.u : right.t === 'opaque' ? right.u : {why: `the comparison ${typeName(left)} ${e.ops[i]} ${typeName(right)}`, hint: 'compare strings, numbers or lists of them', site}
            return {t: 'opaque', u}
          }
          if (!r) return FALSE
          left = right
        }
        return TRUE
      }
      case 'ifexp': {
        const test = this.eval(e.test, mod, env)
        const b = this.truth(test)
        if (b === undefined) return {t: 'opaque', u: this.unknownOf(test, this.site(mod, e.test))}
        return this.eval(b ? e.body : e.orelse, mod, env)
      }
      case 'walrus': {
        const v = this.eval(e.value, mod, env)
        env.set(e.target, v)
        return v
      }
      case 'call':
        return this.call(e, mod, env)
      case 'ops':
        return this.opaque(describeOps(e), 'use literals, names, f-strings, + and plain calls', site)
      case 'lambda':
        return this.opaque('a lambda', 'use literals, names, f-strings, + and plain calls', site)
      case 'comp':
        return this.opaque('a comprehension', 'use literals, names, f-strings, + and plain calls', site)
      case 'slice':
        return this.opaque('a slice', 'index with one literal key or position', site)
      default:
        return this.opaque('an expression bento does not evaluate', 'use literals and module-level constants', site)
    }
  }

  private lookup(id: string, mod: ModuleState, env: Map<string, PyValue>, site: Site): PyValue {
    const v = env.get(id) ?? mod.env.get(id)
    if (v !== undefined) return v
    if (id === '__file__') return this.opaque('__file__ (a path on the build machine)', 'name files relative to the build context', site)
    if (BUILTINS.has(id)) return {t: 'builtin', name: id}
    if (mod.externalStars.length > 0) return {t: 'ext', name: canonicalExt(`${mod.externalStars[0] ?? ''}.${id}`)}
    return this.opaque(`\`${id}\` is not defined at that point of the module`, `define ${id} at module level before it is used`, site)
  }

  private getAttr(obj: PyValue, attr: string, mod: ModuleState, at: Expr): PyValue {
    const site = this.site(mod, at)
    switch (obj.t) {
      case 'module': {
        const v = obj.mod?.env.get(attr)
        if (v !== undefined) return v
        const sub = this.importModule(`${obj.name}.${attr}`, site)
        if (sub) return {t: 'module', name: sub.name, mod: sub}
        return this.opaque(`\`${attr}\` is not defined in module ${obj.name}`, `define ${attr} in ${obj.mod?.file ?? obj.name}`, site)
      }
      case 'ext': {
        return extValue(canonicalExt(`${obj.name}.${attr}`))
      }
      case 'image': {
        const img = obj.img
        switch (attr) {
          case 'base_image':
          case 'distro':
          case 'python_version':
          case 'python_requirements':
            return str(img[attr])
          case 'lock_python_packages':
          case 'pack_git_packages':
            return bool(img[attr])
          default:
            if (attr in Image.METHODS) return {t: 'bound', self: obj, name: attr}
            if (attr === 'commands' || attr === 'post_commands' || attr === 'build_include_paths') {
              return this.opaque(`reading image.${attr}`, 'add commands with image.run(...) instead of changing the list', site)
            }
            throw this.failure(mod, at, `'Image' object has no attribute '${attr}'`, `the image methods are ${Object.keys(Image.METHODS).join(', ')}`)
        }
      }
      case 'args': {
        const v = obj.fields.get(attr)
        if (v !== undefined) return v
        const member = obj.cls ? classLookup(obj.cls, attr) : undefined
        if (member?.t === 'func') {
          return this.opaque(
            member.isProperty ? `\`${attr}\` is a @property of ${obj.cls?.name ?? 'the arguments'} (computed when the code runs)` : `\`${attr}\` is a method of ${obj.cls?.name ?? 'the arguments'}`,
            'compute the value at module level from the argument fields (if/for over bento_args.<field>), or set it in bentofile.yaml',
            member.site,
          )
        }
        if (member !== undefined) return member
        throw this.failure(mod, at, `the Bento arguments have no field '${attr}'`, obj.cls ? `declare ${attr} in ${obj.cls.name}` : `pass it with --arg ${attr}=VALUE`)
      }
      case 'class': {
        const v = classLookup(obj.cls, attr)
        if (v?.t === 'func') return this.opaque(`\`${obj.cls.name}.${attr}\``, 'use a module-level value', site)
        return v ?? this.opaque(`\`${obj.cls.name}.${attr}\` is not a class attribute bento can read`, 'use a module-level value', site)
      }
      case 'str':
      case 'list':
      case 'dict':
        return {t: 'bound', self: obj, name: attr}
      case 'opaque':
        return obj
      default:
        return this.opaque(`the attribute \`${attr}\` of a ${typeName(obj)}`, 'use a module-level value', site)
    }
  }

  private subscript(obj: PyValue, idx: PyValue, mod: ModuleState, at: Expr): PyValue {
    const site = this.site(mod, at)
    if (obj.t === 'ext' && obj.name === 'os.environ') {
      const r = this.readEnv(idx, site, mod, at)
      if ('unknown' in r) return r.unknown
      if (r.value === null) throw this.keyError(mod, at, (idx as {v: string}).v)
      return str(r.value)
    }
    if ((obj.t === 'list' || obj.t === 'tuple' || obj.t === 'str') && (idx.t === 'int' || idx.t === 'bool')) {
      if (obj.t === 'str') this.budget.charge(Math.ceil(obj.v.length / 64))
      const n = obj.t === 'str' ? [...obj.v].length : obj.items.length
      const i0 = BigInt(idx.v)
      const i = Number(i0 < 0n ? BigInt(n) + i0 : i0)
      if (i < 0 || i >= n) throw this.failure(mod, at, `${typeName(obj)} index out of range`, 'check the index')
      if (obj.t === 'str') return str([...obj.v][i] ?? '')
      if (obj.t === 'list' && obj.taint) return {t: 'opaque', u: obj.taint}
      return obj.items[i] as PyValue
    }
    if (obj.t === 'dict' && isHashable(idx)) {
      if (obj.taint) return {t: 'opaque', u: obj.taint}
      const hit = obj.map.get(keyOf(idx, this.budget))
      if (hit === undefined) throw this.failure(mod, at, `KeyError: ${pyRepr(idx)}`, 'use a key the dict has')
      return hit.value
    }
    if (obj.t === 'opaque') return obj
    if (idx.t === 'opaque') return idx
    if (obj.t === 'ext') return this.opaque(`\`${obj.name}[…]\``, 'use a literal', site)
    return this.opaque(`indexing a ${typeName(obj)} with a ${typeName(idx)}`, 'index lists with integers and dicts with literal keys', site)
  }

  private envRead(site: Site): PyValue {
    return this.opaque(
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
  private readEnv(key: PyValue, site: Site, mod: ModuleState, at: {line: number; col: number}): {value: string | null} | {unknown: PyValue} {
    if (key.t === 'opaque') return {unknown: key}
    if (key.t !== 'str') throw this.failure(mod, at, `TypeError: str expected, not ${typeName(key)}`, 'name environment variables with strings')
    const environ = this.opts.environ
    if (environ === undefined) return {unknown: this.envRead(site)}
    if (this.envChanged) return {unknown: {t: 'opaque', u: this.envChanged}}
    const mine = this.envSet.get(key.v)
    if (mine !== undefined) return {value: mine}
    const value = Object.prototype.hasOwnProperty.call(environ, key.v) ? environ[key.v] ?? null : null
    if (!this.envReads.has(key.v)) this.envReads.set(key.v, {name: key.v, value, site})
    return {value}
  }

  private keyError(mod: ModuleState, at: {line: number; col: number}, name: string): ImportFailure {
    return this.failure(
      mod,
      at,
      `KeyError: ${pyRepr(str(name))} (${name} is not set in the environment of bento build; BentoML's import fails here too)`,
      `set ${name} in the environment of the build, or read it with os.environ.get(${pyRepr(str(name))}, default)`,
    )
  }

  /** `os.environ[key] = value` (value null: `del`): later reads see it, as in CPython. */
  private writeEnv(key: PyValue, value: PyValue | null, mod: ModuleState, at: {line: number; col: number}): void {
    if (key.t === 'opaque' || value?.t === 'opaque') {
      const u = key.t === 'opaque' ? key.u : (value as {u: Unknown}).u
      this.envChanged ??= {...u, why: `the environment as changed at line ${at.line}: ${u.why}`}
      return
    }
    if (key.t !== 'str') throw this.failure(mod, at, `TypeError: str expected, not ${typeName(key)}`, 'name environment variables with strings')
    if (value === null) {
      const r = this.readEnv(key, this.site(mod, at), mod, at)
      if ('value' in r && r.value === null) throw this.keyError(mod, at, key.v)
      this.envSet.set(key.v, null)
      return
    }
    if (value.t !== 'str') throw this.failure(mod, at, `TypeError: str expected, not ${typeName(value)}`, 'environment values are strings: write str(value)')
    this.envSet.set(key.v, value.v)
  }

  private fstring(e: Extract<Expr, {k: 'str'}>, mod: ModuleState, env: Map<string, PyValue>): PyValue {
    let out = ''
    for (const p of e.parts ?? []) {
      if ('lit' in p) {
        out += p.lit
        continue
      }
      const site = {file: mod.file ?? '', line: p.line, col: p.col}
      const tail = p.tail ?? ''
      if (tail !== '' && tail !== '!s') {
        return this.opaque(`the f-string field {${p.expr.trim()}${tail}} (conversions and format specs are not evaluated)`, `write {${p.expr.trim()}} or build the text with +`, site)
      }
      const sub = scanModule(`(${p.expr})\n`).stmts[0]
      const ex = sub?.kind === 'expr' && sub.exprs.length === 1 ? sub.exprs[0] : undefined
      if (ex === undefined) return this.opaque(`the f-string field {${p.expr.trim()}}`, 'use a name or a simple expression in the field', site)
      const v = this.eval(relocate(ex, p.line, p.col), mod, env)
      const s = this.toStr(v)
      if (s === undefined) return {t: 'opaque', u: this.unknownOf(v, site, `the f-string field {${p.expr.trim()}} (a ${typeName(v)})`)}
      this.budget.chars(out.length + s.length, 'the f-string')
      out += s
    }
    return str(out)
  }

  // ---- calls ------------------------------------------------------------------------------

  private call(e: Extract<Expr, {k: 'call'}>, mod: ModuleState, env: Map<string, PyValue>): PyValue {
    const site = this.site(mod, e)
    const fn = this.eval(e.fn, mod, env)
    const pos: PyValue[] = []
    const kw = new Map<string, PyValue>()
    let unknownArgs: Unknown | undefined
    for (const a of e.args) {
      const v = this.eval(a.value, mod, env)
      if (a.star === '*') {
        const it = this.iterate(v)
        if (it === undefined) unknownArgs ??= this.unknownOf(v, this.site(mod, a.value), `*${exprLabel(a.value)}`)
        else this.extend(pos, it, 'the arguments')
      } else if (a.star === '**') {
        if (v.t === 'dict' && !v.taint && [...v.map.values()].every((x) => x.key.t === 'str')) {
          for (const x of v.map.values()) kw.set((x.key as {v: string}).v, x.value)
        } else unknownArgs ??= this.unknownOf(v, this.site(mod, a.value), `**${exprLabel(a.value)}`)
      } else if (a.name !== undefined) kw.set(a.name, v)
      else pos.push(v)
    }
    const label = exprLabel(e.fn)
    if (unknownArgs && fn.t === 'ext' && fn.name === 'bentoml.service' && pos.length === 0) {
      // The decorator still applies to its class; what it says is unknown (reported when the build reads it).
      return {t: 'svcdeco', kwargs: kw, site: this.site(mod, e), unknown: {...unknownArgs, why: `the arguments of @bentoml.service(...) cannot be read: ${unknownArgs.why}`}}
    }
    if (unknownArgs) {
      // Arguments bento cannot list: the call's effect on any object it touches is unknown too.
      const u = {...unknownArgs, why: `the arguments of ${label}(...) cannot be read: ${unknownArgs.why}`}
      for (const v of [...pos, ...kw.values()]) this.taint(v, u)
      if (fn.t === 'bound') this.taint(fn.self, u)
      return {t: 'opaque', u}
    }
    return this.invoke(fn, pos, kw, {mod, e, site, label, args: e.args})
  }

  private invoke(fn: PyValue, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const {site, label} = c
    switch (fn.t) {
      case 'ext':
        return this.callExt(fn.name, pos, kw, c)
      case 'builtin':
        return this.callBuiltin(fn.name, pos, kw, c)
      case 'bound':
        return this.callMethod(fn.self, fn.name, pos, kw, c)
      case 'svcdeco':
        if (pos.length === 1 && pos[0]) return this.makeService(pos[0], fn.kwargs, fn.site, pos[0].t === 'class' ? pos[0].cls.site : site, fn.unknown)
        break
      case 'func': {
        const u: Unknown = {
          why: `the result of calling ${label}() (a function defined at ${fn.site.file}:${fn.site.line}), which bento does not run`,
          hint: 'build the image (and the decorator values) at module level: image = bentoml.images.Image(...).run(...), with if/for over constants or bento_args; or move the settings to bentofile.yaml',
          site,
        }
        for (const v of [...pos, ...kw.values()]) this.taint(v, u)
        return {t: 'opaque', u}
      }
      case 'class':
        return this.instantiate(fn.cls, pos, kw, c)
      case 'service':
        return this.opaque(`calling the service class ${fn.svc.className}`, 'do not instantiate services at module level', site)
      case 'opaque': {
        for (const v of [...pos, ...kw.values()]) this.taint(v, fn.u)
        return fn
      }
      default:
        break
    }
    return this.opaque(`calling a ${typeName(fn)}`, 'call functions bento knows (Image methods, str/list/dict methods, builtins)', site)
  }

  private instantiate(cls: ClassValue, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const u: Unknown = {
      why: `an instance of ${cls.name} (defined at ${cls.site.file}:${cls.site.line}), whose code bento does not run`,
      hint: 'use module-level values, or bentoml.use_arguments(Model) for build arguments',
      site: c.site,
    }
    for (const v of [...pos, ...kw.values()]) this.taint(v, u)
    return {t: 'opaque', u}
  }

  private callExt(name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const {site} = c
    switch (name) {
      case 'bentoml.images.Image':
        return this.newImage(pos, kw, c)
      case 'bentoml.service': {
        if (pos.length === 1 && pos[0] && (pos[0].t === 'class' || pos[0].t === 'service')) {
          return this.makeService(pos[0], kw, site, pos[0].t === 'class' ? pos[0].cls.site : site)
        }
        return {t: 'svcdeco', kwargs: kw, site}
      }
      case 'bentoml.use_arguments':
        return this.useArguments(pos[0] ?? kw.get('model'), c)
      case 'bentoml.importing':
        return {t: 'ext', name: 'bentoml.importing()'}
      case 'pydantic.Field': {
        const def = pos[0] ?? kw.get('default')
        const factory = kw.get('default_factory')
        return {t: 'field', def: def?.t === 'ext' && def.name === 'Ellipsis' ? undefined : def, factory}
      }
      default:
        break
    }
    const env = this.callEnv(name, pos, kw, c)
    if (env !== undefined) return env
    const lib = this.callStdlib(name, pos, kw, c)
    if (lib !== undefined) return lib
    if (ENV_MUTATORS.has(name)) {
      this.envChanged ??= {
        why: `a variable of the environment after ${c.label}(...) at line ${c.e.line}, which changes it in a way bento does not follow`,
        hint: 'set the variable in the environment of the build, or write the value literally',
        site,
      }
    }
    if (ENV_READS.has(name) || name.startsWith('os.environ.')) {
      const u = (this.envRead(site) as {u: Unknown}).u
      for (const v of [...pos, ...kw.values()]) this.taint(v, u)
      return {t: 'opaque', u}
    }
    if (name === 'pathlib.Path' || name.startsWith('pathlib.') || name === 'io.open' || name.startsWith('json.load') || name.startsWith('yaml.')) {
      return this.opaque(`the result of ${name}(...) (file I/O)`, 'write the value literally in the module, or in bentofile.yaml', site)
    }
    const u: Unknown = {
      why: `the result of ${c.label}(...) from ${name.split('.')[0] ?? name}, which bento does not run`,
      hint: 'write the value literally (a string, list or dict), or set it in bentofile.yaml',
      site,
    }
    // What an unknown function does to the objects it receives is unknown.
    for (const v of [...pos, ...kw.values()]) this.taint(v, u)
    return {t: 'opaque', u}
  }

  /** `os.getenv(k[, d])`, `os.environ.get(k[, d])`, `os.environ.setdefault(k[, d])`; undefined for other names. */
  private callEnv(name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue | undefined {
    if (name !== 'os.getenv' && name !== 'os.environ.get' && name !== 'os.environ.setdefault') return undefined
    const short = name.slice(name.lastIndexOf('.') + 1)
    const key = pos[0] ?? kw.get('key')
    const dflt = pos[1] ?? kw.get(name === 'os.environ.setdefault' ? 'value' : 'default')
    const extra = [...kw.keys()].find((k) => k !== 'key' && k !== 'default' && k !== 'value')
    if (key === undefined || pos.length > 2 || extra !== undefined) {
      throw this.failure(c.mod, c.e, `TypeError: ${short}() takes 1 or 2 arguments`, `write ${c.label}("NAME", default)`)
    }
    if (dflt?.t === 'opaque') return dflt
    const r = this.readEnv(key, c.site, c.mod, c.e)
    if ('unknown' in r) return r.unknown
    if (r.value !== null) return str(r.value)
    if (name !== 'os.environ.setdefault') return dflt ?? NONE
    this.writeEnv(key, dflt ?? NONE, c.mod, c.e)
    return dflt ?? NONE
  }

  /** `json.dumps`, `json.loads`, `shlex.quote`, `shlex.join`; undefined for other names. */
  private callStdlib(name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue | undefined {
    if (!['json.dumps', 'json.loads', 'shlex.quote', 'shlex.join'].includes(name)) return undefined
    const short = name.slice(name.indexOf('.') + 1)
    for (const v of [...pos, ...kw.values()]) {
      const u = this.unknownIn(v)
      if (u) return {t: 'opaque', u}
    }
    const ops: PyOps = {
      floatRepr: pyFloat,
      intRepr: (v) => pyStr(int(v), this.budget) ?? String(v),
      order: (a, b) => orderOf(a, b, this.budget),
      typeName: pyTypeName,
    }
    const notRun = (what: string): PyValue => this.opaque(`${name}(...) with ${what} (code bento does not run)`, `write the value literally, or call ${name}() without ${what}`, c.site)
    try {
      switch (name) {
        case 'json.dumps': {
          if (pos.length !== 1) throw new PyException('TypeError', `dumps() takes 1 positional argument but ${pos.length} were given`)
          const known = ['skipkeys', 'ensure_ascii', 'check_circular', 'allow_nan', 'indent', 'separators', 'sort_keys']
          for (const k of kw.keys()) {
            if (k === 'default' || k === 'cls') return notRun(`${k}=`)
            if (!known.includes(k)) throw new PyException('TypeError', `__init__() got an unexpected keyword argument '${k}'`)
          }
          const flag = (k: string, d: boolean): boolean => {
            const v = kw.get(k)
            return v === undefined ? d : this.truth(v) ?? d
          }
          const ind = kw.get('indent') ?? NONE
          let indent: string | null
          if (ind.t === 'none') indent = null
          else if (ind.t === 'str') indent = ind.v
          else if (ind.t === 'int' || ind.t === 'bool') {
            const n = BigInt(ind.v)
            this.budget.chars(n, 'the indent of json.dumps()')
            indent = ' '.repeat(n > 0n ? Number(n) : 0)
          } else throw new PyException('TypeError', `can't multiply sequence by non-int of type '${pyTypeName(ind)}'`)
          let itemSeparator = indent === null ? ', ' : ','
          let keySeparator = ': '
          const sep = kw.get('separators')
          if (sep !== undefined && sep.t !== 'none') {
            const it = this.iterate(sep)
            if (it === undefined || it.length !== 2) throw new PyException('ValueError', 'separators must be a pair of strings: (item_separator, key_separator)')
            const [a, b] = it as [PyValue, PyValue]
            if (a.t !== 'str' || b.t !== 'str') throw new PyException('TypeError', 'make_encoder() argument 6 must be str')
            itemSeparator = a.v
            keySeparator = b.v
          }
          const o: DumpsOptions = {
            indent,
            itemSeparator,
            keySeparator,
            sortKeys: flag('sort_keys', false),
            ensureAscii: flag('ensure_ascii', true),
            allowNan: flag('allow_nan', true),
            skipKeys: flag('skipkeys', false),
          }
          return str(jsonDumps(pos[0] as PyValue, o, this.budget, ops))
        }
        case 'json.loads': {
          const s = pos[0] ?? kw.get('s')
          if (kw.size > (pos[0] ? 0 : 1)) return notRun('hooks or options')
          if (s?.t !== 'str') throw new PyException('TypeError', `the JSON object must be str, bytes or bytearray, not ${s ? pyTypeName(s) : 'NoneType'}`)
          return jsonLoads(s.v, this.budget)
        }
        case 'shlex.quote': {
          const s = pos[0] ?? kw.get('s')
          if (s?.t !== 'str') throw new PyException('TypeError', `expected string or bytes-like object, got '${s ? pyTypeName(s) : 'NoneType'}'`)
          this.budget.chars(s.v.length * 5, 'the result of shlex.quote()')
          return str(shlexQuote(s.v))
        }
        default: {
          const it = pos[0] ? this.iterate(pos[0]) : undefined
          if (it === undefined) throw new PyException('TypeError', `'${pos[0] ? pyTypeName(pos[0]) : 'NoneType'}' object is not iterable`)
          const parts: string[] = []
          let n = 0
          for (const x of it) {
            if (x.t !== 'str') throw new PyException('TypeError', `expected string or bytes-like object, got '${pyTypeName(x)}'`)
            n += x.v.length * 5 + 1
            if (n > this.budget.limits.chars) this.budget.chars(n, 'the result of shlex.join()')
            this.budget.charge(Math.ceil(x.v.length / 64) + 1)
            parts.push(shlexQuote(x.v))
          }
          return str(parts.join(' '))
        }
      }
    } catch (e) {
      if (e instanceof PyException) throw this.failure(c.mod, c.e, `${e.type}: ${e.message} (BentoML fails to import the service here too)`, `fix the arguments of ${short}()`)
      throw e
    }
  }

  private newImage(pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const init: ImageInit = {}
    const params = IMAGE_INIT_PARAMS as readonly string[]
    if (pos.length > params.length) throw this.failure(c.mod, c.e, `Image() takes at most ${params.length} positional arguments`, 'pass keyword arguments')
    const given = new Map<string, PyValue>()
    pos.forEach((v, i) => given.set(params[i] as string, v))
    for (const [k, v] of kw) {
      if (!params.includes(k)) throw this.failure(c.mod, c.e, `Image() got an unexpected keyword argument '${k}'`, `Image() takes ${params.join(', ')}`)
      if (given.has(k)) throw this.failure(c.mod, c.e, `Image() got multiple values for argument '${k}'`, 'pass each argument once')
      given.set(k, v)
    }
    for (const [k, v] of given) {
      const u = this.unknownIn(v)
      if (u) return {t: 'opaque', u: {...u, why: `Image(${k}=…): ${u.why}`}}
      const rec = init as Record<string, unknown>
      if (k === 'lock_python_packages' || k === 'pack_git_packages') {
        if (v.t !== 'bool') throw this.failure(c.mod, c.e, `Image(${k}=…) must be True or False`, `write ${k}=False`)
        rec[k] = v.v
      } else if (k === 'commands' || k === 'post_commands' || k === 'build_include_paths') {
        const items = v.t === 'list' || v.t === 'tuple' ? v.items : undefined
        if (items === undefined || items.some((x) => x.t !== 'str')) throw this.failure(c.mod, c.e, `Image(${k}=…) must be a list of strings`, `write ${k}=["..."]`)
        rec[k] = items.map((x) => (x as {v: string}).v)
      } else {
        if (v.t !== 'str') throw this.failure(c.mod, c.e, `Image(${k}=…) must be a string, not a ${typeName(v)}`, `write ${k}="..."`)
        rec[k] = v.v
      }
    }
    try {
      return {t: 'image', img: new Image(init, {files: this.opts.imageFiles, defaultPythonVersion: this.opts.defaultPythonVersion})}
    } catch (err) {
      if (err instanceof ImageRuleError) throw new ImportFailure(err.toDiagnostic(c.site))
      throw err
    }
  }

  private callMethod(self: PyValue, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const {site} = c
    if (self.t === 'image') return this.callImage(self, name, pos, kw, c)
    if (self.t === 'str') return this.callStr(self.v, name, pos, kw, c)
    if (self.t === 'list') {
      switch (name) {
        case 'append':
          if (pos.length === 1 && pos[0]) {
            this.budget.items(self.items.length + 1, 'the list', 1)
            self.items.push(pos[0])
            return NONE
          }
          break
        case 'extend': {
          const it = pos[0] ? this.iterate(pos[0]) : undefined
          if (it === undefined) {
            self.taint ??= this.unknownOf(pos[0] ?? NONE, site)
            return NONE
          }
          this.extend(self.items, it, 'the list')
          return NONE
        }
        case 'insert':
          if (pos.length === 2 && pos[0]?.t === 'int' && pos[1]) {
            const n = self.items.length
            const at = pos[0].v < 0n ? BigInt(n) + pos[0].v : pos[0].v
            const i = at < 0n ? 0 : at > BigInt(n) ? n : Number(at)
            this.budget.items(n + 1, 'the list', 1)
            self.items.splice(i, 0, pos[1])
            return NONE
          }
          break
        case 'copy':
          return {t: 'list', items: [...self.items], ...(self.taint ? {taint: self.taint} : {})}
        default:
          break
      }
      const u: Unknown = {why: `list.${name}(...) is not followed by bento`, hint: 'use append, extend, insert or +', site}
      self.taint ??= u
      return {t: 'opaque', u}
    }
    if (self.t === 'dict') {
      switch (name) {
        case 'get': {
          const k = pos[0]
          if (k && isHashable(k) && !self.taint) return self.map.get(keyOf(k, this.budget))?.value ?? pos[1] ?? NONE
          break
        }
        case 'update': {
          const src = pos[0]
          if (src?.t === 'dict') for (const [k, v] of src.map) self.map.set(k, v)
          else if (src !== undefined) break
          for (const [k, v] of kw) self.map.set(keyOf(str(k), this.budget), {key: str(k), value: v})
          return NONE
        }
        case 'setdefault': {
          const k = pos[0]
          if (k && isHashable(k)) {
            const hit = self.map.get(keyOf(k, this.budget))
            if (hit) return hit.value
            const v = pos[1] ?? NONE
            self.map.set(keyOf(k, this.budget), {key: k, value: v})
            return v
          }
          break
        }
        case 'copy':
          return {t: 'dict', map: new Map(self.map), ...(self.taint ? {taint: self.taint} : {})}
        case 'keys':
          return {t: 'list', items: [...self.map.values()].map((x) => x.key)}
        case 'values':
          return {t: 'list', items: [...self.map.values()].map((x) => x.value)}
        case 'items':
          return {t: 'list', items: [...self.map.values()].map((x) => ({t: 'tuple', items: [x.key, x.value]}) as PyValue)}
        default:
          break
      }
      const u: Unknown = {why: `dict.${name}(...) is not followed by bento`, hint: 'use literal dicts, update() or item assignment', site}
      self.taint ??= u
      return {t: 'opaque', u}
    }
    return this.opaque(`${typeName(self)}.${name}(...)`, 'use values bento can read', site)
  }

  private callImage(self: Extract<PyValue, {t: 'image'}>, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const kwName: Record<string, string> = {requirements_file: 'file_path', pyproject_toml: 'file_path', run: 'command', run_script: 'script'}
    const args = [...pos]
    for (const [k, v] of kw) {
      if (kwName[name] === k && args.length === 0) args.push(v)
      else throw this.failure(c.mod, c.e, `Image.${name}() got an unexpected keyword argument '${k}'`, `pass the argument positionally`)
    }
    for (const a of args) {
      const u = this.unknownIn(a)
      if (u) {
        const t: Unknown = {...u, why: `image.${name}(...) is given a value bento cannot read: ${u.why}`}
        self.taint ??= t
        return self
      }
      if (a.t !== 'str') throw this.failure(c.mod, c.e, `Image.${name}() takes strings, not a ${typeName(a)}`, 'pass strings')
    }
    const s = args.map((a) => (a as {v: string}).v)
    const img = self.img
    const one = (what: string): string => {
      if (s.length !== 1) throw this.failure(c.mod, c.e, `Image.${name}() takes exactly one ${what}`, `call ${name}() once per ${what}`)
      return s[0] as string
    }
    // python_packages lines remember this call's line (src/bentoml/target.ts names it for a bentoml pin).
    img.site = {file: c.site.file, line: c.site.line}
    try {
      switch (name) {
        case 'system_packages':
          img.systemPackages(...s)
          break
        case 'python_packages':
          img.pythonPackages(...s)
          break
        case 'requirements_file':
          img.requirementsFile(one('path'))
          break
        case 'pyproject_toml':
          if (s.length > 1) one('path')
          if (s.length === 0) img.pyprojectToml()
          else img.pyprojectToml(s[0])
          break
        case 'uv_lock':
          if (s.length > 0) throw this.failure(c.mod, c.e, 'Image.uv_lock() takes no arguments', 'call uv_lock()')
          img.uvLockRequirements()
          break
        case 'run':
          img.run(one('command'))
          break
        case 'run_script':
          img.runScript(one('script path'))
          break
        case 'build_include':
          img.buildInclude(...s)
          break
        default:
          throw this.failure(c.mod, c.e, `'Image' object has no attribute '${name}'`, `the image methods are ${Object.keys(Image.METHODS).join(', ')}`)
      }
    } catch (err) {
      if (err instanceof ImageRuleError) throw new ImportFailure(err.toDiagnostic(c.site))
      throw err
    } finally {
      img.site = undefined
    }
    return self
  }

  private callStr(s: string, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const strs = pos.map((p) => (p.t === 'str' ? p.v : undefined))
    const arg0 = strs[0]
    const bad = (): PyValue => this.opaque(`str.${name}(...) with these arguments`, 'use literal strings', c.site)
    switch (name) {
      case 'lower':
        return str(s.toLowerCase())
      case 'upper':
        return str(s.toUpperCase())
      case 'strip':
      case 'lstrip':
      case 'rstrip': {
        const chars = pos.length === 0 || pos[0]?.t === 'none' ? undefined : arg0
        if (pos.length > 0 && chars === undefined && pos[0]?.t !== 'none') return bad()
        return str(pyStrip(s, name, chars))
      }
      case 'replace': {
        const count = pos[2] === undefined ? -1n : pos[2].t === 'int' ? pos[2].v : undefined
        if (pos.length > 3 || kw.size > 0 || arg0 === undefined || strs[1] === undefined || count === undefined) return bad()
        return str(this.replace(s, arg0, strs[1], count))
      }
      case 'startswith':
      case 'endswith':
        if (arg0 === undefined) return bad()
        return bool(name === 'startswith' ? s.startsWith(arg0) : s.endsWith(arg0))
      case 'removeprefix':
        return arg0 === undefined ? bad() : str(s.startsWith(arg0) ? s.slice(arg0.length) : s)
      case 'removesuffix':
        return arg0 === undefined ? bad() : str(arg0 !== '' && s.endsWith(arg0) ? s.slice(0, -arg0.length) : s)
      case 'split': {
        if (pos.length > 1 || kw.size > 0) return bad()
        this.budget.charge(Math.ceil(s.length / 64))
        const parts = pos.length === 0 || pos[0]?.t === 'none' ? s.split(/\s+/).filter((x) => x !== '') : arg0 === undefined || arg0 === '' ? undefined : s.split(arg0)
        if (parts === undefined) return bad()
        this.budget.items(parts.length, 'the result of str.split()')
        return {t: 'list', items: parts.map(str)}
      }
      case 'join': {
        const it = pos[0] ? this.iterate(pos[0]) : undefined
        if (it === undefined || it.some((x) => x.t !== 'str')) return it === undefined && pos[0] ? {t: 'opaque', u: this.unknownOf(pos[0], c.site)} : bad()
        let n = Math.max(0, it.length - 1) * s.length
        for (const x of it) n += (x as {v: string}).v.length
        this.budget.chars(n, 'the result of str.join()')
        return str(it.map((x) => (x as {v: string}).v).join(s))
      }
      case 'format':
        return this.strFormat(s, pos, kw, c)
      default:
        return bad()
    }
  }

  private strFormat(s: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    let auto = 0
    let out = ''
    const re = /\{\{|\}\}|\{([^{}]*)\}/g
    let last = 0
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      out += s.slice(last, m.index)
      last = m.index + m[0].length
      if (m[0] === '{{' || m[0] === '}}') {
        out += m[0][0]
        continue
      }
      const field = m[1] ?? ''
      if (/[!:.[]/.test(field)) return this.opaque(`the format field {${field}}`, 'use plain {} or {name} fields', c.site)
      const v = field === '' ? pos[auto++] : /^\d+$/.test(field) ? pos[Number(field)] : kw.get(field)
      if (v === undefined) throw this.failure(c.mod, c.e, `str.format(): no value for {${field}}`, 'pass a value for every field')
      const t = this.toStr(v)
      if (t === undefined) return {t: 'opaque', u: this.unknownOf(v, c.site)}
      this.budget.chars(out.length + t.length, 'the result of str.format()')
      out += t
    }
    return str(out + s.slice(last))
  }

  private callBuiltin(name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const {site} = c
    const a = pos[0]
    const unknown = [...pos, ...kw.values()].find((p) => p.t === 'opaque')
    if (unknown?.t === 'opaque') return unknown
    switch (name) {
      case 'print':
        return NONE
      case 'len': {
        if (a?.t === 'str') return int([...a.v].length)
        if ((a?.t === 'list' && !a.taint) || a?.t === 'tuple') return int(a.items.length)
        if (a?.t === 'dict' && !a.taint) return int(a.map.size)
        break
      }
      case 'str':
      case 'repr': {
        if (a === undefined) return str('')
        const s = name === 'str' ? this.toStr(a) : this.toRepr(a)
        if (s !== undefined) return str(s)
        break
      }
      case 'int': {
        const base = pos[1] ?? kw.get('base')
        if (base !== undefined) {
          if (a?.t !== 'str' || (base.t !== 'int' && base.t !== 'bool')) break
          const b = BigInt(base.v)
          if (b !== 0n && (b < 2n || b > 36n)) throw this.failure(c.mod, c.e, 'ValueError: int() base must be >= 2 and <= 36, or 0', 'use a base from 2 to 36')
          const r = parseIntBase(a.v, Number(b))
          if (r === undefined) throw this.failure(c.mod, c.e, `ValueError: invalid literal for int() with base ${b}: ${pyRepr(a)}`, 'pass digits of that base')
          return int(r)
        }
        if (a?.t === 'int' || a?.t === 'bool') return int(BigInt(a.v))
        if (a?.t === 'float') {
          if (!Number.isFinite(a.v)) throw this.failure(c.mod, c.e, `cannot convert float ${pyFloat(a.v)} to integer`, 'pass a finite number')
          return int(BigInt(Math.trunc(a.v)))
        }
        if (a?.t === 'str') {
          this.budget.chars(a.v.length, 'the text given to int()')
          const r = parseIntBase(a.v, 10)
          if (r === undefined) throw this.failure(c.mod, c.e, `invalid literal for int() with base 10: ${pyRepr(a)}`, 'pass digits')
          return int(r)
        }
        break
      }
      case 'float':
        if (a?.t === 'int' || a?.t === 'bool') return {t: 'float', v: Number(a.v)}
        if (a?.t === 'float') return a
        if (a?.t === 'str') {
          const f = parseFloatText(a.v)
          if (f !== undefined) return {t: 'float', v: f}
          throw this.failure(c.mod, c.e, `could not convert string to float: ${pyRepr(a)}`, 'pass a number')
        }
        break
      case 'bool': {
        if (a === undefined) return FALSE
        const b = this.truth(a)
        if (b !== undefined) return bool(b)
        break
      }
      case 'list':
      case 'tuple': {
        if (a === undefined) return name === 'list' ? {t: 'list', items: []} : {t: 'tuple', items: []}
        const it = this.iterate(a)
        if (it !== undefined) {
          this.budget.items(it.length, `the ${name}`)
          return name === 'list' ? {t: 'list', items: [...it]} : {t: 'tuple', items: [...it]}
        }
        return {t: 'opaque', u: this.unknownOf(a, site)}
      }
      case 'dict': {
        const map = new Map<string, {key: PyValue; value: PyValue}>()
        if (a?.t === 'dict') {
          this.budget.items(a.map.size, 'the dict')
          for (const [k, v] of a.map) map.set(k, v)
        } else if (a !== undefined) break
        for (const [k, v] of kw) map.set(keyOf(str(k), this.budget), {key: str(k), value: v})
        return {t: 'dict', map}
      }
      case 'sorted': {
        const it = a ? this.iterate(a) : undefined
        if (it && kw.size === 0 && (it.every((x) => x.t === 'str') || it.every((x) => x.t === 'int' || x.t === 'float' || x.t === 'bool'))) {
          this.budget.items(it.length, 'the sorted list')
          this.budget.charge(Math.ceil(it.length * Math.log2(it.length + 1)))
          return {t: 'list', items: [...it].sort((x, y) => orderOf(x, y) ?? 0)}
        }
        break
      }
      case 'reversed': {
        const it = a ? this.iterate(a) : undefined
        if (it) {
          this.budget.items(it.length, 'the reversed list')
          return {t: 'list', items: [...it].reverse()}
        }
        break
      }
      case 'range': {
        const ns = pos.map((p) => (p.t === 'int' ? p.v : p.t === 'bool' ? BigInt(p.v) : undefined))
        if (kw.size === 0 && ns.length >= 1 && ns.length <= 3 && ns.every((x) => x !== undefined)) {
          const [start, stop, step] = ns.length === 1 ? [0n, ns[0] as bigint, 1n] : [ns[0] as bigint, ns[1] as bigint, ns[2] ?? 1n]
          if (step === 0n) throw this.failure(c.mod, c.e, 'range() arg 3 must not be zero', 'use a non-zero step')
          const span = step > 0n ? stop - start : start - stop
          const abs = step > 0n ? step : -step
          const n = span <= 0n ? 0n : (span + abs - 1n) / abs
          this.budget.items(n, 'the range')
          const items: PyValue[] = []
          for (let i = 0n; i < n; i++) items.push(int(start + i * step))
          return {t: 'list', items}
        }
        break
      }
      case 'enumerate': {
        const it = a ? this.iterate(a) : undefined
        const s0 = pos[1] ?? kw.get('start') ?? int(0)
        if (it && (s0.t === 'int' || s0.t === 'bool') && pos.length <= 2) {
          const start = BigInt(s0.v)
          this.budget.items(it.length, 'the enumeration')
          return {t: 'list', items: it.map((x, i) => ({t: 'tuple', items: [int(start + BigInt(i)), x]}) as PyValue)}
        }
        break
      }
      case 'zip': {
        if (pos.length === 0) return {t: 'list', items: []}
        const its = pos.map((p) => this.iterate(p))
        if (kw.size === 0 && its.every((x) => x !== undefined)) {
          let n = Infinity
          for (const x of its) n = Math.min(n, (x as PyValue[]).length)
          this.budget.items(n * its.length, 'the result of zip()')
          return {t: 'list', items: Array.from({length: n}, (_, i) => ({t: 'tuple', items: its.map((x) => (x as PyValue[])[i] as PyValue)}) as PyValue)}
        }
        break
      }
      case 'any':
      case 'all': {
        const it = a ? this.iterate(a) : undefined
        if (it) {
          this.budget.charge(it.length)
          // As Python: the first true (any) / false (all) item decides; an unknown one before it leaves it unknown.
          for (const x of it) {
            const b = this.truth(x)
            if (b === undefined) return {t: 'opaque', u: this.unknownOf(x, site)}
            if (name === 'any' ? b : !b) return bool(name === 'any')
          }
          return bool(name === 'all')
        }
        break
      }
      case 'min':
      case 'max': {
        const it = pos.length === 1 && a ? this.iterate(a) : pos
        if (kw.size === 0 && it && it.length > 0 && it.every((x) => x.t === 'int' || x.t === 'float' || x.t === 'bool')) {
          this.budget.charge(it.length)
          let best = it[0] as PyValue
          for (const x of it.slice(1)) {
            const o = orderOf(x, best) ?? 0
            if (name === 'min' ? o < 0 : o > 0) best = x
          }
          return best
        }
        break
      }
      case 'abs':
        if (a?.t === 'int') return int(a.v < 0n ? -a.v : a.v)
        if (a?.t === 'bool') return int(BigInt(a.v))
        if (a?.t === 'float') return {t: 'float', v: Math.abs(a.v)}
        break
      case 'open':
        return this.opaque('the result of open(...) (file I/O)', 'write the value literally, or use bentofile.yaml (python.requirements_txt, …)', site)
      default:
        break
    }
    return this.opaque(`${name}(...) with these arguments`, 'use literals', site)
  }

  private useArguments(model: PyValue | undefined, c: CallCtx): PyValue {
    const args = this.opts.args
    if (model === undefined || model.t === 'none') {
      const fields = new Map<string, PyValue>()
      for (const [k, v] of Object.entries(args)) fields.set(k, fromJson(v))
      return {t: 'args', cls: null, fields, site: c.site}
    }
    if (model.t !== 'class') {
      return {t: 'opaque', u: this.unknownOf(model, c.site, `bentoml.use_arguments() of a ${typeName(model)}`)}
    }
    const cls = model.cls
    const fields = new Map<string, PyValue>()
    const errors: string[] = []
    for (const f of modelFields(cls)) {
      const given = Object.prototype.hasOwnProperty.call(args, f.name) ? args[f.name] : undefined
      if (given !== undefined) {
        const r = coerce(fromJson(given), f.annotation)
        if (typeof r === 'string') errors.push(`${f.name}\n  ${r}`)
        else fields.set(f.name, r)
        continue
      }
      const d = f.default
      if (d === undefined) errors.push(`${f.name}\n  Field required`)
      else if (d.t === 'field') {
        if (d.def !== undefined) fields.set(f.name, d.def)
        else if (d.factory?.t === 'builtin' && (d.factory.name === 'list' || d.factory.name === 'dict')) {
          fields.set(f.name, d.factory.name === 'list' ? {t: 'list', items: []} : {t: 'dict', map: new Map()})
        } else if (d.factory !== undefined) {
          fields.set(f.name, this.opaque(`the default_factory of argument ${f.name}`, 'give the field a literal default', c.site))
        } else errors.push(`${f.name}\n  Field required`)
      } else fields.set(f.name, d)
    }
    if (errors.length > 0) {
      throw new ImportFailure({
        ...c.site,
        severity: 'error',
        message: `Argument error. Please provide correct arguments via --arg option: ${errors.length} validation error${errors.length > 1 ? 's' : ''} for ${cls.name}\n${errors.join('\n')}`,
        hint: 'pass the arguments with --arg KEY=VALUE or --arg-file FILE.yaml, or as args: in bentofile.yaml',
      })
    }
    return {t: 'args', cls, fields, site: c.site}
  }

  // ---- values -----------------------------------------------------------------------------

  truth(v: PyValue): boolean | undefined {
    switch (v.t) {
      case 'none':
        return false
      case 'bool':
        return v.v
      case 'int':
      case 'float':
        return v.v !== 0
      case 'str':
        return v.v !== ''
      case 'list':
        return v.taint ? undefined : v.items.length > 0
      case 'tuple':
        return v.items.length > 0
      case 'dict':
        return v.taint ? undefined : v.map.size > 0
      case 'opaque':
        return undefined
      default:
        return true
    }
  }

  /** Items of a known sequence (dict → keys), or undefined. */
  iterate(v: PyValue): PyValue[] | undefined {
    switch (v.t) {
      case 'list':
        return v.taint ? undefined : v.items
      case 'tuple':
        return v.items
      case 'str':
        this.budget.items(v.v.length, 'the characters of the string')
        return [...v.v].map(str)
      case 'dict':
        return v.taint ? undefined : [...v.map.values()].map((x) => x.key)
      default:
        return undefined
    }
  }

  /** The Unknown behind a value that cannot be used, for messages. */
  unknownOf(v: PyValue, site: Site, what?: string): Unknown {
    if (v.t === 'opaque') return v.u
    if ((v.t === 'list' || v.t === 'dict' || v.t === 'image') && v.taint) return v.taint
    return {why: what ?? `a ${typeName(v)} here`, hint: 'use a list, tuple or string', site}
  }

  /** The first Unknown inside a value (deep), if any. */
  unknownIn(v: PyValue): Unknown | undefined {
    const seen = new Set<PyValue>()
    const walk = (x: PyValue): Unknown | undefined => {
      if (seen.has(x)) return undefined
      seen.add(x)
      switch (x.t) {
        case 'opaque':
          return x.u
        case 'list':
          return x.taint ?? firstOf(x.items, walk)
        case 'tuple':
          return firstOf(x.items, walk)
        case 'dict':
          return x.taint ?? firstOf([...x.map.values()].flatMap((e) => [e.key, e.value]), walk)
        case 'image':
          return x.taint
        default:
          return undefined
      }
    }
    return walk(v)
  }

  /** Mark a tracked object (and the tracked objects inside it) as changed by code bento does not run. */
  taint(v: PyValue, u: Unknown): void {
    const seen = new Set<PyValue>()
    const walk = (x: PyValue): void => {
      if (seen.has(x)) return
      seen.add(x)
      if (x.t === 'list') {
        x.taint ??= u
        x.items.forEach(walk)
      } else if (x.t === 'dict') {
        x.taint ??= u
        for (const e of x.map.values()) walk(e.value)
      } else if (x.t === 'image') x.taint ??= u
      else if (x.t === 'tuple') x.items.forEach(walk)
    }
    walk(v)
  }

  toStr(v: PyValue): string | undefined {
    return pyStr(v, this.budget)
  }

  toRepr(v: PyValue): string | undefined {
    return pyReprValue(v, this.budget)
  }

  /** Python's `s.replace(old, new, count)` (count < 0: all), its size checked first. */
  private replace(s: string, old: string, rep: string, count: bigint): string {
    if (old === '') {
      // Python inserts `rep` before every character and at the end (code points), `count` times at most.
      const chars = [...s]
      const n = count < 0n || count > BigInt(chars.length + 1) ? chars.length + 1 : Number(count)
      this.budget.chars(s.length + n * rep.length, 'the result of str.replace()')
      let out = ''
      for (let i = 0; i < chars.length; i++) out += (i < n ? rep : '') + (chars[i] as string)
      return n > chars.length ? out + rep : out
    }
    const pieces = s.split(old)
    const n = count < 0n || count >= BigInt(pieces.length - 1) ? pieces.length - 1 : Number(count)
    this.budget.chars(s.length + n * (rep.length - old.length), 'the result of str.replace()')
    return pieces.slice(0, n + 1).join(rep) + (n < pieces.length - 1 ? old + pieces.slice(n + 1).join(old) : '')
  }

  /** `target.extend(items)`, its size checked first (and no spread: a million items overflow the JS stack). */
  private extend(target: PyValue[], items: readonly PyValue[], what: string): void {
    this.budget.items(target.length + items.length, what, items.length)
    for (const x of items) target.push(x)
  }

  private binop(op: string, l: PyValue, r: PyValue, at: {line: number; col: number}, mod: ModuleState): PyValue {
    const site = this.site(mod, at)
    if (l.t === 'opaque') return l
    if (r.t === 'opaque') return r
    const b = this.budget
    switch (op) {
      case '+':
        if (l.t === 'str' && r.t === 'str') {
          b.chars(l.v.length + r.v.length, 'the string')
          return str(l.v + r.v)
        }
        if (l.t === 'list' && r.t === 'list') {
          if (l.taint || r.taint) return {t: 'opaque', u: (l.taint ?? r.taint) as Unknown}
          const items: PyValue[] = []
          this.extend(items, l.items, 'the list')
          this.extend(items, r.items, 'the list')
          return {t: 'list', items}
        }
        if (l.t === 'tuple' && r.t === 'tuple') {
          const items: PyValue[] = []
          this.extend(items, l.items, 'the tuple')
          this.extend(items, r.items, 'the tuple')
          return {t: 'tuple', items}
        }
        break
      case '*': {
        const [seq, times] = (l.t === 'str' || l.t === 'list' || l.t === 'tuple') && (r.t === 'int' || r.t === 'bool') ? [l, BigInt(r.v)] : (r.t === 'str' || r.t === 'list' || r.t === 'tuple') && (l.t === 'int' || l.t === 'bool') ? [r, BigInt(l.v)] : [undefined, 0n]
        if (seq !== undefined) {
          const n = times < 0n ? 0n : times
          if (seq.t === 'str') {
            b.chars(BigInt(seq.v.length) * n, 'the string')
            return str(seq.v.repeat(Number(n)))
          }
          if (seq.t === 'list' && seq.taint) return {t: 'opaque', u: seq.taint}
          b.items(BigInt(seq.items.length) * n, `the ${seq.t}`)
          const items: PyValue[] = []
          for (let i = 0n; i < n; i++) for (const x of seq.items) items.push(x)
          return {t: seq.t, items}
        }
        break
      }
      case '|':
        if (l.t === 'dict' && r.t === 'dict') {
          b.items(l.map.size + r.map.size, 'the dict')
          return {t: 'dict', map: new Map([...l.map, ...r.map])}
        }
        break
      default:
        break
    }
    const num = this.arith(op, l, r, at, mod)
    if (num !== undefined) return num
    return this.opaque(`${typeName(l)} ${op} ${typeName(r)}`, 'use + on strings or lists, or arithmetic on numbers', site)
  }

  /** Arithmetic as Python's: exact ints (bigint, floor division and modulo), floats as IEEE doubles. */
  private arith(op: string, l: PyValue, r: PyValue, at: {line: number; col: number}, mod: ModuleState): PyValue | undefined {
    const intOf = (x: PyValue): bigint | undefined => (x.t === 'int' ? x.v : x.t === 'bool' ? BigInt(x.v) : undefined)
    const li = intOf(l)
    const ri = intOf(r)
    const zero = (): never => {
      throw this.failure(mod, at, op === '/' ? 'ZeroDivisionError: division by zero' : op === '**' ? 'ZeroDivisionError: 0.0 cannot be raised to a negative power' : 'ZeroDivisionError: integer division or modulo by zero', 'do not divide by zero')
    }
    if (li !== undefined && ri !== undefined) {
      const digits = (x: bigint): number => (x < 0n ? -x : x).toString(16).length * 1.21
      const limit = this.budget.limits.intDigits
      const big = (n: number): void => {
        if (n > limit) throw new BudgetExceeded('size', `the integer is too large: ${Number.isFinite(n) ? `about ${Math.round(n).toLocaleString('en-US')}` : 'millions of'} digits (bento evaluates integers up to ${limit.toLocaleString('en-US')} digits); write the value as a literal`)
        this.budget.charge(Math.ceil(n / 16))
      }
      switch (op) {
        case '+':
          return int(li + ri)
        case '-':
          return int(li - ri)
        case '*':
          big(digits(li) + digits(ri))
          return int(li * ri)
        case '//':
        case '%': {
          if (ri === 0n) zero()
          let q = li / ri
          if (li % ri !== 0n && li < 0n !== ri < 0n) q -= 1n
          return int(op === '//' ? q : li - ri * q)
        }
        case '/':
          if (ri === 0n) zero()
          return {t: 'float', v: Number(li) / Number(ri)}
        case '**':
          if (ri < 0n) {
            if (li === 0n) zero()
            return {t: 'float', v: Number(li) ** Number(ri)}
          }
          if (li === 0n || li === 1n || li === -1n) return int(li ** ri)
          big(ri > 10_000_000n ? Infinity : digits(li) * Number(ri))
          return int(li ** ri)
        case '<<':
          if (ri < 0n) throw this.failure(mod, at, 'ValueError: negative shift count', 'shift by a positive count')
          big(ri > 10_000_000n ? Infinity : digits(li) + Number(ri) * 0.31)
          return int(li << ri)
        case '>>':
          if (ri < 0n) throw this.failure(mod, at, 'ValueError: negative shift count', 'shift by a positive count')
          return int(li >> ri)
        case '&':
          return int(li & ri)
        case '|':
          return int(li | ri)
        case '^':
          return int(li ^ ri)
        default:
          return undefined
      }
    }
    const fl = l.t === 'float' ? l.v : li !== undefined ? Number(li) : undefined
    const fr = r.t === 'float' ? r.v : ri !== undefined ? Number(ri) : undefined
    if (fl === undefined || fr === undefined) return undefined
    switch (op) {
      case '+':
        return {t: 'float', v: fl + fr}
      case '-':
        return {t: 'float', v: fl - fr}
      case '*':
        return {t: 'float', v: fl * fr}
      case '/':
        if (fr === 0) zero()
        return {t: 'float', v: fl / fr}
      case '//':
        if (fr === 0) zero()
        return {t: 'float', v: Math.floor(fl / fr)}
      case '%': {
        if (fr === 0) zero()
        const m = fl % fr
        return {t: 'float', v: m !== 0 && m < 0 !== fr < 0 ? m + fr : m}
      }
      case '**':
        if (fl === 0 && fr < 0) zero()
        if (fl < 0 && !Number.isInteger(fr)) return undefined // a complex number
        return {t: 'float', v: fl ** fr}
      default:
        return undefined
    }
  }

  compare(op: string, l: PyValue, r: PyValue): boolean | undefined {
    if (l.t === 'opaque' || r.t === 'opaque') return undefined
    switch (op) {
      case '==':
        return pyEquals(l, r, this.budget)
      case '!=': {
        const e = pyEquals(l, r, this.budget)
        return e === undefined ? undefined : !e
      }
      case 'is':
      case 'is not': {
        if (!(l.t === 'none' || l.t === 'bool' || r.t === 'none' || r.t === 'bool')) return undefined
        const same = l.t === r.t && (l.t === 'none' || (l as {v: boolean}).v === (r as {v: boolean}).v)
        return op === 'is' ? same : !same
      }
      case 'in':
      case 'not in': {
        let hit: boolean | undefined
        if (r.t === 'str' && l.t === 'str') {
          this.budget.charge(Math.ceil(r.v.length / 64))
          hit = r.v.includes(l.v)
        } else if ((r.t === 'list' && !r.taint) || r.t === 'tuple') {
          // As Python's: the first item that is (identical or) equal decides; an unknown comparison before it leaves it unknown.
          hit = false
          for (const x of r.items) {
            const e = x === l ? true : pyEquals(l, x, this.budget)
            if (e === undefined) {
              hit = undefined
              break
            }
            if (e) {
              hit = true
              break
            }
          }
        } else if (r.t === 'dict' && !r.taint && isHashable(l)) hit = r.map.has(keyOf(l, this.budget))
        if (hit === undefined) return undefined
        return op === 'in' ? hit : !hit
      }
      default: {
        const o = orderOf(l, r, this.budget)
        if (o === undefined) return undefined
        switch (op) {
          case '<':
            return o < 0
          case '<=':
            return o <= 0
          case '>':
            return o > 0
          case '>=':
            return o >= 0
          default:
            return undefined
        }
      }
    }
  }
}

interface CallCtx {
  mod: ModuleState
  e: Extract<Expr, {k: 'call'}>
  site: Site
  label: string
  args: Arg[]
}
