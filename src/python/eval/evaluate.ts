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
import type {ImageFiles} from '../../bentoml/image.js'
import type {Diagnostic} from '../../errors.js'
import {Budget, BudgetExceeded} from './budget.js'
import {type Expr, type Param, parseModule, type Stmt, stmtExprs, walkExpr} from '../parse/index.js'
import {type ClassValue, type FuncDef, type ModuleState, type PyValue, Scope, type ServiceValue, type Site, type Unknown} from './values.js'

import {bool, FALSE, fromJson, int, isHashable, keyOf, NONE, parseNumber, pyReprValue, pyStr, str, toJson, TRUE, typeName} from './pyops.js'
import {classLookup, MODEL_VALIDATOR} from './pydantic.js'
import {callBuiltin, excChain, isBuiltinName} from './builtins.js'
import {canonicalExt, callImage, convertEnvs, ENV_MUTATORS, ENV_READS, extValue, hfModel, newImage} from './bentoml.js'
import type {CallCtx, EvaluatedHfModel, Runtime} from './context.js'
import {bindMember, callFunction, decorateFunction, hasUnknownBase, instantiate, modelInstance, pydanticCall, superOf} from './objects.js'
import {BuildEnviron, type DotenvFinder, type EnvRead} from './environ.js'
import {binop, compare, iterateValue, makeSet, sliceValue, taintValue, truthOf, unknownIn, unknownOf} from './operators.js'
import {getAttr, setAttr, subscript} from './attributes.js'
import {comprehension, fstring} from './comprehensions.js'
import {ImportFailure, PyRaise, Return, Signal} from './signals.js'
import {execChain, skipUnknown} from './statements.js'
import {callStdlib} from './stdlib-calls.js'
import {callStr, dictMethod, listMethod, setMethod, tupleMethod} from './methods.js'
import {describeOps, exprLabel} from './ast-text.js'

export type {ClassValue, ModuleState, PyValue, ServiceValue, Site, Unknown} from './values.js'
export type {EvaluatedHfModel} from './context.js'
export type {EnvRead} from './environ.js'
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
  /**
   * `load_dotenv()` without arguments (python-dotenv): the `.env` it finds for a module file — the nearest one from
   * the module's directory up to the build context — with its variables (or the line bento does not model); null:
   * there is none. Not given: the call changes the environment in a way bento does not follow.
   */
  dotenv?: DotenvFinder
}


export interface Evaluation {
  /**
   * `bentoml.models.HuggingFaceModel(...)` calls the import ran, by `file:line:col` of the call (as the service
   * reader keys model references), with their arguments — or why they cannot be known.
   */
  hfModels: Map<string, EvaluatedHfModel | Unknown>
  /** Every `@bentoml.service` class applied while executing, keyed `file:line` of its `class` statement. */
  services: Map<string, ServiceValue>
  modules: Map<string, ModuleState | null>
  /** Errors BentoML would raise while importing (an image rule broken, an argument error, …). */
  diagnostics: Diagnostic[]
  /** Every variable of `environ` the module read, sorted by name. */
  envRead: EnvRead[]
  /** What the class bodies computed, by expression (Evaluations.classValue), and by `file:line:col:kind`. */
  classValues: WeakMap<Expr, PyValue>
  classValuesAt: Map<string, PyValue>
}

// ---------------------------------------------------------------------------------------------



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
      ev.diagnostics.push(e.diagnostic ?? {
        ...e.site,
        severity: 'error',
        message: `${e.type}${e.message === '' ? '' : `: ${e.message}`} (BentoML fails to import the service here)`,
        hint: e.type === 'ImportError' || e.type === 'ModuleNotFoundError'
          ? 'local modules must be inside the build context (and included by the bentofile); relative imports need a package'
          : 'the service module must import without errors for BentoML to build it',
      })
    } else if (e instanceof Return || e instanceof Signal) {
      // `return`, `break` or `continue` outside a function or loop: CPython's SyntaxError.
      ev.diagnostics.push({...ev.at, severity: 'error', message: 'SyntaxError: \'return\', \'break\' or \'continue\' outside a function or loop', hint: 'BentoML cannot import the module'})
    } else throw e
  }
  const envRead = [...ev.environ.reads.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return {services: ev.services, modules: ev.modules, diagnostics: ev.diagnostics, envRead, hfModels: ev.hfModels, classValues: ev.classValues, classValuesAt: ev.classValuesAt}
}

/**
 * The module evaluations of one build, each run once and shared: the Hugging Face reader (a computed model id), the
 * schema (a computed default, example or bound) and the decorators (sdk-config) ask the same evaluation of a module
 * — same files, arguments, environment, image files and `.env` files — instead of importing it again.
 */
export class Evaluations {
  private readonly done = new Map<string, Evaluation>()
  /** How many times each module was evaluated (1 at most: the cache; tests count it). */
  readonly runs = new Map<string, number>()

  constructor(private readonly opts: Omit<EvaluateOptions, 'module'>) {}

  of(module: string): Evaluation {
    let evaluation = this.done.get(module)
    if (evaluation === undefined) {
      evaluation = evaluateModule({...this.opts, module})
      this.done.set(module, evaluation)
      this.runs.set(module, (this.runs.get(module) ?? 0) + 1)
    }
    return evaluation
  }

  /**
   * The JSON value of an expression of a class body as `module`'s import computed it (a pydantic field's
   * `Field(default=get_config().beam_size)`), or why it is unknown; undefined when the import never evaluated it.
   */
  classValue(module: string, e: Expr, file: string): {ok: true; value: unknown} | {ok: false; why: string} | undefined {
    const evaluation = this.of(module)
    const v = evaluation.classValues.get(e) ?? evaluation.classValuesAt.get(`${file}:${e.line}:${e.col}:${e.k}`)
    if (v === undefined) return undefined
    const r = toJson(jsonDefault(v), {file: '', line: e.line, col: e.col})
    return 'value' in r ? {ok: true, value: r.value} : {ok: false, why: r.unknown.why}
  }
}

/** A pydantic model instance as pydantic writes it into a JSON schema default (its fields, `model_dump(mode="json")`). */
function jsonDefault(v: PyValue): PyValue {
  if (v.t !== 'instance') return v
  const map = new Map<string, {key: PyValue; value: PyValue}>()
  for (const [k, x] of v.attrs) map.set(`s:${k}`, {key: str(k), value: jsonDefault(x)})
  return {t: 'dict', map} as PyValue
}

/** `key` of a service class in `Evaluation.services`. */
export function serviceKey(file: string, line: number): string {
  return `${file}:${line}`
}

class Evaluator implements Runtime {
  readonly modules = new Map<string, ModuleState | null>()
  readonly services = new Map<string, ServiceValue>()
  readonly hfModels = new Map<string, EvaluatedHfModel | Unknown>()
  /** The value of every expression evaluated in a class body, by the (shared, parsed-once) expression node. */
  readonly classValues = new WeakMap<Expr, PyValue>()
  readonly classValuesAt = new Map<string, PyValue>()
  readonly imageOptions: {files?: ImageFiles; defaultPythonVersion?: string}
  readonly diagnostics: Diagnostic[] = []
  private readonly dirs = new Set<string>()
  readonly budget = new Budget()
  /** Where evaluation is (the statement or expression last started), for budget errors. */
  at: Site = {file: '', line: 0, col: 0}
  /** `os.environ` as the module sees it, and what it read. */
  readonly environ: BuildEnviron
  /** The user functions being called, innermost last (recursion depth, zero-argument `super()`). */
  readonly frames: Array<{fn: FuncDef; local: Scope}> = []
  /** The exceptions being handled (`except` bodies), innermost last: a bare `raise` re-raises the last. */
  readonly handling: PyRaise[] = []
  /** `global`/`nonlocal` names of each function body, found once. */
  readonly declCache = new WeakMap<Stmt[], {globals: Set<string>; nonlocals: Set<string>}>()

  constructor(private readonly opts: EvaluateOptions) {
    this.environ = new BuildEnviron(this, opts.environ, opts.dotenv)
    this.imageOptions = {...(opts.imageFiles ? {files: opts.imageFiles} : {}), ...(opts.defaultPythonVersion ? {defaultPythonVersion: opts.defaultPythonVersion} : {})}
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

  opaque(why: string, hint: string, site: Site): PyValue {
    return {t: 'opaque', u: {why, hint, site}}
  }

  // ---- statements -------------------------------------------------------------------------

  /** Execute statements in `mod` (class bodies pass their namespace as `ns`); if/for/try chains across siblings. */
  execBlock(stmts: Stmt[], mod: ModuleState, ns: Map<string, PyValue> | null): void {
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
        execChain(this, chain, mod, env, ns)
      } else this.exec(s, mod, ns)
    }
  }



  skipUnknown(stmts: Stmt[], mod: ModuleState, env: Map<string, PyValue>, u: Unknown): void {
    skipUnknown(this, stmts, mod, env, u)
  }


  tick(mod: ModuleState, s: {line: number; col: number}): void {
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
          if (n.asName !== undefined) this.setName(env, mod, n.asName, this.moduleValue(n.module))
          else this.setName(env, mod, top, this.moduleValue(top))
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
        const fn: FuncDef = {
          name: s.name,
          params: s.parameters,
          defaults: this.evalDefaults(s.parameters, mod, env),
          body: s.body,
          mod: this.modules.get(mod.name) ?? mod,
          closure: closureOf(env, mod),
          site: this.site(mod, s),
          isAsync: s.isAsync,
          isGenerator: yields(s.body),
        }
        let value: PyValue = {t: 'func', fn}
        for (const d of [...s.decorators].reverse()) value = decorateFunction(this, d, value, mod, env)
        this.setName(env, mod, s.name, value)
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
    throw this.pyRaise('ModuleNotFoundError', `No module named '${name}'`, this.site(mod, s))
  }

  /** A Python exception of a builtin type, raised at `site`. */
  private pyRaise(type: string, message: string, site: Site, diagnostic?: Diagnostic): PyRaise {
    const text = message.replace(/ \(BentoML fails to import the service here( too)?\)$/, '')
    return new PyRaise(type, message, site, {t: 'exc', type, chain: excChain(type), args: [str(text)], text}, diagnostic)
  }

  /** Bind a name in the scope a statement runs in (`global`/`nonlocal` declarations followed). */
  private setName(env: Map<string, PyValue>, mod: ModuleState, id: string, v: PyValue): void {
    if (env instanceof Scope) {
      if (env.globals.has(id)) {
        mod.env.set(id, v)
        return
      }
      if (env.nonlocals.has(id)) {
        for (let e = env.parent; e; e = e instanceof Scope ? e.parent : null) {
          if (e.has(id)) {
            e.set(id, v)
            return
          }
        }
      }
    }
    env.set(id, v)
  }

  /** Parameter defaults, evaluated when the `def` (or `lambda`) runs, as CPython does. */
  private evalDefaults(params: Param[], mod: ModuleState, env: Map<string, PyValue>): Map<string, PyValue> {
    const out = new Map<string, PyValue>()
    for (const p of params) if (p.default) out.set(p.name, this.eval(p.default, mod, env))
    return out
  }


  /** A call context for calls the interpreter makes itself (decorators, key functions, properties). */
  callCtx(mod: ModuleState, at: Expr, label = exprLabel(at)): CallCtx {
    const e: Extract<Expr, {k: 'call'}> = at.k === 'call' ? at : {k: 'call', fn: at, args: [], line: at.line, col: at.col}
    return {mod, e, site: this.site(mod, at), label, args: e.args}
  }

  private moduleValue(name: string): PyValue {
    const m = this.modules.get(name)
    if (m) return {t: 'module', name, mod: m}
    return {t: 'ext', name: canonicalExt(name)}
  }

  private absolute(mod: ModuleState, level: number, module: string, site: Site): string {
    if (level === 0) return module
    let base = mod.isPackage ? mod.name : mod.name.split('.').slice(0, -1).join('.')
    if (base === '') throw this.pyRaise('ImportError', 'attempted relative import with no known parent package', site)
    for (let i = 1; i < level; i++) base = base.split('.').slice(0, -1).join('.')
    return [base, module].filter((x) => x !== '').join('.')
  }

  private execFrom(s: Extract<Stmt, {kind: 'from'}>, mod: ModuleState, env: Map<string, PyValue>): void {
    const abs = this.absolute(mod, s.level, s.module, this.site(mod, s))
    const top = abs.split('.')[0] ?? abs
    if (s.level > 0 || this.isLocal(top)) {
      const m = this.importModule(abs, this.site(mod, s))
      if (m === undefined) throw this.pyRaise('ImportError', `No module named '${abs}'`, this.site(mod, s))
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
        if (v === undefined) throw this.pyRaise('ImportError', `cannot import name '${n.name}' from '${abs}'`, this.site(mod, s))
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
    // The class body runs in its own namespace; names it does not bind are looked up in the enclosing scopes.
    const ns = new Scope(env === mod.env ? null : env, new Set(), new Set(), true)
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
    this.execBlock(s.body, mod, ns)
    for (const [k, v] of ns) {
      cls.ns.set(k, v)
      // Zero-argument super() in its methods names this class.
      const fn = v.t === 'wrapped' ? v.fn : v
      if (fn.t === 'func') fn.fn.owner = cls
    }
    let value: PyValue = {t: 'class', cls}
    // Decorators apply bottom-up.
    for (const d of [...s.decorators].reverse()) value = this.applyDecorator(d, value, mod, env, site)
    this.setName(env, mod, s.name, value)
  }

  private applyDecorator(d: Expr, target: PyValue, mod: ModuleState, env: Map<string, PyValue>, classSite: Site): PyValue {
    const dv = this.eval(d, mod, env)
    if (dv.t === 'ext' && dv.name === 'bentoml.service') return this.makeService(target, new Map(), this.site(mod, d), classSite)
    if (dv.t === 'svcdeco') return this.makeService(target, dv.kwargs, dv.site, classSite, dv.unknown)
    if (dv.t === 'ext' && dv.name === 'dataclasses.dataclass' && target.t === 'class') {
      target.cls.dataclass = true
      return target
    }
    if (dv.t === 'func' || dv.t === 'method') return this.invoke(dv, [target], new Map(), this.callCtx(mod, d))
    // Other decorators (bentoml.asgi_app(...), …) return the class they decorate.
    return target
  }

  /**
   * `bentoml.Service("Name", cmd=[...], config={...})` (the SDK's Service, 1.4.16+, made without a class: BentoML's
   * empty `_DummyService` is its `inner`): a service keyed at the call, whose kwargs are what the decorator's would be
   * (`config`'s items beside `cmd`, `image`, `envs`, …). Undefined for the runner-style call (no SDK-only keyword).
   */
  private serviceFromCall(pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue | undefined {
    const sdkOnly = ['cmd', 'config', 'inner', 'image', 'description', 'path_prefix', 'envs', 'labels']
    if (!sdkOnly.some((k) => kw.has(k))) return undefined
    const name = kw.get('name') ?? pos[0]
    const kwargs = new Map<string, PyValue>()
    if (name !== undefined) kwargs.set('name', name)
    const config = kw.get('config')
    if (config !== undefined && config.t === 'dict' && !config.taint) {
      for (const {key, value} of config.map.values()) if (key.t === 'str') kwargs.set(key.v, value)
    }
    for (const [k, v] of kw) if (k !== 'config' && k !== 'name' && k !== 'inner' && k !== 'models') kwargs.set(k, v)
    const unknown =
      config !== undefined && (config.t !== 'dict' || config.taint !== undefined)
        ? this.unknownOf(config, c.site, 'config=')
        : kw.has('inner')
          ? {why: 'an inner= class', hint: 'decorate the class with @bentoml.service(...) instead', site: c.site}
          : undefined
    const inner: ClassValue = {name: '_DummyService', site: c.site, bases: [], ns: new Map(), annotations: [], hasTask: false}
    const svc: ServiceValue = {
      className: name?.t === 'str' ? name.v : '_DummyService',
      cls: inner,
      site: c.site,
      decoratorSite: c.site,
      kwargs,
      ...(unknown ? {unknownKwargs: unknown} : {}),
      envs: unknown ?? convertEnvs(this, kwargs.get('envs'), c.site),
    }
    this.services.set(serviceKey(c.site.file, c.site.line), svc)
    return {t: 'service', svc}
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
      envs: unknownKwargs ?? convertEnvs(this, kwargs.get('envs'), decoratorSite),
    }
    this.services.set(serviceKey(classSite.file, classSite.line), svc)
    return {t: 'service', svc}
  }


  private execOther(s: Extract<Stmt, {kind: 'other'}>, mod: ModuleState, env: Map<string, PyValue>): void {
    switch (s.keyword) {
      case 'pass':
      case 'global':
      case 'nonlocal':
      case 'assert':
      case 'type':
        return
      case 'return':
        throw new Return(s.value ? this.eval(s.value, mod, env) : NONE)
      case 'break':
        throw new Signal('break')
      case 'continue':
        throw new Signal('continue')
      case 'del':
        for (const e of s.exprs) {
          if (e.k === 'name') env.delete(e.id)
          else if (e.k === 'sub' && e.index.length === 1 && e.index[0]) {
            const obj = this.eval(e.obj, mod, env)
            if (obj.t === 'ext' && obj.name === 'os.environ') this.environ.write(this.eval(e.index[0], mod, env), null, mod, e)
          }
        }
        return
      case 'raise': {
        const site = this.site(mod, s)
        if (s.value === undefined) {
          const cur = this.handling[this.handling.length - 1]
          if (cur) throw cur
          throw this.pyRaise('RuntimeError', 'No active exception to reraise', site)
        }
        let v = this.eval(s.value, mod, env)
        if (v.t === 'builtin' || v.t === 'class') v = this.invoke(v, [], new Map(), this.callCtx(mod, s.value))
        if (v.t === 'exc') {
          const msg = v.args.length === 1 ? (this.toStr(v.args[0] as PyValue) ?? '') : v.args.length === 0 ? '' : (this.toRepr({t: 'tuple', items: v.args}) ?? '')
          throw new PyRaise(v.type, msg, site, v)
        }
        throw new ImportFailure({...site, severity: 'error', message: 'the module raises an exception while BentoML imports it', hint: 'the service module must import without errors for BentoML to build it'})
      }
      default:
        return
    }
  }

  assign(t: Expr, value: PyValue, mod: ModuleState, env: Map<string, PyValue>): void {
    switch (t.k) {
      case 'name':
        this.setName(env, mod, t.id, value)
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
          const want = star === -1 ? t.items.length : t.items.length - 1
          const msg = items.length > want && star === -1 ? `ValueError: too many values to unpack (expected ${want})` : `ValueError: not enough values to unpack (expected ${star === -1 ? '' : 'at least '}${want}, got ${items.length})`
          throw this.failure(mod, t, msg, 'match the number of names and values')
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
        return setAttr(this, obj, t.attr, value, mod, t)
      }
      case 'sub': {
        const obj = this.eval(t.obj, mod, env)
        const idx = t.index.length === 1 && t.index[0] ? this.eval(t.index[0], mod, env) : undefined
        if (obj.t === 'ext' && obj.name === 'os.environ' && idx !== undefined) return this.environ.write(idx, value, mod, t)
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


  failure(mod: ModuleState, at: {line: number; col: number}, message: string, hint: string): ImportFailure | PyRaise {
    const d: Diagnostic = {...this.site(mod, at), severity: 'error', message, hint}
    // `TypeError: …`: a Python exception a `try` may catch.
    const m = /^((?:[a-z_]\w*\.)*)([A-Z]\w*(?:Error|Exception)): /.exec(message)
    if (m?.[2] !== undefined) return this.pyRaise(m[2], message.slice(m[0].length), this.site(mod, at), d)
    return new ImportFailure(d)
  }

  // ---- expressions ------------------------------------------------------------------------

  eval(e: Expr, mod: ModuleState, env: Map<string, PyValue>): PyValue {
    const v = this.evalExpr(e, mod, env)
    // What a class body computes (a `Field(default=…)`, a method's parameter default): kept for the schema pass.
    if (env instanceof Scope && env.isClass) {
      this.classValues.set(e, v)
      // By position too: a reader with its own node for the same text (the schema's parameter list) finds it; an
      // enclosing expression that starts where its first part does is evaluated last, so it is the one kept.
      this.classValuesAt.set(`${mod.file ?? ''}:${e.line}:${e.col}:${e.k}`, v)
    }
    return v
  }

  private evalExpr(e: Expr, mod: ModuleState, env: Map<string, PyValue>): PyValue {
    this.tick(mod, e)
    const site = this.site(mod, e)
    switch (e.k) {
      case 'str':
        if (e.unsupported !== undefined) {
          throw this.failure(mod, e, `${e.unsupported}: \\N{...} escapes are not supported: write the character`, 'write the character itself (or a \\u/\\U escape) instead of its Unicode name')
        }
        if (e.value !== null && e.parts === null) return str(e.value)
        return fstring(this, e, mod, env)
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
        const only = e.index.length === 1 ? e.index[0] : undefined
        if (only?.k === 'slice') return sliceValue(this, obj, only, mod, env, e)
        if (only === undefined || only.k === 'ops') {
          // `a[i, j]` is `a[(i, j)]`: a tuple key.
          if (only === undefined && e.index.length > 1 && e.index.every((x) => x.k !== 'slice' && x.k !== 'ops')) {
            return subscript(this, obj, {t: 'tuple', items: e.index.map((x) => this.eval(x, mod, env))}, mod, e)
          }
          return this.opaque('a multi-index subscript', 'index with one literal key or position', site)
        }
        return subscript(this, obj, this.eval(only, mod, env), mod, e)
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
        return this.makeSet(items, mod, e) ?? this.opaque('a set of values that are not hashable', 'use a list', site)
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
            const got = this.environ.read(left, site, mod, e)
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
        // In a comprehension, `:=` binds in the enclosing function (or module).
        let target = env
        while (target instanceof Scope && target.isComprehension && target.parent) target = target.parent
        this.setName(target, mod, e.target, v)
        return v
      }
      case 'call':
        return this.call(e, mod, env)
      case 'ops':
        return this.opaque(describeOps(e), 'use literals, names, f-strings, + and plain calls', site)
      case 'lambda': {
        const fn: FuncDef = {
          name: '<lambda>',
          params: e.params,
          defaults: this.evalDefaults(e.params, mod, env),
          body: e.body,
          mod: this.modules.get(mod.name) ?? mod,
          closure: closureOf(env, mod),
          site,
          isAsync: false,
          isGenerator: false,
        }
        return {t: 'func', fn}
      }
      case 'comp':
        return comprehension(this, e, mod, env)
      case 'slice':
        return this.opaque('a slice outside a subscript', 'write a[i:j]', site)
      default:
        return this.opaque('an expression bento does not evaluate', 'use literals and module-level constants', site)
    }
  }

  makeSet(items: readonly PyValue[], mod: ModuleState, at: {line: number; col: number}, frozen = false): PyValue | undefined {
    return makeSet(this, items, mod, at, frozen)
  }



  private lookup(id: string, mod: ModuleState, env: Map<string, PyValue>, site: Site): PyValue {
    let v: PyValue | undefined
    if (env instanceof Scope && env.globals.has(id)) v = mod.env.get(id)
    else {
      // The local scope, then the enclosing functions' (class bodies are not enclosing scopes of their methods).
      for (let e: Map<string, PyValue> | null = env; e && v === undefined; e = e instanceof Scope ? e.parent : null) {
        if (e === env || !(e instanceof Scope && e.isClass)) v = e.get(id)
      }
      v ??= mod.env.get(id)
    }
    if (v !== undefined) return v
    if (id === '__file__') return this.opaque('__file__ (a path on the build machine)', 'name files relative to the build context', site)
    if (isBuiltinName(id)) return {t: 'builtin', name: id}
    if (mod.externalStars.length > 0) return {t: 'ext', name: canonicalExt(`${mod.externalStars[0] ?? ''}.${id}`)}
    return this.opaque(`\`${id}\` is not defined at that point of the module`, `define ${id} at module level before it is used`, site)
  }

  getAttr(obj: PyValue, attr: string, mod: ModuleState, at: Expr): PyValue {
    return getAttr(this, obj, attr, mod, at)
  }


  /** A dict of string keys. */
  dictOf(entries: Array<[string, PyValue]>): PyValue {
    const map = new Map<string, {key: PyValue; value: PyValue}>()
    for (const [k, v] of entries) map.set(keyOf(str(k), this.budget), {key: str(k), value: v})
    return {t: 'dict', map}
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

  invoke(fn: PyValue, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const {site, label} = c
    switch (fn.t) {
      case 'ext':
        return this.callExt(fn.name, pos, kw, c)
      case 'builtin':
        if (fn.name === 'super') return superOf(this, pos, c)
        return callBuiltin(this, fn.name, pos, kw, c)
      case 'bound':
        return this.callMethod(fn.self, fn.name, pos, kw, c)
      case 'svcdeco':
        if (pos.length === 1 && pos[0]) return this.makeService(pos[0], fn.kwargs, fn.site, pos[0].t === 'class' ? pos[0].cls.site : site, fn.unknown)
        break
      case 'func':
        return callFunction(this, fn.fn, pos, kw, c)
      case 'method':
        return this.invoke(fn.fn, [fn.self, ...pos], kw, c)
      case 'wrapped':
        if (fn.kind === 'staticmethod' || fn.kind === 'classmethod') return this.invoke(fn.fn, pos, kw, c)
        throw this.failure(c.mod, c.e, `TypeError: '${fn.kind}' object is not callable`, `read ${label} as an attribute`)
      case 'instance': {
        const call = classLookup(fn.cls, '__call__')
        if (call !== undefined) return this.invoke(bindMember(this, call, fn, fn.cls, '__call__', c.mod, c.e), pos, kw, c)
        if (hasUnknownBase(fn.cls)) return this.opaque(`calling a ${fn.cls.name} (its base class is code bento does not read)`, 'use a module-level value', site)
        throw this.failure(c.mod, c.e, `TypeError: '${fn.cls.name}' object is not callable`, 'call functions')
      }
      case 'class':
        return instantiate(this, fn.cls, pos, kw, c)
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









  private callExt(name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const {site} = c
    switch (name) {
      case 'bentoml.images.Image':
        return newImage(this, pos, kw, c)
      case 'bentoml.service': {
        if (pos.length === 1 && pos[0] && (pos[0].t === 'class' || pos[0].t === 'service')) {
          return this.makeService(pos[0], kw, site, pos[0].t === 'class' ? pos[0].cls.site : site)
        }
        return {t: 'svcdeco', kwargs: kw, site}
      }
      case 'bentoml.Service':
      case '_bentoml_sdk.Service':
      case '_bentoml_sdk.service.Service':
      case '_bentoml_sdk.service.factory.Service': {
        const made = this.serviceFromCall(pos, kw, c)
        if (made !== undefined) return made
        break
      }
      case 'bentoml.use_arguments':
        return this.useArguments(pos[0] ?? kw.get('model'), c)
      case 'bentoml.models.HuggingFaceModel':
        return hfModel(this, pos, kw, c)
      case 'bentoml.importing':
        return {t: 'ext', name: 'bentoml.importing()'}
      case 'pydantic.Field':
      case 'dataclasses.field': {
        const def = name === 'pydantic.Field' ? pos[0] ?? kw.get('default') : kw.get('default')
        const factory = kw.get('default_factory')
        return {t: 'field', def: def?.t === 'ext' && def.name === 'Ellipsis' ? undefined : def, factory}
      }
      case 'pydantic.model_validator':
      case 'pydantic.functional_validators.model_validator': {
        // The whole model: `before` gets the input (a dict) and returns it, `after` gets the instance and returns it.
        const mode = kw.get('mode')
        return {t: 'wrapped', kind: 'validator', fn: NONE, fields: [MODEL_VALIDATOR], mode: mode?.t === 'str' ? mode.v : 'after'}
      }
      case 'pydantic.field_validator':
      case 'pydantic.functional_validators.field_validator': {
        const fields = pos.flatMap((x) => (x.t === 'str' ? [x.v] : []))
        const mode = kw.get('mode')
        return {t: 'wrapped', kind: 'validator', fn: NONE, fields, mode: mode?.t === 'str' ? mode.v : 'after'}
      }
      case 'typing.cast':
      case 'typing_extensions.cast':
        return pos[1] ?? kw.get('val') ?? NONE
      case 'dataclasses.dataclass':
      case 'pydantic.computed_field':
        // `@dataclass(frozen=True)`, `@computed_field(repr=False)`: the decorator itself.
        if (pos.length === 0) return {t: 'ext', name}
        break
      default:
        break
    }
    const env = this.environ.call(name, pos, kw, c)
    if (env !== undefined) return env
    const lib = callStdlib(this, name, pos, kw, c)
    if (lib !== undefined) return lib
    if ((name === 'dotenv.load_dotenv' || name === 'dotenv.main.load_dotenv') && pos.length === 0 && kw.size === 0) {
      const loaded = this.environ.loadDotenv(c)
      if (loaded !== undefined) return loaded
    }
    if (ENV_MUTATORS.has(name)) {
      this.environ.changed ??= {
        why: `a variable of the environment after ${c.label}(...) at line ${c.e.line}, which changes it in a way bento does not follow`,
        hint: 'set the variable in the environment of the build, or write the value literally',
        site,
      }
    }
    if (ENV_READS.has(name) || name.startsWith('os.environ.')) {
      const u = (this.environ.unknownRead(site) as {u: Unknown}).u
      for (const v of [...pos, ...kw.values()]) this.taint(v, u)
      return {t: 'opaque', u}
    }
    if (name === 'pathlib.Path' || name.startsWith('pathlib.') || name === 'io.open' || name.startsWith('json.load') || name.startsWith('yaml.')) {
      return this.opaque(`the result of ${name}(...) (file I/O)`, 'write the value literally in the module, or in bentofile.yaml', site)
    }
    const u: Unknown = {
      why: `the result of ${c.label}(...) from ${name.split('.')[0] ?? name}, which bento does not run`,
      hint: 'write the literal, or pass it with --arg (a field of bentoml.use_arguments), or set it in bentofile.yaml',
      site,
    }
    // What an unknown function does to the objects it receives is unknown.
    for (const v of [...pos, ...kw.values()]) this.taint(v, u)
    return {t: 'opaque', u}
  }




  callMethod(self: PyValue, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
    const {site} = c
    if (self.t === 'image') return callImage(this, self, name, pos, kw, c)
    if (self.t === 'str') return callStr(this, self.v, name, pos, kw, c)
    if (self.t === 'list') return listMethod(this, self, name, pos, kw, c)
    if (self.t === 'dict') return dictMethod(this, self, name, pos, kw, c)
    if (self.t === 'set') return setMethod(this, self, name, pos, kw, c)
    if (self.t === 'tuple') return tupleMethod(this, self, name, pos, kw, c)
    const pyd = pydanticCall(this, self, name, pos, kw, c)
    if (pyd !== undefined) return pyd
    return this.opaque(`${typeName(self)}.${name}(...)`, 'use values bento can read', site)
  }






  private useArguments(model: PyValue | undefined, c: CallCtx): PyValue {
    const args = this.opts.args
    if (model === undefined || model.t === 'none') {
      const attrs = new Map<string, PyValue>()
      for (const [k, v] of Object.entries(args)) attrs.set(k, fromJson(v))
      const cls: ClassValue = {name: 'arguments', site: {file: '', line: 0, col: 0}, bases: [], ns: new Map(), annotations: [], hasTask: false}
      return {t: 'instance', cls, attrs, args: true}
    }
    if (model.t !== 'class') {
      return {t: 'opaque', u: this.unknownOf(model, c.site, `bentoml.use_arguments() of a ${typeName(model)}`)}
    }
    const given = new Map<string, PyValue>()
    for (const [k, v] of Object.entries(args)) if (v !== undefined) given.set(k, fromJson(v))
    return modelInstance(this, model.cls, given, c, true)
  }

  // ---- values -----------------------------------------------------------------------------

  truth(v: PyValue): boolean | undefined {
    return truthOf(v)
  }

  /** Items of a known iterable (dict → keys), or undefined. */
  iterate(v: PyValue): PyValue[] | undefined {
    return iterateValue(this, v)
  }

  unknownOf(v: PyValue, site: Site, what?: string): Unknown {
    return unknownOf(v, site, what)
  }

  unknownIn(v: PyValue): Unknown | undefined {
    return unknownIn(v)
  }

  taint(v: PyValue, u: Unknown): void {
    taintValue(v, u)
  }

  toStr(v: PyValue): string | undefined {
    return pyStr(v, this.budget)
  }

  toRepr(v: PyValue): string | undefined {
    return pyReprValue(v, this.budget)
  }


  /** `target.extend(items)`, its size checked first (and no spread: a million items overflow the JS stack). */
  extend(target: PyValue[], items: readonly PyValue[], what: string): void {
    this.budget.items(target.length + items.length, what, items.length)
    for (const x of items) target.push(x)
  }

  binop(op: string, l: PyValue, r: PyValue, at: {line: number; col: number}, mod: ModuleState): PyValue {
    return binop(this, op, l, r, at, mod)
  }


  compare(op: string, l: PyValue, r: PyValue): boolean | undefined {
    return compare(this, op, l, r)
  }
}

/** The scope a function defined in `env` closes over: none at module level, class bodies skipped. */
function closureOf(env: Map<string, PyValue>, mod: ModuleState): Scope | null {
  let e: Map<string, PyValue> | null = env
  while (e instanceof Scope && e.isClass) e = e.parent
  return e === null || e === mod.env || !(e instanceof Scope) ? null : e
}


/** Whether a function body yields (a generator). */
function yields(stmts: Stmt[]): boolean {
  let found = false
  const visit = (ss: Stmt[]): void => {
    for (const st of ss) {
      if (found || st.kind === 'def' || st.kind === 'class') continue
      for (const e of stmtExprs(st)) walkExpr(e, (x) => {
        if (x.k === 'ops' && x.ops.includes('yield')) found = true
      })
      visit(st.body)
    }
  }
  visit(stmts)
  return found
}
