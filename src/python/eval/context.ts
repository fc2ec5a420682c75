/**
 * What the pieces of the interpreter (./builtins.ts, ./methods.ts) ask of the evaluator (./evaluate.ts): one
 * interface, so they do not import it (no import cycle).
 */
import type {Arg, Expr} from '../parse/index.js'
import type {Budget} from './budget.js'
import type {ImageFiles} from '../../bentoml/image.js'
import type {Expr as ExprT, Stmt} from '../parse/index.js'
import type {FuncDef, ModuleState, PyValue, Scope, ServiceValue, Site, Unknown} from './values.js'

/** `bentoml.models.HuggingFaceModel(...)` as the module computed it (the arguments besides the id: null when not given). */
export interface EvaluatedHfModel {
  modelId: string
  revision: string
  endpoint: string | null
  include: string[] | null
  exclude: string[] | null
}

/** The call being evaluated: where it is and how it is written (for messages). */
export interface CallCtx {
  mod: ModuleState
  e: Extract<Expr, {k: 'call'}>
  site: Site
  label: string
  args: Arg[]
}

export interface Interp {
  readonly budget: Budget
  /** Python's truth of a value; undefined when it cannot be known. */
  truth(v: PyValue): boolean | undefined
  /** Items of a known iterable (dict → keys, set → items), or undefined. */
  iterate(v: PyValue): PyValue[] | undefined
  unknownOf(v: PyValue, site: Site, what?: string): Unknown
  unknownIn(v: PyValue): Unknown | undefined
  taint(v: PyValue, u: Unknown): void
  toStr(v: PyValue): string | undefined
  toRepr(v: PyValue): string | undefined
  compare(op: string, l: PyValue, r: PyValue): boolean | undefined
  /** Call a value (a user function, a builtin, a bound method, a class…). */
  invoke(fn: PyValue, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue
  opaque(why: string, hint: string, site: Site): PyValue
  /** A Python exception at `at` (`message` starts with its type, `TypeError: …`): catchable by `try`, else the import fails. */
  failure(mod: ModuleState, at: {line: number; col: number}, message: string, hint: string): Error
  extend(target: PyValue[], items: readonly PyValue[], what: string): void
  getAttr(obj: PyValue, attr: string, mod: ModuleState, at: Expr): PyValue
  /** `self.name(...)` of a value of a builtin type (or an image). */
  callMethod(self: PyValue, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue
  /** A binary operator as Python's (`+`, `//`, `%`…). */
  binop(op: string, l: PyValue, r: PyValue, at: {line: number; col: number}, mod: ModuleState): PyValue
}

/** What the interpreter's function, class and BentoML parts (./objects.ts, ./bentoml.ts) also need. */
export interface Runtime extends Interp {
  /** Where evaluation is (restored when a call returns). */
  at: Site
  /** The user functions being called, innermost last. */
  readonly frames: Array<{fn: FuncDef; local: Scope}>
  readonly declCache: WeakMap<Stmt[], {globals: Set<string>; nonlocals: Set<string>}>
  readonly hfModels: Map<string, EvaluatedHfModel | Unknown>
  readonly services: Map<string, ServiceValue>
  readonly imageOptions: {files?: ImageFiles; defaultPythonVersion?: string}
  eval(e: ExprT, mod: ModuleState, env: Map<string, PyValue>): PyValue
  execBlock(stmts: Stmt[], mod: ModuleState, ns: Map<string, PyValue> | null): void
  callCtx(mod: ModuleState, at: ExprT, label?: string): CallCtx
  dictOf(entries: Array<[string, PyValue]>): PyValue
  /** Bind `value` to an assignment target (a name, a tuple of targets, an attribute, an item). */
  assign(t: ExprT, value: PyValue, mod: ModuleState, env: Map<string, PyValue>): void
  /** A set of `items`, or undefined when one is not hashable. */
  makeSet(items: readonly PyValue[], mod: ModuleState, at: {line: number; col: number}, frozen?: boolean): PyValue | undefined
  /** Execute a project module once; undefined when it is not one. */
  importModule(name: string, site: Site): ModuleState | undefined
  readonly environ: EnvironView
  /** The exceptions being handled (`except` bodies), innermost last. */
  readonly handling: Array<Error & {type: string}>
  /** Count a step at a statement (for budget errors, where evaluation is). */
  tick(mod: ModuleState, s: {line: number; col: number}): void
  skipUnknown(stmts: Stmt[], mod: ModuleState, env: Map<string, PyValue>, u: Unknown): void
}

/** What attribute and item access needs of `os.environ` (./environ.ts implements it). */
export interface EnvironView {
  read(key: PyValue, site: Site, mod: ModuleState, at: {line: number; col: number}): {value: string | null} | {unknown: PyValue}
  write(key: PyValue, value: PyValue | null, mod: ModuleState, at: {line: number; col: number}): void
  keyError(mod: ModuleState, at: {line: number; col: number}, name: string): Error
}
