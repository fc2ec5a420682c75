/**
 * User functions and classes as CPython runs them: argument binding, calls (a Scope per call, recursion bounded),
 * instances through `__init__`, members read from an instance (methods bound, properties computed), `super()`,
 * pydantic models and dataclasses built from their fields and validators.
 */
import type {Expr, Param, Stmt} from '../parse/index.js'
import {exprLabel} from './ast-text.js'
import {BudgetExceeded} from './budget.js'
import {EXCEPTION_BASES, excChain} from './builtins.js'
import type {CallCtx, Runtime} from './context.js'
import {classLookup, coerce, MODEL_VALIDATOR, modelFields, mro} from './pydantic.js'
import {NONE, pyTypeName} from './pyops.js'
import {ImportFailure, PyRaise, Return} from './signals.js'
import {type ClassValue, type FuncDef, type ModuleState, type PyValue, Scope, type Unknown} from './values.js'

/** Calls nested deeper than this are CPython's RecursionError (its default limit is 1000 frames). */
export const MAX_CALL_DEPTH = 1000

/** Call a user function: arguments bound as CPython binds them, the body run in a new local scope. */
export function callFunction(ev: Runtime, fn: FuncDef, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  if (ev.frames.length >= MAX_CALL_DEPTH) {
    throw new BudgetExceeded('depth', `calls nest more than ${MAX_CALL_DEPTH} deep (CPython: RecursionError: maximum recursion depth exceeded); bento evaluates build configuration only`)
  }
  const decl = Array.isArray(fn.body) ? declarations(ev, fn.body) : {globals: new Set<string>(), nonlocals: new Set<string>()}
  const local = new Scope(fn.closure, decl.globals, decl.nonlocals)
  bindArgs(ev, fn, pos, kw, local, c)
  if (fn.isAsync || fn.isGenerator) {
    return ev.opaque(`the result of ${fn.name}() (a ${fn.isAsync ? 'coroutine' : 'generator'}, which bento does not run)`, 'compute build values with plain functions', c.site)
  }
  ev.frames.push({fn, local})
  // Where the call is: restored when it returns (an error inside keeps the line it happened on).
  const at = ev.at
  let result: PyValue = NONE
  try {
    if (!Array.isArray(fn.body)) result = ev.eval(fn.body, fn.mod, local)
    else ev.execBlock(fn.body, fn.mod, local)
  } catch (e) {
    if (!(e instanceof Return)) throw e
    result = e.value
  } finally {
    ev.frames.pop()
  }
  ev.at = at
  return result
}

/** `global` and `nonlocal` names of a function body (not of the functions nested in it). */
export function declarations(ev: Runtime, body: Stmt[]): {globals: Set<string>; nonlocals: Set<string>} {
  const hit = ev.declCache.get(body)
  if (hit) return hit
  const out = {globals: new Set<string>(), nonlocals: new Set<string>()}
  const visit = (stmts: Stmt[]): void => {
    for (const st of stmts) {
      if (st.kind === 'def' || st.kind === 'class') continue
      if (st.kind === 'other' && (st.keyword === 'global' || st.keyword === 'nonlocal')) {
        for (const x of st.exprs) if (x.k === 'name') (st.keyword === 'global' ? out.globals : out.nonlocals).add(x.id)
      }
      visit(st.body)
    }
  }
  visit(body)
  ev.declCache.set(body, out)
  return out
}

/** CPython's argument binding (and its TypeErrors). */
export function bindArgs(ev: Runtime, fn: FuncDef, pos: PyValue[], kw: Map<string, PyValue>, local: Scope, c: CallCtx): void {
  const params = fn.params
  const positional = params.filter((p) => p.kind === 'posonly' || p.kind === 'pos')
  const vararg = params.find((p) => p.kind === 'vararg')
  const kwarg = params.find((p) => p.kind === 'kwarg')
  const err = (m: string): Error => ev.failure(c.mod, c.e, `TypeError: ${fn.name}() ${m}`, `call ${fn.name}() as it is defined at ${fn.site.file}:${fn.site.line}`)
  positional.forEach((p, i) => {
    if (i < pos.length) local.set(p.name, pos[i] as PyValue)
  })
  if (pos.length > positional.length) {
    if (vararg === undefined) {
      const required = positional.filter((p) => !fn.defaults.has(p.name)).length
      const takes = required === positional.length ? `${positional.length}` : `from ${required} to ${positional.length}`
      throw err(`takes ${takes} positional argument${positional.length === 1 && required === positional.length ? '' : 's'} but ${pos.length} ${pos.length === 1 ? 'was' : 'were'} given`)
    }
    local.set(vararg.name, {t: 'tuple', items: pos.slice(positional.length)})
  } else if (vararg) local.set(vararg.name, {t: 'tuple', items: []})
  const extra: Array<[string, PyValue]> = []
  for (const [k, v] of kw) {
    const p = params.find((q) => q.name === k && (q.kind === 'pos' || q.kind === 'kwonly'))
    if (p) {
      if (local.has(k)) throw err(`got multiple values for argument '${k}'`)
      local.set(k, v)
    } else if (kwarg) extra.push([k, v])
    else if (params.some((q) => q.name === k && q.kind === 'posonly')) throw err(`got some positional-only arguments passed as keyword arguments: '${k}'`)
    else throw err(`got an unexpected keyword argument '${k}'`)
  }
  if (kwarg) local.set(kwarg.name, ev.dictOf(extra))
  const missing = (kind: 'positional' | 'keyword-only', ps: Param[]): void => {
    const names = ps.filter((p) => !local.has(p.name) && !fn.defaults.has(p.name)).map((p) => `'${p.name}'`)
    if (names.length === 0) return
    const list = names.length === 1 ? names[0] : names.length === 2 ? `${names[0]} and ${names[1]}` : `${names.slice(0, -1).join(', ')}, and ${names[names.length - 1]}`
    throw err(`missing ${names.length} required ${kind} argument${names.length === 1 ? '' : 's'}: ${list}`)
  }
  missing('positional', positional)
  missing('keyword-only', params.filter((p) => p.kind === 'kwonly'))
  for (const [k, v] of fn.defaults) if (!local.has(k)) local.set(k, v)
}

/** `cls(...)`: a pydantic model or dataclass from its fields, an exception, or a plain class through `__init__`. */
export function instantiate(ev: Runtime, cls: ClassValue, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const order = mro(cls)
  const exc = order.flatMap((k) => k.bases).find((b) => b.t === 'builtin' && b.name in EXCEPTION_BASES)
  if (exc?.t === 'builtin') {
    const names = order.filter((k) => !hasUnknownBase(k)).map((k) => k.name)
    return {t: 'exc', type: cls.name, chain: [...names, ...excChain(exc.name)], args: pos}
  }
  if (isPydanticModel(cls)) {
    if (pos.length > 0) throw ev.failure(c.mod, c.e, `TypeError: BaseModel.__init__() takes 1 positional argument but ${pos.length + 1} were given`, 'pass the fields by keyword')
    return modelInstance(ev, cls, kw, c, false)
  }
  if (order.some((k) => k.dataclass)) return dataclassInstance(ev, cls, pos, kw, c)
  if (hasUnknownBase(cls)) {
    const u: Unknown = {
      why: `an instance of ${cls.name} (defined at ${cls.site.file}:${cls.site.line}), whose base class is code bento does not run`,
      hint: 'use module-level values, or bentoml.use_arguments(Model) for build arguments',
      site: c.site,
    }
    for (const v of [...pos, ...kw.values()]) ev.taint(v, u)
    return {t: 'opaque', u}
  }
  const self: PyValue = {t: 'instance', cls, attrs: new Map()}
  const init = classLookup(cls, '__init__')
  if (init !== undefined) {
    const r = ev.invoke(bindMember(ev, init, self, cls, '__init__', c.mod, c.e), pos, kw, c)
    if (r.t !== 'none' && r.t !== 'opaque') throw ev.failure(c.mod, c.e, `TypeError: __init__() should return None, not '${pyTypeName(r)}'`, 'return nothing from __init__')
  } else if (pos.length > 0 || kw.size > 0) throw ev.failure(c.mod, c.e, `TypeError: ${cls.name}() takes no arguments`, `define ${cls.name}.__init__`)
  return self
}

/** The validators (`@field_validator(..., mode=...)`) of a model's fields, by field name, in definition order. */
export function validators(ev: Runtime, cls: ClassValue, mode: string): Map<string, PyValue[]> {
  const out = new Map<string, PyValue[]>()
  for (const k of [...mro(cls)].reverse()) {
    for (const v of k.ns.values()) {
      if (v.t !== 'wrapped' || v.kind !== 'validator' || (v.mode ?? 'after') !== mode) continue
      for (const f of v.fields ?? []) out.set(f, [...(out.get(f) ?? []), v.fn])
    }
  }
  return out
}

/**
 * A pydantic model from keyword values (`Model(**kw)`, or the Bento arguments for `use_arguments`): each given
 * value through its `mode='before'` validators, then lax validation against its annotation, then the `after`
 * ones; defaults and `default_factory` for the rest.
 */
export function modelInstance(ev: Runtime, cls: ClassValue, input: Map<string, PyValue>, c: CallCtx, args: boolean): PyValue {
  let given = input
  const attrs = new Map<string, PyValue>()
  const errors: string[] = []
  const before = validators(ev, cls, 'before')
  const after = validators(ev, cls, 'after')
  const clsValue: PyValue = {t: 'class', cls}
  // A ValueError / AssertionError raised by a validator is pydantic's ValidationError (a ValueError too).
  const validate = (fn: PyValue, args: PyValue[]): PyValue => {
    try {
      return ev.invoke(fn, args, new Map(), c)
    } catch (e) {
      if (!(e instanceof PyRaise) || (e.type !== 'ValueError' && e.type !== 'AssertionError')) throw e
      throw ev.failure(c.mod, c.e, `ValidationError: 1 validation error for ${cls.name}\n  ${e.type === 'ValueError' ? 'Value' : 'Assertion'} error, ${e.message}`, `give ${cls.name} valid fields`)
    }
  }
  const runValidators = (fns: PyValue[] | undefined, v: PyValue): PyValue => {
    for (const f of fns ?? []) v = validate(f.t === 'wrapped' ? f.fn : f, [clsValue, v])
    return v
  }
  // `@model_validator(mode='before')`: the input as a dict, through each (a classmethod), before the fields.
  const wrap = validators(ev, cls, 'wrap').get(MODEL_VALIDATOR) ?? []
  if (wrap.length > 0) return ev.opaque(`a ${cls.name} (its @model_validator(mode="wrap") is not run by bento)`, 'use mode="before" or "after"', c.site)
  for (const f of before.get(MODEL_VALIDATOR) ?? []) {
    const data = validate(f.t === 'wrapped' ? f.fn : f, [clsValue, ev.dictOf([...given])])
    const u = ev.unknownIn(data)
    if (u !== undefined) return {t: 'opaque', u}
    if (data.t === 'instance' && mro(data.cls).includes(cls)) return data
    if (data.t !== 'dict') throw ev.failure(c.mod, c.e, `ValidationError: 1 validation error for ${cls.name}\n  Input should be a valid dictionary or instance of ${cls.name}`, 'return a dict from the mode="before" model validator')
    given = new Map()
    for (const {key, value} of data.map.values()) if (key.t === 'str') given.set(key.v, value)
  }
  for (const f of modelFields(cls)) {
    const v0 = given.get(f.name)
    if (v0 !== undefined) {
      const v = runValidators([...(before.get(f.name) ?? []), ...(before.get('*') ?? [])], v0)
      if (ev.unknownIn(v)) {
        attrs.set(f.name, v)
        continue
      }
      const r = coerce(v, f.annotation)
      if (typeof r === 'string') errors.push(`${f.name}\n  ${r}`)
      else attrs.set(f.name, runValidators([...(after.get(f.name) ?? []), ...(after.get('*') ?? [])], r))
      continue
    }
    const d = f.default
    if (d === undefined) errors.push(`${f.name}\n  Field required`)
    else if (d.t === 'field') {
      if (d.def !== undefined) attrs.set(f.name, d.def)
      else if (d.factory !== undefined) attrs.set(f.name, ev.invoke(d.factory, [], new Map(), c))
      else errors.push(`${f.name}\n  Field required`)
    } else attrs.set(f.name, d)
  }
  if (errors.length > 0) {
    const head = `${errors.length} validation error${errors.length > 1 ? 's' : ''} for ${cls.name}\n${errors.join('\n')}`
    if (args) {
      throw new ImportFailure({
        ...c.site,
        severity: 'error',
        message: `Argument error. Please provide correct arguments via --arg option: ${head}`,
        hint: 'pass the arguments with --arg KEY=VALUE or --arg-file FILE.yaml, or as args: in bentofile.yaml',
      })
    }
    throw ev.failure(c.mod, c.e, `ValidationError: ${head}`, `give ${cls.name} valid fields`)
  }
  let instance: PyValue = {t: 'instance', cls, attrs, ...(args ? {args} : {})}
  // `@model_validator(mode='after')`: a method of the instance; what it returns is the model.
  for (const f of after.get(MODEL_VALIDATOR) ?? []) instance = validate(f.t === 'wrapped' ? f.fn : f, [instance])
  return instance
}

/** A `@dataclass` instance: fields in order, by position or keyword, defaults, `field(default_factory=)`, `__post_init__`. */
export function dataclassInstance(ev: Runtime, cls: ClassValue, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const fields = modelFields(cls)
  const attrs = new Map<string, PyValue>()
  const err = (m: string): Error => ev.failure(c.mod, c.e, `TypeError: ${cls.name}.__init__() ${m}`, `call ${cls.name}() with its fields`)
  if (pos.length > fields.length) throw err(`takes ${fields.length + 1} positional arguments but ${pos.length + 1} were given`)
  fields.forEach((f, i) => {
    if (i < pos.length) attrs.set(f.name, pos[i] as PyValue)
  })
  for (const [k, v] of kw) {
    if (!fields.some((f) => f.name === k)) throw err(`got an unexpected keyword argument '${k}'`)
    if (attrs.has(k)) throw err(`got multiple values for argument '${k}'`)
    attrs.set(k, v)
  }
  for (const f of fields) {
    if (attrs.has(f.name)) continue
    const d = f.default
    if (d === undefined || (d.t === 'field' && d.def === undefined && d.factory === undefined)) throw err(`missing 1 required positional argument: '${f.name}'`)
    attrs.set(f.name, d.t === 'field' ? d.def ?? ev.invoke(d.factory as PyValue, [], new Map(), c) : d)
  }
  const self: PyValue = {t: 'instance', cls, attrs}
  const post = classLookup(cls, '__post_init__')
  if (post !== undefined) ev.invoke(bindMember(ev, post, self, cls, '__post_init__', c.mod, c.e), [], new Map(), c)
  return self
}

/** A class member as read from an instance: a method bound to it, a property computed, a value. */
export function bindMember(ev: Runtime, member: PyValue, self: PyValue, cls: ClassValue, attr: string, mod: ModuleState, at: Expr): PyValue {
  if (member.t === 'func') return {t: 'method', self, fn: member}
  if (member.t !== 'wrapped') return member
  switch (member.kind) {
    case 'property':
    case 'cached_property': {
      const v = ev.invoke(member.fn, [self], new Map(), ev.callCtx(mod, at, `${cls.name}.${attr}`))
      if (member.kind === 'cached_property' && self.t === 'instance') self.attrs.set(attr, v)
      return v
    }
    case 'classmethod':
      return {t: 'method', self: self.t === 'instance' ? {t: 'class', cls: self.cls} : self, fn: member.fn}
    case 'staticmethod':
      return member.fn
    default:
      return member.fn.t === 'func' ? {t: 'method', self: self.t === 'instance' ? {t: 'class', cls: self.cls} : self, fn: member.fn} : member.fn
  }
}

/** `super()` (the method's class and first argument) or `super(cls, self)`. */
export function superOf(ev: Runtime, pos: PyValue[], c: CallCtx): PyValue {
  if (pos.length === 2 && pos[0]?.t === 'class') return {t: 'super', cls: pos[0].cls, self: pos[1] as PyValue}
  const frame = ev.frames[ev.frames.length - 1]
  const first = frame?.fn.params[0]
  const self = first ? frame?.local.get(first.name) : undefined
  if (frame?.fn.owner === undefined || self === undefined) throw ev.failure(c.mod, c.e, 'RuntimeError: super(): no arguments', 'call super() in a method')
  return {t: 'super', cls: frame.fn.owner, self}
}

/** A base class bento does not read (from a package), `object` and exceptions aside. */
export function hasUnknownBase(cls: ClassValue): boolean {
  return cls.bases.some((b) => !(b.t === 'class' ? hasUnknownBase(b.cls) === false : b.t === 'builtin' && (b.name === 'object' || b.name in EXCEPTION_BASES)))
}

const PYDANTIC_BASES = new Set(['pydantic.BaseModel', 'pydantic.main.BaseModel'])

/** Methods of a pydantic model instance the interpreter runs (python/eval/evaluate.ts callMethod). */
export const PYDANTIC_INSTANCE_METHODS = new Set(['model_dump'])

/**
 * `Model.model_validate` (a bound class method: `pydanticCall`), `Model.model_fields` (field name → its `FieldInfo`,
 * whose `.default` / `.default_factory` read back), of a pydantic model class; undefined for any other attribute.
 */
export function pydanticClassAttr(ev: Runtime, obj: Extract<PyValue, {t: 'class'}>, attr: string): PyValue | undefined {
  if (!isPydanticModel(obj.cls)) return undefined
  if (attr === 'model_validate' || attr === 'model_construct') return {t: 'bound', self: obj, name: attr}
  if (attr === 'model_fields') {
    return ev.dictOf(modelFields(obj.cls).map((f) => [f.name, f.default?.t === 'field' ? f.default : {t: 'field', def: f.default, factory: undefined}]))
  }
  return undefined
}

/**
 * `Model.model_validate(data)` (a dict with string keys, or an instance of the model: returned as it is), `Model.
 * model_construct(**kw)`, `instance.model_dump()` (the fields as a dict, nested models dumped too).
 */
export function pydanticCall(ev: Runtime, self: PyValue, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue | undefined {
  if (self.t === 'class' && isPydanticModel(self.cls)) {
    if (name === 'model_construct') return modelInstance(ev, self.cls, kw, c, false)
    if (name !== 'model_validate') return undefined
    const data = pos[0] ?? kw.get('obj')
    if (data === undefined) throw ev.failure(c.mod, c.e, "TypeError: BaseModel.model_validate() missing 1 required positional argument: 'obj'", 'pass the data')
    if (data.t === 'instance' && mro(data.cls).includes(self.cls)) return data
    if (data.t === 'dict' && !data.taint) {
      const given = new Map<string, PyValue>()
      for (const {key, value} of data.map.values()) if (key.t === 'str') given.set(key.v, value)
      return modelInstance(ev, self.cls, given, c, false)
    }
    if (ev.unknownIn(data)) return {t: 'opaque', u: ev.unknownOf(data, c.site, 'model_validate()')}
    throw ev.failure(c.mod, c.e, `ValidationError: 1 validation error for ${self.cls.name}\n  Input should be a valid dictionary or instance of ${self.cls.name}`, 'pass a dict')
  }
  if (self.t === 'instance' && !self.args && isPydanticModel(self.cls) && name === 'model_dump') return dumpModel(ev, self)
  return undefined
}

function dumpModel(ev: Runtime, v: PyValue): PyValue {
  if (v.t === 'instance' && !v.args && isPydanticModel(v.cls)) return ev.dictOf([...v.attrs].map(([k, x]) => [k, dumpModel(ev, x)]))
  return v
}

export function isPydanticModel(cls: ClassValue): boolean {
  return mro(cls).some((k) => k.bases.some((b) => b.t === 'ext' && PYDANTIC_BASES.has(b.name)))
}

/** What a decorator makes of a function: properties, class/static methods, validators; others run unknown code. */
export function decorateFunction(ev: Runtime, d: Expr, fn: PyValue, mod: ModuleState, env: Map<string, PyValue>): PyValue {
  const dv = ev.eval(d, mod, env)
  const name = dv.t === 'ext' ? dv.name : dv.t === 'builtin' ? dv.name : undefined
  switch (name) {
    case 'property':
    case 'cached_property':
    case 'classmethod':
    case 'staticmethod':
      return {t: 'wrapped', kind: name, fn}
    case 'functools.cached_property':
      return {t: 'wrapped', kind: 'cached_property', fn}
    case 'pydantic.computed_field':
    case 'pydantic.fields.computed_field':
      return fn.t === 'wrapped' ? fn : {t: 'wrapped', kind: 'property', fn}
    case 'functools.cache':
    case 'functools.lru_cache':
    case 'functools.wraps':
    case 'typing.overload':
    case 'typing.final':
    case 'typing_extensions.override':
    case 'typing.override':
    case 'abc.abstractmethod':
      return fn
    default:
      break
  }
  if (dv.t === 'ext' && dv.name === 'bentoml.task') return fn
  if (dv.t === 'wrapped' && dv.kind === 'validator') return {...dv, fn}
  if (dv.t === 'func' || dv.t === 'method') return ev.invoke(dv, [fn], new Map(), ev.callCtx(mod, d))
  // A decorator bento does not run (`@bentoml.api`, `@app.get(...)`…): what it returns is unknown.
  const label = exprLabel(d.k === 'call' ? d.fn : d)
  return ev.opaque(`a function decorated with @${label}, which bento does not run`, 'call undecorated functions at build time', {file: mod.file ?? '', line: d.line, col: d.col})
}
