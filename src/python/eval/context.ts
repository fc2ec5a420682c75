/**
 * What the pieces of the interpreter (./builtins.ts, ./methods.ts) ask of the evaluator (./evaluate.ts): one
 * interface, so they do not import it (no import cycle).
 */
import type {Arg, Expr} from '../parse/index.js'
import type {Budget} from './budget.js'
import type {ModuleState, PyValue, Site, Unknown} from './values.js'

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
