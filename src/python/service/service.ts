/**
 * Static reading of a BentoML service: which service object the bentofile names, its runners,
 * APIs and models — without running Python. Mirrors BentoML 1.4.15's loader
 * (`_internal/service/loader.py`), legacy `bentoml.Service` and the `@bentoml.service` SDK.
 */
import {posix} from 'node:path'

import type {Diagnostic} from '../../errors.js'
import {FASTAPI_CLASSES, FASTAPI_DOC_ROUTES, MOUNT_DECORATORS, ROUTE_ADDERS, ROUTE_DECORATORS, STARLETTE_CLASSES, STARLETTE_ROUTES, joinPaths} from '../../bentoml/asgi.js'
import {FRAMEWORK_RUNNABLES, IO_DESCRIPTORS, RESERVED_API_NAMES, isValidTagName, toSnakeCase} from '../../bentoml/names.js'
import {splitTag} from '../../bentoml/tag.js'
import {dottedName, parseModule, scanModule, stmtExprs, walkExpr, type Arg, type Expr, type Stmt} from '../parse/index.js'
import {type ApiMethodInfo, apiSchema, docstringOf, type SchemaEnv, type SchemaProblem} from './sdk-schema.js'

export interface RunnerInfo {
  name: string
  /** Runnable class name; `''` when it depends on the stored model's framework (`bentoml.models.get(...).to_runner()`): use `runnableTypeForModule(model.yaml module)`. */
  runnableType: string
  /** First model tag of the runner as written in the source (`''` if none). */
  modelTag: string
  models: string[]
  embedded: boolean
  file: string
  line: number
}

/** A legacy IO descriptor call such as `NumpyNdarray(dtype="float32")`: class name plus literal keyword arguments. */
export interface IODescriptorInfo {
  type: string
  args: Record<string, unknown>
}

export interface ApiInfo {
  name: string
  route: string
  /** Legacy: IO descriptor class name as in bento.yaml (`NumpyNdarray`, `JSON`, `BytesIOFile` for `File()`…). SDK: `''`. */
  inputType: string
  outputType: string
  method: string
  doc: string | null
  input?: IODescriptorInfo
  output?: IODescriptorInfo
  file: string
  line: number
}

export interface ModelRef {
  /** The tag (or Hugging Face model id) as written in the source. */
  tag: string
  registry: 'bentoml' | 'huggingface'
  /** `keras`, `sklearn`, … for `bentoml.<framework>.get/load_model`; null for `bentoml.models.*`. */
  framework: string | null
  /** The callable as qualified after import aliases, e.g. `bentoml.keras.get`. */
  via: string
  file: string
  line: number
  col: number
  /** How the service uses it: a runner's model, a service model (legacy `models=[…]`, SDK class attribute), or only referenced. */
  usage: 'runner' | 'service' | 'other'
  /** `HuggingFaceModel(model_id, revision, endpoint, include, exclude)`: the other arguments (null: not given). */
  hf?: HfModelOptions
}

/** The arguments of `bentoml.models.HuggingFaceModel` besides the model id. */
export interface HfModelOptions {
  revision: string
  /** null: `$HF_ENDPOINT` at build time, else https://huggingface.co. */
  endpoint: string | null
  include: string[] | null
  exclude: string[] | null
}

export interface SdkServiceInfo {
  name: string
  className: string
  file: string
  line: number
  /** Class-attribute models in `dir()` order; `line`: where the attribute is assigned. */
  models: Array<{tag: string; registry: 'bentoml' | 'huggingface'; hf?: HfModelOptions; line?: number}>
  dependencies: Array<{attr: string; on: string | null; url?: string; deployment?: string; cluster?: string}>
}

export interface ServiceInfo {
  /** Python module name BentoML imports, e.g. `service` or `pkg.mod`. */
  module: string
  /** Attribute path inside the module, e.g. `svc` (found by discovery when the bentofile omits it). */
  attr: string
  /** `module:attr` as BentoML writes `service:` in bento.yaml. */
  importString: string
  kind: 'legacy' | 'sdk' | 'unknown'
  /**
   * Which class a legacy service is made with: `runner` = `bentoml.Service` (runner-style, BentoML ≤ 1.4.15),
   * `legacy` = `bentoml.legacy.Service` (1.4.16+), `internal` = `bentoml._internal.service.Service` (every 1.4 release).
   * null for SDK services.
   */
  legacyStyle: 'runner' | 'legacy' | 'internal' | null
  /** Where the service object is created (legacy: the `bentoml.Service(...)` call; SDK: the entry class). */
  at: {file: string; line: number} | null
  /** `svc.name`: legacy = first argument lowercased; SDK = `@bentoml.service(name=…)` or the class name. */
  name: string | null
  /** Default Bento name: legacy = `name`; SDK = `to_snake_case(name)` lowercased (as `Tag` does). */
  bentoName: string | null
  /** Relative path of the module file that was read. */
  entryFile: string | null
  /** Every file that was read: the service module plus the local modules it imports (transitively). */
  scannedFiles: string[]
  runners: RunnerInfo[]
  apis: ApiInfo[]
  /** Tags BentoML packs for this service (registry `bentoml` only): legacy = `models=[…]` then runner models; SDK = class-attribute models of all services. */
  modelTags: string[]
  /** Every model reference found in the scanned files. */
  models: ModelRef[]
  /** SDK: the entry service and its dependencies (`all_services()` order). Legacy: `[]`. */
  services: SdkServiceInfo[]
  /**
   * SDK: `svc.schema()` of the entry service (the JSON schema of each API, from its signature), without a
   * `path_prefix` (sdk-config reads it; `prefixSchema` applies it).
   */
  schema: Record<string, unknown> | null
  diagnostics: Diagnostic[]
}

export interface ReadServiceOptions {
  /** Relative posix path → source text. */
  files: Map<string, string>
  /** The bentofile `service` value (`service:svc`, `service.py:svc`, `pkg.mod:Svc`, or `''`). */
  service: string
  /** Tags the bentofile lists under `models:`; they silence "model not packaged" warnings. */
  /** The build config file read (named in messages about `service:`, `models:`, `name:`). Default `bentofile.yaml`. */
  configFile?: string
  declaredModels?: string[]
  /**
   * Whether a key of `files` is a file of the build context (a `service: file.py:Svc` must be one); default all.
   * A src layout also offers its files under their flattened name (python/module-space.ts), which are not.
   */
  isProjectFile?: (key: string) => boolean
  /**
   * A `HuggingFaceModel(...)` call whose arguments are not literals: what the module computes for them when imported
   * (the bounded interpreter, ../eval/), keyed by the call's module and position; undefined when that is unknown too.
   */
  evaluatedHfModel?: (at: {module: string; file: string; line: number; col: number; entryModule?: string}) => {modelId: string; options: HfModelOptions} | undefined
  /**
   * An expression of a class body the schema needs (a `Field(default=get_config().beam_size)`, a bound, an example)
   * that is not a literal: its JSON value as importing `module` computes it (the bounded interpreter's evaluation of
   * the entry module, shared with the decorators), or why it is unknown; undefined when the import never reached it.
   */
  computedValue?: (module: string, e: Expr, file: string) => {ok: true; value: unknown} | {ok: false; why: string} | undefined
}

// ---------------------------------------------------------------------------------------------

interface Mod {
  name: string
  file: string | null
  isPackage: boolean
  stmts: Stmt[]
  scope: Scope
}

interface Scope {
  bindings: Map<string, Binding>
  parent?: Scope
  mod: Mod
  stars: string[]
}

type Binding =
  | {b: 'expr'; expr: Expr; scope: Scope}
  | {b: 'module'; name: string}
  | {b: 'from'; module: string; name: string}
  | {b: 'class'; stmt: ClassStmt; scope: Scope}
  | {b: 'def'; stmt: DefStmt}
  /** `self` in a method: attribute reads find the class attributes (`self.model` → the `BentoModel` of the class). */
  | {b: 'self'; cls: ClassStmt; classScope: Scope}
  | {b: 'unknown'}

type ClassStmt = Extract<Stmt, {kind: 'class'}>
type DefStmt = Extract<Stmt, {kind: 'def'}>
type CallExpr = Extract<Expr, {k: 'call'}>

type Value =
  | {v: 'str'; s: string}
  | {v: 'dyn'; why: string}
  | {v: 'q'; name: string}
  | {v: 'model'; ref: ModelRef; stored: boolean}
  | {v: 'runner'; runner: RunnerInfo; refs: ModelRef[]}
  | {v: 'legacy'; call: CallExpr; scope: Scope; style: 'runner' | 'legacy' | 'internal'}
  | {v: 'sdk'; cls: ClassStmt; scope: Scope; config: Arg[]}
  /** `bentoml.Service("Name", cmd=[...], config={...})`: an SDK service made without a class (1.4.16+). */
  | {v: 'sdkCall'; call: CallExpr; scope: Scope}
  | {v: 'svcDecorator'; config: Arg[]}
  | {v: 'class'; cls: ClassStmt; scope: Scope}
  | {v: 'self'; cls: ClassStmt; classScope: Scope}
  | {v: 'depends'; on: Value | null; url?: string; deployment?: string; cluster?: string}
  | {v: 'io'; io: IODescriptorInfo}
  | {v: 'list'; items: Value[]}
  | {v: 'const'; value: unknown}
  | {v: 'unknown'}

const UNKNOWN: Value = {v: 'unknown'}

/** Keyword arguments of the SDK's `bentoml.Service(...)` (1.4.16+) that the runner-style Service does not take. */
const SDK_SERVICE_KEYWORDS = new Set(['cmd', 'config', 'inner', 'image', 'description', 'path_prefix', 'envs', 'labels'])

/** `_bentoml_sdk.x` is what `bentoml.x` re-exports. */
function canonical(q: string): string {
  if (q.startsWith('_bentoml_sdk.')) {
    const rest = q.slice('_bentoml_sdk.'.length)
    if (rest.startsWith('models.')) return `bentoml.${rest}`
    const last = rest.split('.').pop() ?? rest
    return `bentoml.${last}`
  }
  if (q === 'bentoml.legacy.Service') return q
  if (q.startsWith('bentoml.legacy.')) return `bentoml.${q.slice('bentoml.legacy.'.length)}`
  if (q.startsWith('bentoml._internal.io_descriptors.')) return `bentoml.io.${q.split('.').pop() ?? ''}`
  return q
}

class Reader {
  readonly modules = new Map<string, Mod | null>()
  readonly diagnostics: Diagnostic[] = []
  /** The "cannot tell which model" warning of each model call, by `file:line:col` of the call. */
  readonly refDiagnostics = new Map<string, Diagnostic>()
  /**
   * Models BentoML packs that bento cannot read: errors unless the bentofile lists `models:` (which then decides
   * what is packed), warnings otherwise; Hugging Face ones (`hfGaps`) are errors either way.
   */
  readonly modelGaps = new Set<Diagnostic>()
  /**
   * The "cannot tell which model" diagnostics of `HuggingFaceModel(...)` calls: the bentofile's `models:` cannot
   * stand in for them (BentoML looks those up in the local model store), so as gaps they are always errors.
   */
  readonly hfGaps = new Set<Diagnostic>()
  readonly refs = new Map<string, ModelRef>()
  private readonly memo = new WeakMap<Expr, Value>()
  private readonly inProgress = new WeakSet<Expr>()
  private readonly warnedAt = new Set<string>()
  private readonly dirs = new Set<string>()

  constructor(
    readonly files: Map<string, string>,
    /** The build config file, as messages name it (`bentofile.yaml`, `pyproject.toml`, a `-f` path). */
    readonly configFile = 'bentofile.yaml',
    readonly evaluatedHfModel?: ReadServiceOptions['evaluatedHfModel'],
    readonly computedValue?: (e: Expr, file: string) => {ok: true; value: unknown} | {ok: false; why: string} | undefined,
    /** The service module (set once `service` is resolved): its evaluation answers for the modules it imports. */
    readonly entry: {name?: string} = {},
  ) {
    for (const f of files.keys()) {
      const parts = f.split('/')
      for (let i = 1; i < parts.length; i++) this.dirs.add(parts.slice(0, i).join('/'))
    }
  }

  moduleFile(name: string): {file: string | null; isPackage: boolean} | undefined {
    const path = name.split('.').join('/')
    if (this.files.has(`${path}.py`)) return {file: `${path}.py`, isPackage: false}
    if (this.files.has(`${path}/__init__.py`)) return {file: `${path}/__init__.py`, isPackage: true}
    if (this.dirs.has(path)) return {file: null, isPackage: true}
    return undefined
  }

  load(name: string): Mod | undefined {
    if (this.modules.has(name)) return this.modules.get(name) ?? undefined
    const where = name === '' ? undefined : this.moduleFile(name)
    if (where === undefined) {
      this.modules.set(name, null)
      return undefined
    }
    const mod: Mod = {name, file: where.file, isPackage: where.isPackage, stmts: [], scope: undefined as unknown as Scope}
    mod.scope = {bindings: new Map(), mod, stars: []}
    this.modules.set(name, mod)
    if (where.file !== null) {
      const res = parseModule(this.files.get(where.file) ?? '')
      mod.stmts = res.stmts
      for (const p of res.problems.slice(0, 5)) {
        this.diagnostics.push({
          file: where.file,
          line: p.line,
          col: p.col,
          severity: p.fatal ? 'error' : 'warning',
          message: p.fatal ? p.message : `could not follow Python syntax: ${p.message}`,
          hint: p.fatal ? 'bento reads the service module without running it, and cannot read this one' : 'the service is read statically; results for this file may be incomplete',
        })
      }
      this.bind(mod.stmts, mod.scope, true)
    }
    return mod
  }

  /** Absolute module name for `from <dots><module> import …` inside `mod`. */
  absolute(mod: Mod, level: number, module: string): string {
    if (level === 0) return module
    let base = mod.isPackage ? mod.name : mod.name.split('.').slice(0, -1).join('.')
    for (let i = 1; i < level; i++) base = base.split('.').slice(0, -1).join('.')
    return [base, module].filter((s) => s !== '').join('.')
  }

  /** Record the bindings made by `stmts` in `scope` (flattening if/try/with/for blocks when `flatten`). */
  bind(stmts: Stmt[], scope: Scope, flatten: boolean): void {
    const set = (name: string, b: Binding): void => {
      scope.bindings.set(name, b)
    }
    const bindTarget = (t: Expr, value: Expr | undefined): void => {
      if (t.k === 'name') set(t.id, value === undefined ? {b: 'unknown'} : {b: 'expr', expr: value, scope})
      else if (t.k === 'seq' && (t.kind === 'tuple' || t.kind === 'list')) {
        const vals = value?.k === 'seq' && value.items.length === t.items.length ? value.items : undefined
        t.items.forEach((x, i) => bindTarget(x, vals?.[i]))
      }
    }
    for (const s of stmts) {
      switch (s.kind) {
        case 'import':
          for (const n of s.names) {
            if (n.asName !== undefined) set(n.asName, {b: 'module', name: n.module})
            else set(n.module.split('.')[0] ?? n.module, {b: 'module', name: n.module.split('.')[0] ?? n.module})
          }
          break
        case 'from': {
          const abs = this.absolute(scope.mod, s.level, s.module)
          for (const n of s.names) {
            if (n.name === '*') scope.stars.push(abs)
            else set(n.asName ?? n.name, {b: 'from', module: abs, name: n.name})
          }
          break
        }
        case 'assign':
          for (const t of s.targets) bindTarget(t, s.value)
          break
        case 'def':
          set(s.name, {b: 'def', stmt: s})
          break
        case 'class':
          set(s.name, {b: 'class', stmt: s, scope})
          break
        case 'block':
          if (flatten) this.bind(s.body, scope, true)
          break
        default:
          break
      }
    }
  }

  lookup(name: string, scope: Scope, seen = new Set<string>()): Binding | undefined {
    for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
      const b = s.bindings.get(name)
      if (b !== undefined) return b
      if (s.parent === undefined) {
        for (const star of s.stars) {
          if (seen.has(star)) continue
          seen.add(star)
          const m = this.load(star)
          if (m === undefined) continue
          const sb = this.lookup(name, m.scope, seen)
          if (sb !== undefined) return sb
        }
      }
    }
    return undefined
  }

  /** A binding as the module it is imported from holds it: `from .models import Vec` → `Vec = list[float]` there. */
  followFrom(b: Binding | undefined): Binding | undefined {
    for (let hops = 0; b?.b === 'from' && hops < 20; hops++) {
      const local = this.load(b.module)
      if (local === undefined) return b
      const inner = this.lookup(b.name, local.scope)
      if (inner === undefined) return b
      b = inner
    }
    return b
  }

  valueOfBinding(b: Binding): Value {
    switch (b.b) {
      case 'expr':
        return this.resolve(b.expr, b.scope)
      case 'module':
        return {v: 'q', name: b.name}
      case 'from': {
        const local = this.load(b.module)
        if (local !== undefined) {
          const inner = this.lookup(b.name, local.scope)
          if (inner !== undefined) return this.valueOfBinding(inner)
          if (this.load(`${b.module}.${b.name}`) !== undefined) return {v: 'q', name: `${b.module}.${b.name}`}
          return {v: 'dyn', why: `'${b.name}' is not defined in local module '${b.module}'`}
        }
        return {v: 'q', name: canonical(`${b.module}.${b.name}`)}
      }
      case 'class':
        return this.classValue(b.stmt, b.scope)
      case 'self':
        return {v: 'self', cls: b.cls, classScope: b.classScope}
      default:
        return UNKNOWN
    }
  }

  classValue(cls: ClassStmt, scope: Scope): Value {
    for (const d of cls.decorators) {
      const dv = d.k === 'call' ? this.resolve(d.fn, scope) : this.resolve(d, scope)
      if (dv.v === 'q' && canonical(dv.name) === 'bentoml.service') {
        return {v: 'sdk', cls, scope, config: d.k === 'call' ? d.args : []}
      }
    }
    return {v: 'class', cls, scope}
  }

  resolve(e: Expr, scope: Scope): Value {
    const m = this.memo.get(e)
    if (m !== undefined) return m
    if (this.inProgress.has(e)) return {v: 'dyn', why: 'circular definition'}
    this.inProgress.add(e)
    let r: Value
    try {
      r = this.compute(e, scope)
    } finally {
      this.inProgress.delete(e)
    }
    this.memo.set(e, r)
    return r
  }

  private compute(e: Expr, scope: Scope): Value {
    switch (e.k) {
      case 'str':
        if (e.value !== null) return {v: 'str', s: e.value}
        return this.fstring(e, scope)
      case 'num':
        return {v: 'const', value: Number(e.text.replace(/_/g, ''))}
      case 'const':
        return {v: 'const', value: e.id === 'None' ? null : e.id === 'True' ? true : e.id === 'False' ? false : undefined}
      case 'name': {
        const b = this.lookup(e.id, scope)
        if (b === undefined) return {v: 'dyn', why: `'${e.id}' is not defined at module level`}
        return this.valueOfBinding(b)
      }
      case 'attr': {
        const o = this.resolve(e.obj, scope)
        if (o.v === 'q') {
          const local = this.load(o.name)
          if (local !== undefined) {
            const b = this.lookup(e.attr, local.scope)
            if (b !== undefined) return this.valueOfBinding(b)
            if (this.load(`${o.name}.${e.attr}`) !== undefined) return {v: 'q', name: `${o.name}.${e.attr}`}
            return {v: 'dyn', why: `'${e.attr}' is not defined in local module '${o.name}'`}
          }
          return {v: 'q', name: canonical(`${o.name}.${e.attr}`)}
        }
        if (o.v === 'self') {
          // A class attribute read through the instance (only assignments in the class body count).
          const b = o.classScope.bindings.get(e.attr)
          if (b?.b === 'expr') return this.valueOfBinding(b)
        }
        return UNKNOWN
      }
      case 'seq':
        if (e.kind === 'list' || e.kind === 'tuple') return {v: 'list', items: e.items.map((x) => this.resolve(x, scope))}
        return UNKNOWN
      case 'unary':
        // Negative number literal: -1
        if (e.op === '-' && e.operand.k === 'num') return {v: 'const', value: -Number(e.operand.text.replace(/_/g, ''))}
        return {v: 'dyn', why: 'computed expression'}
      case 'bin': {
        // String concatenation of constants: "a" + NAME
        if (e.op !== '+') return {v: 'dyn', why: 'computed expression'}
        const l = this.resolve(e.left, scope)
        const r = this.resolve(e.right, scope)
        if (l.v === 'str' && r.v === 'str') return {v: 'str', s: l.s + r.s}
        return {v: 'dyn', why: 'computed expression'}
      }
      case 'ops':
        return {v: 'dyn', why: 'computed expression'}
      case 'call':
        return this.call(e, scope)
      default:
        return UNKNOWN
    }
  }

  private fstring(e: Extract<Expr, {k: 'str'}>, scope: Scope): Value {
    let out = ''
    for (const p of e.parts ?? []) {
      if ('lit' in p) {
        out += p.lit
        continue
      }
      const src = p.expr.trim()
      if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(src)) return {v: 'dyn', why: `f-string field {${src}}`}
      const parts = src.split('.')
      let ex: Expr = {k: 'name', id: parts[0] ?? '', line: p.line, col: p.col}
      for (const a of parts.slice(1)) ex = {k: 'attr', obj: ex, attr: a, line: p.line, col: p.col}
      const v = this.resolve(ex, scope)
      if (v.v !== 'str') return {v: 'dyn', why: `f-string field {${src}}`}
      out += v.s
    }
    return {v: 'str', s: out}
  }

  private call(e: CallExpr, scope: Scope): Value {
    // model.to_runner(...), model.with_options(...)
    if (e.fn.k === 'attr' && (e.fn.attr === 'to_runner' || e.fn.attr === 'with_options')) {
      const o = this.resolve(e.fn.obj, scope)
      if (o.v === 'model' && o.stored) return e.fn.attr === 'to_runner' ? this.modelRunner(e, o.ref, scope) : o
    }
    const fv = this.resolve(e.fn, scope)
    if (fv.v === 'svcDecorator') {
      const c = e.args[0] ? this.resolve(e.args[0].value, scope) : UNKNOWN
      if (c.v === 'class') return {v: 'sdk', cls: c.cls, scope: c.scope, config: fv.config}
      return UNKNOWN
    }
    if (fv.v !== 'q') return UNKNOWN
    const q = fv.name
    const parts = q.split('.')
    const pos = e.args.filter((a) => a.name === undefined && a.star === undefined)
    const kw = (name: string): Arg | undefined => e.args.find((a) => a.name === name)
    if (q === 'typing.cast' && pos[1] !== undefined) return this.resolve(pos[1].value, scope)
    const file = scope.mod.file ?? ''

    if (parts[0] === 'bentoml') {
      const fw = parts.length === 3 ? (parts[1] ?? '') : ''
      const fn = parts[parts.length - 1] ?? ''
      if ((fw === 'models' && fn === 'get') || (fw in FRAMEWORK_RUNNABLES && fn === 'get')) {
        const ref = this.modelRef(e, scope, q, pos[0] ?? kw('tag'), 'bentoml', fw === 'models' ? null : fw)
        return ref === undefined ? {v: 'dyn', why: 'dynamic model tag'} : {v: 'model', ref, stored: true}
      }
      if (fw in FRAMEWORK_RUNNABLES && fn === 'load_runner') {
        return {v: 'dyn', why: `${q}() is a pre-1.0 API that BentoML 1.4 does not have`}
      }
      if (fw in FRAMEWORK_RUNNABLES && fn === 'load_model') {
        const a = pos[0] ?? kw('bento_model')
        const av = a === undefined ? UNKNOWN : this.resolve(a.value, scope)
        if (av.v === 'model') return {v: 'model', ref: av.ref, stored: false}
        const ref = this.modelRef(e, scope, q, a, 'bentoml', fw)
        return ref === undefined ? {v: 'dyn', why: 'dynamic model tag'} : {v: 'model', ref, stored: false}
      }
      if (q === 'bentoml.models.BentoModel') {
        const ref = this.modelRef(e, scope, q, pos[0] ?? kw('tag'), 'bentoml', null)
        return ref === undefined ? {v: 'dyn', why: 'dynamic model tag'} : {v: 'model', ref, stored: true}
      }
      if (q === 'bentoml.models.HuggingFaceModel') {
        const evaluated = (): {modelId: string; options: HfModelOptions} | undefined => this.evaluatedHfModel?.({module: scope.mod.name, file, line: e.line, col: e.col, ...(this.entry.name === undefined ? {} : {entryModule: this.entry.name})})
        const ref = this.modelRef(e, scope, q, pos[0] ?? kw('model_id'), 'huggingface', null, evaluated)
        if (ref === undefined) return {v: 'dyn', why: 'dynamic model id'}
        ref.hf ??= this.hfOptions(e, scope, pos, evaluated)
        return {v: 'model', ref, stored: true}
      }
      if (q === 'bentoml.Service') {
        // Keywords only the SDK's Service takes (`_bentoml_sdk.Service`, what `bentoml.Service` is from 1.4.16 on):
        // the runner-style Service takes (name, runners=, models=) and raises TypeError on these.
        if (e.args.some((a) => a.name !== undefined && SDK_SERVICE_KEYWORDS.has(a.name))) return {v: 'sdkCall', call: e, scope}
        return {v: 'legacy', call: e, scope, style: 'runner'}
      }
      if (q === 'bentoml.legacy.Service') return {v: 'legacy', call: e, scope, style: 'legacy'}
      if (q === 'bentoml._internal.service.Service' || q === 'bentoml._internal.service.service.Service') {
        return {v: 'legacy', call: e, scope, style: 'internal'}
      }
      if (q === 'bentoml.Runner') return this.classRunner(e, scope, file)
      if (q === 'bentoml.service') {
        const first = pos[0]
        if (first !== undefined) {
          const c = this.resolve(first.value, scope)
          if (c.v === 'class') return {v: 'sdk', cls: c.cls, scope: c.scope, config: e.args.filter((a) => a !== first)}
          return UNKNOWN
        }
        return {v: 'svcDecorator', config: e.args}
      }
      if (q === 'bentoml.depends') {
        const onArg = pos[0] ?? kw('on')
        const on = onArg === undefined ? null : this.resolve(onArg.value, scope)
        const d: Extract<Value, {v: 'depends'}> = {v: 'depends', on}
        for (const key of ['url', 'deployment', 'cluster'] as const) {
          const a = kw(key)
          if (a === undefined) continue
          const u = this.resolve(a.value, scope)
          if (u.v === 'str') d[key] = u.s
          else if (!(u.v === 'const' && u.value === null)) d[key] = '<dynamic>'
        }
        return d
      }
      if (parts[1] === 'io' && parts.length === 3) {
        const cls = parts[2] ?? ''
        return {v: 'io', io: {type: IO_DESCRIPTORS[cls] ?? cls, args: this.literalArgs(e.args, scope)}}
      }
      if (parts[1] === 'io' && parts.length === 4 && fn === 'from_sample') {
        const cls = parts[2] ?? ''
        return {v: 'io', io: {type: IO_DESCRIPTORS[cls] ?? cls, args: {}}}
      }
    }
    return {v: 'dyn', why: `result of ${q}(...)`}
  }

  /** `HuggingFaceModel(model_id, revision="main", endpoint=None, include=None, exclude=None)`: literal arguments only. */
  private hfOptions(e: CallExpr, scope: Scope, pos: Arg[], evaluated?: () => {modelId: string; options: HfModelOptions} | undefined): HfModelOptions {
    const arg = (i: number, name: string): Arg | undefined => pos[i] ?? e.args.find((a) => a.name === name)
    const file = scope.mod.file ?? ''
    // Arguments that are not literals: what the module computes for them, when the interpreter knows it.
    const literal = [arg(1, 'revision'), arg(2, 'endpoint'), arg(3, 'include'), arg(4, 'exclude')].every((a) => a === undefined || literalOf(this, a.value, scope).ok)
    const computed = literal ? undefined : evaluated?.()
    if (computed) return computed.options
    const value = (a: Arg | undefined, what: string): unknown => {
      if (a === undefined) return null
      const r = literalOf(this, a.value, scope)
      if (r.ok) return r.value
      this.diagnostics.push({
        file,
        line: a.value.line,
        col: a.value.col,
        severity: 'error',
        message: `${what}= of HuggingFaceModel(...) at ${file}:${a.value.line} is not a literal or a module-level constant (${r.why}); BentoML records it in bento.yaml`,
        hint: `write ${what}= literally`,
      })
      return null
    }
    const strList = (v: unknown): string[] | null => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : null)
    const revision = value(arg(1, 'revision'), 'revision')
    const endpoint = value(arg(2, 'endpoint'), 'endpoint')
    return {
      revision: typeof revision === 'string' ? revision : 'main',
      endpoint: typeof endpoint === 'string' ? endpoint : null,
      include: strList(value(arg(3, 'include'), 'include')),
      exclude: strList(value(arg(4, 'exclude'), 'exclude')),
    }
  }

  private literalArgs(args: Arg[], scope: Scope): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const a of args) {
      if (a.name === undefined) continue
      const v = this.resolve(a.value, scope)
      if (v.v === 'str') out[a.name] = v.s
      else if (v.v === 'const') out[a.name] = v.value
      else if (v.v === 'list' && v.items.every((x) => x.v === 'const')) out[a.name] = v.items.map((x) => (x.v === 'const' ? x.value : null))
      else if (v.v === 'io') out[a.name] = v.io
      else out[a.name] = {dynamic: true}
    }
    return out
  }

  /** Create (or find) the model reference made by call `e`; warns and returns undefined for a dynamic tag. */
  private modelRef(
    e: CallExpr,
    scope: Scope,
    via: string,
    arg: Arg | undefined,
    registry: 'bentoml' | 'huggingface',
    framework: string | null,
    evaluated?: () => {modelId: string; options: HfModelOptions} | undefined,
  ): ModelRef | undefined {
    const file = scope.mod.file ?? ''
    const key = `${file}:${e.line}:${e.col}`
    const existing = this.refs.get(key)
    if (existing !== undefined) return existing
    const v = arg === undefined ? ({v: 'dyn', why: 'no tag argument'} as Value) : this.resolve(arg.value, scope)
    const computed = v.v === 'str' ? undefined : evaluated?.()
    if (computed) {
      const ref: ModelRef = {tag: computed.modelId, registry, framework, via, file, line: e.line, col: e.col, usage: 'other', hf: computed.options}
      this.refs.set(key, ref)
      return ref
    }
    if (v.v !== 'str') {
      if (!this.warnedAt.has(key)) {
        this.warnedAt.add(key)
        const line = arg?.value.line ?? e.line
        const hf = registry === 'huggingface'
        const what = hf ? 'repository id' : 'tag'
        const why =
          v.v === 'q'
            ? ` (\`${v.name}\` is a value of a package outside the project, which bento does not import)`
            : v.v === 'dyn'
              ? ` (${v.why})`
              : ''
        const d: Diagnostic = {
          file,
          line,
          col: arg?.value.col ?? e.col,
          severity: 'warning',
          message: `cannot tell which model ${via}() at ${file}:${line} loads: its ${what} is not a string literal or a module-level constant of the project${why}`,
          hint: hf
            ? `write the repository id as a literal string at ${file}:${line} (HuggingFaceModel("org/name"), or a module-level constant of the project); \`models:\` in ${this.configFile} cannot stand in for it (BentoML looks those up in the local model store)`
            : `write the tag as a literal string at ${file}:${line}, or list the model under \`models\` in ${this.configFile} so it is packed into the Bento`,
        }
        this.diagnostics.push(d)
        this.refDiagnostics.set(key, d)
        if (hf) this.hfGaps.add(d)
      }
      return undefined
    }
    const ref: ModelRef = {tag: v.s, registry, framework, via, file, line: e.line, col: e.col, usage: 'other'}
    this.refs.set(key, ref)
    return ref
  }

  private modelRunner(e: CallExpr, ref: ModelRef, scope: Scope): Value {
    const kw = (name: string): Arg | undefined => e.args.find((a) => a.name === name)
    const nameArg = e.args.find((a) => a.name === undefined && a.star === undefined) ?? kw('name')
    const nameV = nameArg === undefined ? undefined : this.resolve(nameArg.value, scope)
    const embeddedV = kw('embedded') === undefined ? undefined : this.resolve((kw('embedded') as Arg).value, scope)
    const tagName = splitTag(ref.tag).name.toLowerCase()
    const runnable = ref.framework === null ? '' : (FRAMEWORK_RUNNABLES[ref.framework] ?? '')
    const runner: RunnerInfo = {
      name: nameV?.v === 'str' && nameV.s !== '' ? nameV.s.toLowerCase() : tagName,
      runnableType: runnable,
      modelTag: ref.tag,
      models: [ref.tag],
      embedded: embeddedV?.v === 'const' && embeddedV.value === true,
      file: scope.mod.file ?? '',
      line: e.line,
    }
    return {v: 'runner', runner, refs: [ref]}
  }

  private classRunner(e: CallExpr, scope: Scope, file: string): Value {
    const kw = (name: string): Arg | undefined => e.args.find((a) => a.name === name)
    const clsArg = e.args.find((a) => a.name === undefined && a.star === undefined) ?? kw('runnable_class')
    const clsName = clsArg === undefined ? '' : (dottedName(clsArg.value)?.split('.').pop() ?? '')
    const nameV = kw('name') === undefined ? undefined : this.resolve((kw('name') as Arg).value, scope)
    const modelsV = kw('models') === undefined ? undefined : this.resolve((kw('models') as Arg).value, scope)
    const embeddedV = kw('embedded') === undefined ? undefined : this.resolve((kw('embedded') as Arg).value, scope)
    const refs = modelsV?.v === 'list' ? modelsV.items.flatMap((x) => (x.v === 'model' ? [x.ref] : [])) : []
    const runner: RunnerInfo = {
      name: nameV?.v === 'str' ? nameV.s.toLowerCase() : clsName.toLowerCase(),
      runnableType: clsName,
      modelTag: refs[0]?.tag ?? '',
      models: refs.map((r) => r.tag),
      embedded: embeddedV?.v === 'const' && embeddedV.value === true,
      file,
      line: e.line,
    }
    if (isNonString(nameV)) {
      this.diagnostics.push({
        file,
        line: e.line,
        col: e.col,
        severity: 'warning',
        message: `runner name at ${file}:${e.line} is not a string literal; using '${runner.name}'`,
      })
    }
    return {v: 'runner', runner, refs}
  }

  warnOnce(d: Diagnostic): void {
    const key = `${d.file}:${d.line ?? 0}:${d.message}`
    if (this.warnedAt.has(key)) return
    this.warnedAt.add(key)
    this.diagnostics.push(d)
  }
}

function describe(v: Value): string {
  if (v.v === 'dyn') return v.why
  if (v.v === 'unknown') return 'not a Model.to_runner() or bentoml.Runner(...) that bento can follow'
  return `it is a ${v.v === 'q' ? `reference to ${v.name}` : v.v}, not a runner`
}

function isNonString(v: Value | undefined): boolean {
  return v !== undefined && v.v !== 'str'
}

// ---------------------------------------------------------------------------------------------

/** Split the bentofile `service` into the module BentoML imports and the attribute path. */
function resolveImport(
  reader: Reader,
  service: string,
  isProjectFile?: (key: string) => boolean,
): {module: string; attr: string; file: string | null; isPackage: boolean; diagnostics: Diagnostic[]} {
  const diagnostics: Diagnostic[] = []
  const trimmed = service.trim()
  const spec = trimmed === '' ? 'service.py' : trimmed
  const colon = spec.indexOf(':')
  const importPath = (colon === -1 ? spec : spec.slice(0, colon)).replace(/\\/g, '/')
  const attr = colon === -1 ? '' : spec.slice(colon + 1)
  const filePath = posix.normalize(importPath.replace(/^(\.\/)+/, ''))
  const err = (message: string, hint: string): void => {
    diagnostics.push({file: reader.configFile, key: 'service', severity: 'error', message, hint})
  }
  if (importPath === '') {
    err(`invalid import target "${service}": must be "<module>:<attribute>" or "<module>"`, 'e.g. service: "service:svc"')
    return {module: '', attr, file: null, isPackage: false, diagnostics}
  }
  // BentoML (loader._do_import): a path naming a file of the build context (after realpath) is the module of its
  // path from the build context, one dotted part per directory, `__init__.py` or not (namespace packages).
  const isFile = (p: string): boolean => reader.files.has(p) && (isProjectFile?.(p) ?? true)
  if (filePath === '..' || filePath.startsWith('../') || importPath.startsWith('/')) {
    err(
      `service module file "${importPath}" is outside the build context: BentoML imports the service from the build context only`,
      'move the service module into the project, or build from the directory that holds it',
    )
    return {module: '', attr, file: null, isPackage: false, diagnostics}
  }
  if (isFile(filePath)) {
    if (!filePath.endsWith('.py')) {
      err(`invalid module extension in "${service}": only ".py" files can be imported`, 'name a .py file or a module, e.g. "service:svc"')
      return {module: '', attr, file: null, isPackage: false, diagnostics}
    }
    const module = filePath.slice(0, -3).split('/').join('.')
    const where = reader.moduleFile(module)
    if (where?.file !== filePath) {
      err(
        `BentoML imports "${filePath}" as module "${module}", which is ${where?.file ? `"${where.file}" in the build context` : 'not importable from the build context'}`,
        'point `service` at the module by its dotted name, or rename the file or the package that shadows it',
      )
      return {module, attr, file: null, isPackage: false, diagnostics}
    }
    return {module, attr, file: filePath, isPackage: false, diagnostics}
  }
  if (!importPath.endsWith('.py') && importPath.includes('/') && reader.files.has(`${filePath}.py`)) {
    err(
      `"${importPath}" is neither a file nor a Python module name, so BentoML cannot import it`,
      `use the file path "${filePath}.py:${attr || '<attribute>'}" or the dotted module "${filePath.replace(/\//g, '.')}:${attr || '<attribute>'}"`,
    )
    return {module: importPath, attr, file: null, isPackage: false, diagnostics}
  }
  if (importPath.endsWith('.py') || importPath.includes('/')) {
    const expected = importPath.endsWith('.py') ? filePath : `${filePath}.py`
    err(
      `service module file "${expected}" not found in the build context`,
      importPath.includes('/') && !importPath.endsWith('.py')
        ? `use "${filePath}.py:${attr || 'svc'}" or the dotted module form "${filePath.replace(/\//g, '.')}:${attr || 'svc'}"`
        : `create ${expected}, or point \`service:\` at the module that defines the service`,
    )
    return {module: importPath.replace(/\.py$/, ''), attr, file: null, isPackage: false, diagnostics}
  }
  const where = reader.moduleFile(importPath)
  if (where === undefined || where.file === null) {
    const path = importPath.split('.').join('/')
    err(
      `service module "${importPath}" not found: expected ${path}.py or ${path}/__init__.py in the build context`,
      `check \`service\` in ${reader.configFile} (format "<module>:<attribute>", e.g. "service:svc")`,
    )
    return {module: importPath, attr, file: null, isPackage: false, diagnostics}
  }
  return {module: importPath, attr, file: where.file, isPackage: where.isPackage, diagnostics}
}

/** Local modules imported anywhere in `mod` (absolute names). */
function importedModules(reader: Reader, mod: Mod): string[] {
  const out: string[] = []
  const visit = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.kind === 'import') {
        for (const n of s.names) {
          const parts = n.module.split('.')
          for (let i = 1; i <= parts.length; i++) out.push(parts.slice(0, i).join('.'))
        }
      } else if (s.kind === 'from') {
        const abs = reader.absolute(mod, s.level, s.module)
        const parts = abs.split('.')
        for (let i = 1; i <= parts.length; i++) out.push(parts.slice(0, i).join('.'))
        for (const n of s.names) if (n.name !== '*') out.push(`${abs}.${n.name}`)
      }
      visit(s.body)
    }
  }
  visit(mod.stmts)
  return out.filter((m) => m !== '' && reader.moduleFile(m)?.file)
}

/** Build the scope of a function or class body. */
function bodyScope(reader: Reader, s: Stmt, parent: Scope, owner?: {cls: ClassStmt; scope: Scope}): Scope {
  const scope: Scope = {bindings: new Map(), parent, mod: parent.mod, stars: []}
  if (s.kind === 'def') {
    s.params.forEach((p, i) => {
      let e: Expr | undefined = p
      if (e.k === 'ops') e = e.parts[0]
      if (e?.k !== 'name') return
      // The first parameter of a method (not a static/class method) is the instance.
      const plain = !s.decorators.some((d) => d.k === 'name' && (d.id === 'staticmethod' || d.id === 'classmethod'))
      scope.bindings.set(e.id, i === 0 && owner && plain ? {b: 'self', cls: owner.cls, classScope: owner.scope} : {b: 'unknown'})
    })
  }
  reader.bind(s.body, scope, true)
  return scope
}

/** Visit every statement with the scope it runs in (module, class body, function body). */
function walkStmts(
  reader: Reader,
  stmts: Stmt[],
  scope: Scope,
  funcParent: Scope,
  visit: (s: Stmt, scope: Scope) => void,
  owner?: {cls: ClassStmt; scope: Scope},
): void {
  for (const s of stmts) {
    visit(s, scope)
    if (s.kind === 'def') {
      const inner = bodyScope(reader, s, funcParent, owner)
      walkStmts(reader, s.body, inner, inner, visit)
    } else if (s.kind === 'class') {
      // Class scopes are not visible from methods: methods see the enclosing function/module scope.
      const inner = bodyScope(reader, s, scope)
      walkStmts(reader, s.body, inner, funcParent, visit, {cls: s, scope: inner})
    } else {
      walkStmts(reader, s.body, scope, funcParent, visit, owner)
    }
  }
}

export function readService(opts: ReadServiceOptions): ServiceInfo {
  // The schema's computed values come from the evaluation of the entry module (known once `service` is resolved).
  const entryModule: {name?: string} = {}
  const computed = opts.computedValue
  const reader = new Reader(opts.files, opts.configFile, opts.evaluatedHfModel, computed && ((e, file) => (entryModule.name === undefined ? undefined : computed(entryModule.name, e, file))), entryModule)
  const imp = resolveImport(reader, opts.service, opts.isProjectFile)
  if (imp.file !== null) entryModule.name = imp.module
  const info: ServiceInfo = {
    module: imp.module,
    attr: imp.attr,
    importString: imp.attr === '' ? imp.module : `${imp.module}:${imp.attr}`,
    kind: 'unknown',
    legacyStyle: null,
    at: null,
    name: null,
    bentoName: null,
    entryFile: imp.file,
    scannedFiles: [],
    runners: [],
    apis: [],
    modelTags: [],
    models: [],
    services: [],
    schema: null,
    diagnostics: [...imp.diagnostics],
  }
  if (imp.file === null) return info

  const entry = reader.load(imp.module)
  if (entry === undefined) return info

  // Load the service module and, transitively, the local modules it imports.
  const order: Mod[] = []
  const queue = [imp.module]
  const seen = new Set<string>()
  while (queue.length > 0) {
    const name = queue.shift() as string
    if (seen.has(name)) continue
    seen.add(name)
    const m = reader.load(name)
    if (m === undefined || m.file === null) continue
    order.push(m)
    queue.push(...importedModules(reader, m))
  }
  info.scannedFiles = order.map((m) => m.file as string)

  // Find the service object.
  let target: {attr: string; value: Value} | undefined
  if (imp.attr !== '') {
    const [first, ...rest] = imp.attr.split('.')
    const b = reader.lookup(first ?? '', entry.scope)
    if (b === undefined) {
      info.diagnostics.push({
        // The bentofile's `service` names it: the build points at that line.
        file: reader.configFile,
        key: 'service',
        severity: 'error',
        message: `attribute "${imp.attr}" not found in module "${imp.module}" (${entry.file ?? ''})`,
        hint: `define \`${first ?? ''}\` at module level in ${entry.file ?? ''} or fix \`service\` in ${reader.configFile}`,
      })
    } else {
      let value = reader.valueOfBinding(b)
      for (const part of rest) {
        value = value.v === 'sdk' ? (sdkDependencies(reader, value).find((d) => d.attr === part)?.value.on ?? UNKNOWN) : UNKNOWN
      }
      target = {attr: imp.attr, value}
    }
  } else {
    target = discover(reader, entry, info)
  }

  if (target !== undefined) {
    info.attr = target.attr
    info.importString = `${imp.module}:${target.attr}`
    const v = target.value
    if (v.v === 'legacy') readLegacy(reader, v, order, info)
    else if (v.v === 'sdk') readSdk(reader, v, info)
    else if (v.v === 'sdkCall') readSdkCall(reader, v, info)
    else {
      info.diagnostics.push({
        file: entry.file ?? '',
        key: 'service',
        severity: 'warning',
        message: `"${target.attr}" in ${entry.file ?? ''} is not recognisably a bentoml.Service(...) or an @bentoml.service class`,
        hint: `bento reads the service statically; list models under \`models\` in ${reader.configFile} and set \`name\` explicitly`,
      })
    }
  }

  // Visit every call in the scanned files so model references anywhere are found.
  for (const m of order) {
    walkStmts(reader, m.stmts, m.scope, m.scope, (s, scope) => {
      for (const e of stmtExprs(s)) {
        walkExpr(e, (x) => {
          if (x.k !== 'call') return
          const fv = reader.resolve(x.fn, scope)
          if (fv.v === 'q' && isModelCallable(fv.name)) reader.resolve(x, scope)
        })
      }
    })
  }

  info.models = [...reader.refs.values()]
  const declared = new Set((opts.declaredModels ?? []).map((t) => t.toLowerCase()))
  // A model BentoML would pack that bento cannot read, and no `models:` in the bentofile to say which: an error.
  // A Hugging Face model cannot be listed there: always an error.
  for (const d of reader.modelGaps) if (declared.size === 0 || reader.hfGaps.has(d)) d.severity = 'error'
  if (info.kind !== 'unknown') {
    for (const r of info.models) {
      if (r.usage !== 'other' || r.registry !== 'bentoml') continue
      if (info.modelTags.includes(r.tag) || declared.has(r.tag.toLowerCase()) || declared.has(splitTag(r.tag).name.toLowerCase())) continue
      reader.warnOnce({
        file: r.file,
        line: r.line,
        col: r.col,
        severity: 'warning',
        message: `model "${r.tag}" is loaded at ${r.file}:${r.line} but is not ${info.kind === 'legacy' ? "a runner's model or in bentoml.Service(models=[...])" : 'a service class attribute'}, so BentoML does not pack it into the Bento`,
        hint: `list the model under \`models\` in ${reader.configFile} so it is packed`,
      })
    }
  }
  info.diagnostics.push(...reader.diagnostics)
  return info
}

function isModelCallable(q: string): boolean {
  const parts = q.split('.')
  if (parts[0] !== 'bentoml') return false
  if (q === 'bentoml.models.get' || q === 'bentoml.models.BentoModel' || q === 'bentoml.models.HuggingFaceModel') return true
  return parts.length === 3 && (parts[1] ?? '') in FRAMEWORK_RUNNABLES && (parts[2] === 'get' || parts[2] === 'load_model')
}

/** BentoML's discovery when `service:` has no attribute: the single service object in the module. */
function discover(reader: Reader, entry: Mod, info: ServiceInfo): {attr: string; value: Value} | undefined {
  const found: Array<{attr: string; value: Value}> = []
  for (const [name, b] of entry.scope.bindings) {
    if (b.b === 'module' || b.b === 'unknown' || b.b === 'def') continue
    const value = reader.valueOfBinding(b)
    if (value.v === 'sdk' || value.v === 'legacy' || value.v === 'sdkCall') found.push({attr: name, value})
  }
  const sdk = found.filter((f) => f.value.v === 'sdk' || f.value.v === 'sdkCall')
  const deps = new Set<ClassStmt>()
  for (const f of sdk) {
    if (f.value.v !== 'sdk') continue
    for (const d of sdkDependencies(reader, f.value)) if (d.value.on?.v === 'sdk') deps.add(d.value.on.cls)
  }
  let candidates = sdk.filter((f) => f.value.v === 'sdkCall' || (f.value.v === 'sdk' && !deps.has(f.value.cls)))
  // `bentoml.Service(...)` without `runners=` is an SDK Service from 1.4.16 on (`_bentoml_sdk.Service`, e.g. with
  // `cmd=`): BentoML 1.4.40 counts it among the module's services beside the @bentoml.service classes.
  if (candidates.length > 0) {
    const sdkCalls = found.filter((f) => f.value.v === 'legacy' && f.value.style === 'runner' && !f.value.call.args.some((a) => a.name === 'runners'))
    const both = new Set([...candidates, ...sdkCalls])
    candidates = found.filter((f) => both.has(f))
  }
  if (candidates.length === 0) candidates = found.filter((f) => f.value.v === 'legacy')
  const file = entry.file ?? ''
  if (candidates.length === 1) return candidates[0]
  // A module bento could not read at all (too large, nested too deeply) is already an error: no second one.
  if (candidates.length === 0 && info.diagnostics.some((d) => d.file === file && d.severity === 'error')) return undefined
  info.diagnostics.push({
    file,
    key: 'service',
    severity: 'error',
    message:
      candidates.length === 0
        ? `no service found in module "${entry.name}" (${file})`
        : `multiple services found in module "${entry.name}" (${candidates.map((c) => c.attr).join(', ')})`,
    hint: `set \`service\` to "<module>:<service variable or class>" in ${reader.configFile}`,
  })
  return undefined
}

function readLegacy(reader: Reader, v: Extract<Value, {v: 'legacy'}>, order: Mod[], info: ServiceInfo): void {
  info.kind = 'legacy'
  info.legacyStyle = v.style
  info.at = {file: v.scope.mod.file ?? '', line: v.call.line}
  const file = v.scope.mod.file ?? ''
  const args = v.call.args
  const kw = (name: string): Arg | undefined => args.find((a) => a.name === name)
  const nameArg = args.find((a) => a.name === undefined && a.star === undefined) ?? kw('name')
  const nameV = nameArg === undefined ? undefined : reader.resolve(nameArg.value, v.scope)
  if (nameV?.v === 'str') {
    const lower = nameV.s.toLowerCase()
    if (lower !== nameV.s) {
      info.diagnostics.push({file, line: v.call.line, severity: 'warning', message: `BentoML converts service name "${nameV.s}" to lowercase: "${lower}"`})
    }
    if (!isValidTagName(lower)) {
      info.diagnostics.push({
        file,
        line: v.call.line,
        key: 'service',
        severity: 'error',
        message: `service name "${lower}" is not a valid BentoML name (lowercase letters, digits, '-', '_', '.'; must start and end with a letter or digit; at most 63 characters)`,
        hint: `rename the service, or set \`name\` in ${reader.configFile}`,
      })
    }
    info.name = lower
    info.bentoName = lower
  } else {
    info.diagnostics.push({
      file,
      line: v.call.line,
      severity: 'warning',
      message: `the service name at ${file}:${v.call.line} is not a string literal; bento cannot tell the Bento name`,
      hint: `set \`name\` in ${reader.configFile}`,
    })
  }

  const runnersArg = kw('runners')
  if (runnersArg !== undefined) {
    const exprs = runnersArg.value.k === 'seq' ? runnersArg.value.items : [runnersArg.value]
    const rv = reader.resolve(runnersArg.value, v.scope)
    const items = rv.v === 'list' ? rv.items : [rv]
    items.forEach((item, idx) => {
      const ex = exprs[idx] ?? runnersArg.value
      if (item.v === 'runner') {
        for (const r of item.refs) r.usage = 'runner'
        if (info.runners.some((r) => r.name === item.runner.name)) {
          info.diagnostics.push({file: item.runner.file, line: item.runner.line, severity: 'error', message: `duplicate runner name "${item.runner.name}" in service runners`, hint: 'give each runner a distinct name= argument'})
        }
        info.runners.push(item.runner)
      } else {
        const label = dottedName(ex) ?? 'runner'
        const d: Diagnostic = {
          file,
          line: ex.line,
          col: ex.col,
          severity: 'warning',
          message: `runner \`${label}\` of the service at ${file}:${ex.line} cannot be read statically (${describe(item)})`,
          hint: `list its models under \`models\` in ${reader.configFile} so they are packed into the Bento`,
        }
        info.diagnostics.push(d)
        reader.modelGaps.add(d)
      }
    })
  }
  const serviceModels: string[] = []
  const modelsArg = kw('models')
  if (modelsArg !== undefined) {
    const mv = reader.resolve(modelsArg.value, v.scope)
    const items = mv.v === 'list' ? mv.items : [mv]
    for (const item of items) {
      if (item.v === 'model') {
        item.ref.usage = 'service'
        if (item.ref.registry === 'bentoml') serviceModels.push(item.ref.tag)
      } else {
        const d: Diagnostic = {
          file,
          line: modelsArg.value.line,
          severity: 'warning',
          message: `a model in bentoml.Service(models=[...]) at ${file}:${modelsArg.value.line} cannot be read statically`,
          hint: `list the model under \`models\` in ${reader.configFile}`,
        }
        info.diagnostics.push(d)
        reader.modelGaps.add(d)
      }
    }
  }
  info.modelTags = unique([...serviceModels, ...info.runners.flatMap((r) => r.models)])

  // APIs: functions decorated with @<svc>.api(...)
  for (const m of order) {
    walkStmts(reader, m.stmts, m.scope, m.scope, (s, scope) => {
      if (s.kind !== 'def') return
      for (const d of s.decorators) {
        if (d.k !== 'call' || d.fn.k !== 'attr' || d.fn.attr !== 'api') continue
        const owner = reader.resolve(d.fn.obj, scope)
        if (owner.v !== 'legacy' || owner.call !== v.call) continue
        info.apis.push(legacyApi(reader, s, d, scope, info))
      }
    })
  }
}

function legacyApi(reader: Reader, s: DefStmt, d: CallExpr, scope: Scope, info: ServiceInfo): ApiInfo {
  const file = scope.mod.file ?? ''
  const kw = (name: string): Arg | undefined => d.args.find((a) => a.name === name)
  const pos = d.args.filter((a) => a.name === undefined && a.star === undefined)
  const str = (a: Arg | undefined): string | undefined => {
    if (a === undefined) return undefined
    const v = reader.resolve(a.value, scope)
    return v.v === 'str' ? v.s : undefined
  }
  const io = (a: Arg | undefined, which: string): IODescriptorInfo | undefined => {
    if (a === undefined) return undefined
    const v = reader.resolve(a.value, scope)
    if (v.v === 'io') return v.io
    info.diagnostics.push({
      file,
      line: a.value.line,
      col: a.value.col,
      severity: 'warning',
      message: `the ${which} IO descriptor of API "${s.name}" at ${file}:${a.value.line} cannot be read statically`,
    })
    return undefined
  }
  const name = str(kw('name')) ?? s.name
  const route = str(kw('route')) ?? name
  const input = io(pos[0] ?? kw('input'), 'input')
  const output = io(pos[1] ?? kw('output'), 'output')
  const docArg = kw('doc')
  let doc: string | null = str(docArg) ?? null
  if (docArg === undefined) {
    const first = s.body[0]
    doc = first?.kind === 'expr' && first.exprs.length === 1 && first.exprs[0]?.k === 'str' ? (first.exprs[0].value ?? null) : null
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || RESERVED_API_NAMES.includes(name)) {
    info.diagnostics.push({
      file,
      line: d.line,
      severity: 'error',
      message: RESERVED_API_NAMES.includes(name)
        ? `API name "${name}" is reserved for infrastructure endpoints`
        : `invalid API name "${name}": must be a Python identifier`,
      hint: 'rename the API function or pass name=',
    })
  }
  if (RESERVED_API_NAMES.includes(route) || /[?#]|^\/\/|^:/.test(route)) {
    info.diagnostics.push({file, line: d.line, severity: 'error', message: `invalid API route "${route}"`, hint: 'choose another route='})
  }
  if (info.apis.some((a) => a.name === name)) {
    info.diagnostics.push({file, line: d.line, severity: 'error', message: `API ${name} is already defined in service ${info.name ?? ''}`, hint: 'give each API a distinct name'})
  }
  const api: ApiInfo = {
    name,
    route,
    inputType: input?.type ?? '',
    outputType: output?.type ?? '',
    method: 'POST',
    doc,
    file,
    line: s.line,
  }
  if (input !== undefined) api.input = input
  if (output !== undefined) api.output = output
  return api
}

interface SdkDep {
  attr: string
  value: Extract<Value, {v: 'depends'}>
}

function classAttrs(reader: Reader, cls: ClassStmt, scope: Scope): Array<{attr: string; value: Value; line: number; expr: Expr}> {
  const inner: Scope = {bindings: new Map(), parent: scope, mod: scope.mod, stars: []}
  reader.bind(cls.body, inner, true)
  const out: Array<{attr: string; value: Value; line: number; expr: Expr}> = []
  for (const [attr, b] of inner.bindings) {
    if (b.b !== 'expr') continue
    out.push({attr, value: reader.valueOfBinding(b), line: b.expr.line, expr: b.expr})
  }
  // dir() order: sorted by name
  return out.sort((a, b) => (a.attr < b.attr ? -1 : a.attr > b.attr ? 1 : 0))
}

function sdkDependencies(reader: Reader, v: Extract<Value, {v: 'sdk'}>): SdkDep[] {
  return classAttrs(reader, v.cls, v.scope).flatMap((a) => (a.value.v === 'depends' ? [{attr: a.attr, value: a.value}] : []))
}

function sdkName(reader: Reader, v: Extract<Value, {v: 'sdk'}>): string {
  const nameArg = v.config.find((a) => a.name === 'name')
  const nv = nameArg === undefined ? undefined : reader.resolve(nameArg.value, v.scope)
  return nv?.v === 'str' && nv.s !== '' ? nv.s : v.cls.name
}

function readSdk(reader: Reader, v: Extract<Value, {v: 'sdk'}>, info: ServiceInfo): void {
  info.kind = 'sdk'
  info.at = {file: v.scope.mod.file ?? '', line: v.cls.line}
  info.name = sdkName(reader, v)
  info.bentoName = toSnakeCase(info.name).toLowerCase()
  const visited = new Set<ClassStmt>()
  const visit = (s: Extract<Value, {v: 'sdk'}>, isEntry: boolean): void => {
    if (visited.has(s.cls)) return
    visited.add(s.cls)
    const file = s.scope.mod.file ?? ''
    const attrs = classAttrs(reader, s.cls, s.scope)
    const svc: SdkServiceInfo = {name: sdkName(reader, s), className: s.cls.name, file, line: s.cls.line, models: [], dependencies: []}
    const apis = sdkApis(reader, s)
    for (const a of attrs) {
      if (a.value.v === 'dyn' && a.expr.k === 'call') {
        const gap = reader.refDiagnostics.get(`${file}:${a.expr.line}:${a.expr.col}`)
        if (gap) reader.modelGaps.add(gap)
      }
      if (a.value.v === 'model' && a.value.stored) {
        a.value.ref.usage = 'service'
        svc.models.push({tag: a.value.ref.tag, registry: a.value.ref.registry, ...(a.value.ref.hf ? {hf: a.value.ref.hf} : {}), line: a.line})
      } else if (a.value.v === 'depends') {
        const on = a.value.on
        const dep: SdkServiceInfo['dependencies'][number] = {attr: a.attr, on: on?.v === 'sdk' ? sdkName(reader, on) : null}
        if (a.value.url !== undefined) dep.url = a.value.url
        if (a.value.deployment !== undefined) dep.deployment = a.value.deployment
        if (a.value.cluster !== undefined) dep.cluster = a.value.cluster
        if (on !== null && on.v !== 'sdk' && !(on.v === 'const' && on.value === null)) {
          info.diagnostics.push({
            file,
            line: a.line,
            severity: 'error',
            message:
              on.v === 'class'
                ? `bentoml.depends(${on.cls.name}) at ${file}:${a.line}: ${on.cls.name} is not a service (BentoML raises TypeError)`
                : `bentoml.depends(...) at ${file}:${a.line} (attribute "${a.attr}" of ${s.cls.name}) does not name an @bentoml.service class bento can find (${describe(on)})`,
            hint: 'pass an @bentoml.service class defined in the project, or depends(url=...) / depends(deployment=...)',
          })
        } else if (on === null && dep.url === undefined && dep.deployment === undefined) {
          info.diagnostics.push({file, line: a.line, severity: 'error', message: `bentoml.depends() at ${file}:${a.line} names no service, url or deployment`, hint: 'pass the service class, or url=/deployment='})
        }
        for (const k of ['url', 'deployment', 'cluster'] as const) {
          if (dep[k] === '<dynamic>') {
            info.diagnostics.push({file, line: a.line, severity: 'error', message: `the ${k}= of bentoml.depends(...) at ${file}:${a.line} is not a string literal or a module-level constant`, hint: `write the ${k} literally`})
          }
        }
        svc.dependencies.push(dep)
      }
    }
    if (info.services.some((x) => x.name === svc.name)) {
      info.diagnostics.push({
        file,
        line: s.cls.line,
        severity: 'error',
        message: `dependency conflict: two services are named "${svc.name}" (${file}:${s.cls.line} and ${info.services.find((x) => x.name === svc.name)?.file ?? ''}:${info.services.find((x) => x.name === svc.name)?.line ?? ''})`,
        hint: 'give each service a distinct name (the class name, or @bentoml.service(name=...))',
      })
    }
    info.services.push(svc)
    if (isEntry) {
      info.apis = apis.map((a) => ({
        name: a.attr,
        route: a.options.route ?? (a.def.name === '__call__' ? '/' : `/${a.def.name}`),
        inputType: '',
        outputType: '',
        method: 'POST',
        doc: docstringOf(a.def.body),
        file,
        line: a.def.line,
      }))
      info.schema = serviceSchema(reader, s, svc.name, apis, info.diagnostics)
    }
    for (const a of attrs) {
      if (a.value.v === 'depends' && a.value.on?.v === 'sdk') visit(a.value.on, false)
    }
  }
  visit(v, true)
  info.modelTags = unique(info.services.flatMap((s) => s.models.filter((m) => m.registry === 'bentoml').map((m) => m.tag)))
}

/**
 * `bentoml.Service("Name", cmd=[...], config={...})`: the SDK's Service made without a class (its `inner` is BentoML's
 * empty `_DummyService`): no APIs, no dependencies, a schema without routes. Its config, cmd, image, envs and labels
 * are read by the interpreter (sdk-config.ts), at the call's line.
 */
function readSdkCall(reader: Reader, v: Extract<Value, {v: 'sdkCall'}>, info: ServiceInfo): void {
  const file = v.scope.mod.file ?? ''
  const line = v.call.line
  const nameArg = v.call.args.find((a) => a.name === 'name') ?? v.call.args.find((a) => a.name === undefined && a.star === undefined)
  const nv = nameArg === undefined ? undefined : reader.resolve(nameArg.value, v.scope)
  info.kind = 'sdk'
  info.at = {file, line}
  if (nv?.v !== 'str') {
    info.diagnostics.push({
      file,
      line,
      severity: 'error',
      message: `the name of bentoml.Service(...) at ${file}:${line} is not a string literal or a module-level constant`,
      hint: 'write the name literally: bentoml.Service("MyService", cmd=[...])',
    })
    return
  }
  const svc: SdkServiceInfo = {name: nv.s, className: nv.s, file, line, models: [], dependencies: []}
  const modelsArg = v.call.args.find((a) => a.name === 'models')
  if (modelsArg !== undefined) {
    const mv = reader.resolve(modelsArg.value, v.scope)
    const items = mv.v === 'list' ? mv.items : null
    if (items === null || !items.every((m) => m.v === 'model')) {
      info.diagnostics.push({
        file,
        line: modelsArg.value.line,
        severity: 'error',
        message: `the models= of bentoml.Service(...) at ${file}:${modelsArg.value.line} cannot be read statically`,
        hint: 'write a list of bentoml.models.BentoModel("tag") / HuggingFaceModel("id") calls',
      })
    } else {
      for (const m of items) {
        if (m.v !== 'model') continue
        m.ref.usage = 'service'
        svc.models.push({tag: m.ref.tag, registry: m.ref.registry, ...(m.ref.hf ? {hf: m.ref.hf} : {}), line: modelsArg.value.line})
      }
    }
  }
  info.name = svc.name
  info.bentoName = toSnakeCase(svc.name).toLowerCase()
  info.services = [svc]
  info.apis = []
  info.schema = {name: svc.name, type: 'service', routes: [], paths: {}}
  info.modelTags = unique(svc.models.filter((m) => m.registry === 'bentoml').map((m) => m.tag))
}

interface SdkApi extends ApiMethodInfo {
  scope: Scope
}

/** The `@bentoml.api` / `@bentoml.task` methods of a service class, in `dir()` order (sorted by attribute). */
function sdkApis(reader: Reader, s: Extract<Value, {v: 'sdk'}>): SdkApi[] {
  const out: SdkApi[] = []
  for (const m of s.cls.body) {
    if (m.kind !== 'def') continue
    for (const d of m.decorators) {
      const fnExpr = d.k === 'call' ? d.fn : d
      const dv = reader.resolve(fnExpr, s.scope)
      if (dv.v !== 'q') continue
      const q = canonical(dv.name)
      if (q !== 'bentoml.api' && q !== 'bentoml.task') continue
      const kw = (name: string): Arg | undefined => (d.k === 'call' ? d.args.find((x) => x.name === name) : undefined)
      const lit = (name: string): unknown => {
        const a = kw(name)
        if (a === undefined) return undefined
        const r = literalOf(reader, a.value, s.scope)
        return r.ok ? r.value : undefined
      }
      const route = lit('route')
      const batchable = lit('batchable')
      const api: SdkApi = {
        attr: m.name,
        def: m,
        decorator: d,
        isTask: q === 'bentoml.task',
        options: {...(typeof route === 'string' ? {route} : {}), ...(typeof batchable === 'boolean' ? {batchable} : {})},
        scope: s.scope,
      }
      const inSpec = kw('input_spec')
      const outSpec = kw('output_spec')
      if (inSpec) api.inputSpec = inSpec.value
      if (outSpec) api.outputSpec = outSpec.value
      out.push(api)
    }
  }
  return out.sort((a, b) => (a.attr < b.attr ? -1 : a.attr > b.attr ? 1 : 0))
}

/** `Service.schema()`: name, type, routes (one per API), the class docstring, paths. */
function serviceSchema(
  reader: Reader,
  s: Extract<Value, {v: 'sdk'}>,
  name: string,
  apis: SdkApi[],
  diagnostics: Diagnostic[],
): Record<string, unknown> {
  const problems: SchemaProblem[] = []
  const routes = apis.map((a) => apiSchema(a, schemaEnv(reader, a.scope), problems))
  // A model used by several APIs (or twice in one) is read each time: one warning per site.
  const seen = new Set<string>()
  for (const p of problems) {
    const key = `${p.file}:${p.line}:${p.col}:${p.message}`
    if (seen.has(key)) continue
    seen.add(key)
    diagnostics.push(
      p.kind === 'default'
        ? {
            file: p.file,
            line: p.line,
            col: p.col,
            severity: 'warning',
            message: `${p.message}; the Bento's schema (bento.yaml, apis/schema.json) leaves the default out (the field is not required), where BentoML would write the value`,
            hint: 'write the default as a literal (or a module-level constant of the project) for the schema to show it',
          }
        : {
            file: p.file,
            line: p.line,
            col: p.col,
            severity: 'warning',
            message: `${p.message}; the Bento's schema (bento.yaml, apis/schema.json) shows {} there, where BentoML would give the type's JSON schema`,
            hint: 'annotate with types bento knows (builtins, typing, numpy, PIL, pathlib, pandas, torch, pydantic models of the project)',
          },
    )
  }
  const paths: Record<string, unknown> = {}
  for (const r of routes) paths[String(r.route)] = {mounted: false}
  for (const p of mountedPaths(reader, s, diagnostics)) paths[p] = {mounted: true}
  const doc = docstringOf(s.cls.body)
  return {
    name,
    type: 'service',
    routes,
    ...(doc === null ? {} : {description: doc}),
    paths,
  }
}

interface MountProblem {
  file: string
  line: number
  col: number
  why: string
}

/**
 * The paths of the ASGI apps mounted on the service (`@bentoml.asgi_app(app, path=…)`), as `Service.schema()` lists
 * them: the routes declared statically in the app's module (`FastAPI(…)`'s own docs routes, `@app.get("/x")`,
 * `app.add_api_route("/x", f)`, `app.mount("/x", sub)`, `Starlette(routes=[Route("/x", f), Mount(…)])`), joined under
 * the mount path. What bento cannot read is left out, with one warning for the service.
 */
function mountedPaths(reader: Reader, s: Extract<Value, {v: 'sdk'}>, diagnostics: Diagnostic[]): string[] {
  const out: string[] = []
  const problems: MountProblem[] = []
  const processed = new Set<Expr>()
  const fileOf = (scope: Scope): string => scope.mod.file ?? ''
  const problem = (scope: Scope, e: {line: number; col: number}, why: string): void => {
    problems.push({file: fileOf(scope), line: e.line, col: e.col, why})
  }
  const literalPath = (e: Expr | undefined, scope: Scope): string | undefined => {
    if (e === undefined) return undefined
    const v = reader.resolve(e, scope)
    return v.v === 'str' ? v.s : undefined
  }
  const positional = (args: Arg[]): Expr[] => args.filter((a) => a.name === undefined && a.star === undefined).map((a) => a.value)
  const keyword = (args: Arg[], name: string): Expr | undefined => args.find((a) => a.name === name)?.value

  const walkRoutes = (list: Expr, scope: Scope, prefix: string): void => {
    if (list.k !== 'seq' || list.kind === 'set') {
      problem(scope, list, '`routes=` is not a list bento can read')
      return
    }
    for (const item of list.items) {
      const fn = item.k === 'call' ? reader.resolve(item.fn, scope) : undefined
      if (item.k !== 'call' || fn?.v !== 'q' || !STARLETTE_ROUTES.has(fn.name)) {
        problem(scope, item, 'a route that is not Route(…)/WebSocketRoute(…)/Mount(…) with a literal path')
        continue
      }
      const path = literalPath(positional(item.args)[0] ?? keyword(item.args, 'path'), scope)
      if (path === undefined) {
        problem(scope, item, 'a route path that is not a literal string')
        continue
      }
      const full = joinPaths(prefix, path)
      out.push(full)
      const sub = fn.name === 'starlette.routing.Mount' ? (positional(item.args)[1] ?? keyword(item.args, 'app')) : undefined
      if (sub !== undefined) walkApp(sub, scope, full)
    }
  }

  const walkApp = (e: Expr, scope: Scope, prefix: string): void => {
    let call: Expr | undefined
    let defScope = scope
    let appName: string | undefined
    if (e.k === 'call') call = e
    else if (e.k === 'name') {
      let name = e.id
      let b = reader.lookup(name, scope)
      for (let hops = 0; b?.b === 'from' && hops < 20; hops++) {
        const m = reader.load(b.module)
        if (m === undefined) break
        name = b.name
        b = reader.lookup(name, m.scope)
      }
      if (b?.b === 'expr') {
        call = b.expr
        defScope = b.scope
        if (b.scope === b.scope.mod.scope) appName = name
      }
    }
    if (call?.k !== 'call') {
      problem(scope, e, 'the app is not a FastAPI(…) or Starlette(…) assigned at module level')
      return
    }
    if (processed.has(call)) return
    processed.add(call)
    const cls = reader.resolve(call.fn, defScope)
    const isFastapi = cls.v === 'q' && FASTAPI_CLASSES.has(cls.name)
    if (!isFastapi && !(cls.v === 'q' && STARLETTE_CLASSES.has(cls.name))) {
      problem(scope, e, 'the app is not a FastAPI(…) or Starlette(…) bento can read')
      return
    }
    if (call.args.some((a) => a.star !== undefined)) {
      problem(defScope, call, 'the app is built with *args/**kwargs')
      return
    }
    if (isFastapi) {
      const url = (key: keyof typeof FASTAPI_DOC_ROUTES): string | null | undefined => {
        const arg = keyword(call.args, key)
        if (arg === undefined) return FASTAPI_DOC_ROUTES[key]
        const v = reader.resolve(arg, defScope)
        if (v.v === 'str') return v.s
        if (v.v === 'const' && (v.value === null || v.value === false)) return null
        problem(defScope, arg, `\`${key}=\` is not a literal string or None`)
        return undefined
      }
      const openapi = url('openapi_url')
      const docs = url('docs_url')
      const oauth = url('swagger_ui_oauth2_redirect_url')
      const redoc = url('redoc_url')
      if (openapi) {
        out.push(joinPaths(prefix, openapi))
        if (docs) {
          out.push(joinPaths(prefix, docs))
          if (oauth) out.push(joinPaths(prefix, oauth))
        }
        if (redoc) out.push(joinPaths(prefix, redoc))
      }
    }
    const routes = keyword(call.args, 'routes')
    if (routes !== undefined) walkRoutes(routes, defScope, prefix)
    if (appName === undefined) return
    for (const st of defScope.mod.stmts) {
      if (st.kind === 'def') {
        for (const d of st.decorators) {
          if (d.k !== 'call' || d.fn.k !== 'attr' || d.fn.obj.k !== 'name' || d.fn.obj.id !== appName || !ROUTE_DECORATORS.has(d.fn.attr)) continue
          const path = literalPath(positional(d.args)[0] ?? keyword(d.args, 'path'), defScope)
          if (path === undefined) problem(defScope, d, `@${appName}.${d.fn.attr}(…) without a literal path`)
          else out.push(joinPaths(prefix, path))
        }
      } else if (st.kind === 'expr') {
        const c = st.exprs[0]
        if (c?.k !== 'call' || c.fn.k !== 'attr' || c.fn.obj.k !== 'name' || c.fn.obj.id !== appName) continue
        const method = c.fn.attr
        if (ROUTE_ADDERS.has(method) || method === 'mount') {
          const path = literalPath(positional(c.args)[0] ?? keyword(c.args, 'path'), defScope)
          if (path === undefined) {
            problem(defScope, c, `${appName}.${method}(…) without a literal path`)
            continue
          }
          const full = joinPaths(prefix, path)
          out.push(full)
          const sub = method === 'mount' ? (positional(c.args)[1] ?? keyword(c.args, 'app')) : undefined
          if (sub !== undefined) walkApp(sub, defScope, full)
        } else if (method === 'include_router' || method === 'host') {
          problem(defScope, c, `${appName}.${method}(…) (FastAPI 0.165 keeps an included router without a path, older versions list its routes)`)
        }
      }
    }
  }

  for (const d of [...s.cls.decorators].reverse()) {
    if (d.k !== 'call') continue
    const dv = reader.resolve(d.fn, s.scope)
    if (dv.v !== 'q' || !MOUNT_DECORATORS.has(canonical(dv.name))) continue
    const app = keyword(d.args, 'app') ?? positional(d.args)[0]
    const pathArg = keyword(d.args, 'path')
    const path = pathArg === undefined ? '/' : literalPath(pathArg, s.scope)
    if (app === undefined || path === undefined) {
      problem(s.scope, d, 'a mount without a literal path')
      continue
    }
    walkApp(app, s.scope, joinPaths(path))
  }
  const first = problems[0]
  if (first !== undefined) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''
    diagnostics.push({
      file: first.file,
      line: first.line,
      col: first.col,
      severity: 'warning',
      message: `mounted ASGI app of service ${s.cls.name}: ${first.why}${more}; the Bento's schema (bento.yaml, apis/schema.json) leaves those paths out (BentoML lists every route it finds on the app, with mounted: true)`,
      hint: 'declare the routes in the app\'s module with literal paths (@app.get("/x"), app.add_api_route("/x", f), Starlette(routes=[Route("/x", f)]))',
    })
  }
  return out
}

const BUILTIN_NAMES = new Set(['str', 'int', 'float', 'bool', 'bytes', 'list', 'dict', 'tuple', 'set', 'frozenset', 'object', 'type'])

/** The reader as the schema module sees it: qualified names, classes and literal values. */
function schemaEnv(reader: Reader, scope: Scope): SchemaEnv {
  return {
    file: scope.mod.file ?? '',
    resolve: (e) => {
      if (e.k === 'name' && BUILTIN_NAMES.has(e.id) && reader.lookup(e.id, scope) === undefined) return {kind: 'q', name: `builtins.${e.id}`}
      if (e.k === 'const' && e.id === 'None') return {kind: 'q', name: 'builtins.None'}
      const v = reader.resolve(e, scope)
      if (v.v === 'q') return {kind: 'q', name: v.name}
      if (v.v === 'class') return {kind: 'class', cls: v.cls, env: schemaEnv(reader, v.scope)}
      if (v.v === 'sdk') return {kind: 'unknown', why: `${v.cls.name} is a service`}
      // A module-level type alias (`Vec = list[float]`, `Mode = Literal["a", "b"]`): pydantic sees the type itself.
      if (e.k === 'name') {
        const b = reader.followFrom(reader.lookup(e.id, scope))
        if (b?.b === 'expr' && isTypeExpr(b.expr)) return {kind: 'alias', expr: b.expr, env: schemaEnv(reader, b.scope)}
      }
      return {kind: 'unknown', why: v.v === 'dyn' ? v.why : 'not a type bento can follow'}
    },
    literal: (e) => {
      const v = literalOf(reader, e, scope)
      if (v.ok || reader.computedValue === undefined) return v
      // Not a literal: what the import computed (`Field(default=get_config().beam_size)`), where it is known.
      const c = reader.computedValue(e, scope.mod.file ?? '')
      return c === undefined ? v : c.ok ? c : {ok: false, why: `${v.why}; ${c.why}`}
    },
    parse: (text) => {
      const mod = scanModule(`__annotation__ = (${text})\n`)
      const first = mod.stmts[0]
      return first?.kind === 'assign' ? first.value : undefined
    },
  }
}

/** The right-hand side of an assignment that reads as a type: `list[float]`, `Literal[…]`, `int | None`, `"T"`. */
function isTypeExpr(e: Expr): boolean {
  const anyE = e as {k: string; op?: string}
  return e.k === 'sub' || e.k === 'name' || e.k === 'attr' || e.k === 'str' || (anyE.k === 'bin' && anyE.op === '|') || (e.k === 'ops' && e.ops.length > 0 && e.ops.every((o) => o === '|'))
}

/** The value of a literal expression: numbers, strings, True/False/None, lists/tuples/dicts of those, module constants. */
function literalOf(reader: Reader, e: Expr, scope: Scope, depth = 0): {ok: true; value: unknown} | {ok: false; why: string} {
  if (depth > 20) return {ok: false, why: 'nested too deeply'}
  const anyE = e as unknown as {k: string; entries?: Array<{key?: Expr; value: Expr}>; op?: string; operand?: Expr}
  if (anyE.k === 'dict' && anyE.entries) {
    const out: Record<string, unknown> = {}
    for (const entry of anyE.entries) {
      if (entry.key === undefined) return {ok: false, why: '** in a dict display'}
      const k = literalOf(reader, entry.key, scope, depth + 1)
      const v = literalOf(reader, entry.value, scope, depth + 1)
      if (!k.ok) return k
      if (!v.ok) return v
      out[String(k.value)] = v.value
    }
    return {ok: true, value: out}
  }
  if (anyE.k === 'unary' && anyE.op === '-' && anyE.operand?.k === 'num') return {ok: true, value: -pyNumber(anyE.operand.text)}
  switch (e.k) {
    case 'str':
      if (e.value !== null) return {ok: true, value: e.value}
      break
    case 'num':
      return {ok: true, value: pyNumber(e.text)}
    case 'const':
      if (e.id === 'None') return {ok: true, value: null}
      if (e.id === 'True' || e.id === 'False') return {ok: true, value: e.id === 'True'}
      return {ok: false, why: 'Ellipsis'}
    case 'seq': {
      if (e.kind === 'set') return {ok: false, why: 'a set'}
      const items: unknown[] = []
      for (const x of e.items) {
        const r = literalOf(reader, x, scope, depth + 1)
        if (!r.ok) return r
        items.push(r.value)
      }
      return {ok: true, value: items}
    }
    case 'ops':
      if (e.parts.length === 1 && e.ops.length === 1 && e.ops[0] === '-' && e.parts[0]?.k === 'num') return {ok: true, value: -pyNumber(e.parts[0].text)}
      break
    case 'sub': {
      const item = subscriptOf(reader, e, scope, depth)
      if (item !== undefined) return item
      break
    }
    case 'name': {
      const b = reader.followFrom(reader.lookup(e.id, scope))
      if (b?.b === 'expr') return literalOf(reader, b.expr, b.scope, depth + 1)
      const v = reader.resolve(e, scope)
      return {ok: false, why: v.v === 'dyn' ? v.why : `'${e.id}' is not a constant`}
    }
    default:
      break
  }
  const v = reader.resolve(e, scope)
  if (v.v === 'str') return {ok: true, value: v.s}
  if (v.v === 'const' && v.value !== undefined) return {ok: true, value: v.value}
  return {ok: false, why: v.v === 'dyn' ? v.why : 'not a literal'}
}

/**
 * `CONST["key"]`, `CONST[-1]`: an item of a module constant that is a dict display with string-literal keys, or a
 * list/tuple display, indexed by a literal string or integer (`sample_input_data["language"]` as a default). A key or
 * index the display lacks, or any other subscript, is not read (undefined).
 */
function subscriptOf(reader: Reader, e: Extract<Expr, {k: 'sub'}>, scope: Scope, depth: number): {ok: true; value: unknown} | {ok: false; why: string} | undefined {
  if (e.index.length !== 1 || depth > 20) return undefined
  let obj: Expr = e.obj
  let objScope = scope
  for (let hops = 0; obj.k === 'name' && hops < 20; hops++) {
    const b = reader.followFrom(reader.lookup(obj.id, objScope))
    if (b?.b !== 'expr') return undefined
    obj = b.expr
    objScope = b.scope
  }
  const index = literalOf(reader, e.index[0]!, scope, depth + 1)
  if (!index.ok) return undefined
  const key = index.value
  if (obj.k === 'dict' && (typeof key === 'string' || (typeof key === 'number' && Number.isInteger(key)))) {
    // Keys that are string or integer literals (a str never equals an int); the last entry of a key wins.
    let found: Expr | undefined
    for (const entry of obj.entries) {
      const k = entry.key
      if (k?.k === 'str' && k.value !== null) {
        if (k.value === key) found = entry.value
      } else if (k?.k === 'num' && /^[0-9_]+$/.test(k.text)) {
        if (pyNumber(k.text) === key) found = entry.value
      } else return undefined
    }
    return found === undefined ? undefined : literalOf(reader, found, objScope, depth + 1)
  }
  if (obj.k === 'seq' && (obj.kind === 'list' || obj.kind === 'tuple') && typeof key === 'number' && Number.isInteger(key)) {
    if (obj.items.some((x) => x.k === 'starred')) return undefined
    const item = obj.items[key < 0 ? obj.items.length + key : key]
    return item === undefined ? undefined : literalOf(reader, item, objScope, depth + 1)
  }
  return undefined
}

function pyNumber(text: string): number {
  const t = text.replace(/_/g, '').toLowerCase()
  if (/^0x/.test(t)) return Number.parseInt(t.slice(2), 16)
  if (/^0o/.test(t)) return Number.parseInt(t.slice(2), 8)
  if (/^0b/.test(t)) return Number.parseInt(t.slice(2), 2)
  return Number(t)
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)]
}
