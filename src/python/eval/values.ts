/**
 * The evaluator's value model (./evaluate.ts): what a Python value is while bento executes a service module
 * statically. Its own file so the pure library functions (./stdlib.ts) share it without an import cycle.
 */
import type {Image} from '../../bentoml/image.js'
import type {Expr, Param, Stmt} from '../parse/scanner.js'

export interface Site {
  file: string
  line: number
  col: number
}

/** Why a value cannot be known statically, and what to write instead. */
export interface Unknown {
  why: string
  hint: string
  site: Site
}

export type PyValue =
  | {t: 'none'}
  | {t: 'bool'; v: boolean}
  /** Python ints are exact: a bigint. */
  | {t: 'int'; v: bigint}
  | {t: 'float'; v: number}
  | {t: 'str'; v: string}
  | {t: 'list'; items: PyValue[]; taint?: Unknown}
  | {t: 'tuple'; items: PyValue[]}
  | {t: 'dict'; map: Map<string, {key: PyValue; value: PyValue}>; taint?: Unknown}
  /** A set (or frozenset): items by their dict-key identity. */
  | {t: 'set'; map: Map<string, PyValue>; frozen?: boolean; taint?: Unknown}
  | {t: 'image'; img: Image; taint?: Unknown}
  | {t: 'module'; name: string; mod?: ModuleState}
  /** A name from a package the evaluator does not run (`bentoml.service`, `os.environ`, `torch`…), qualified. */
  | {t: 'ext'; name: string}
  | {t: 'builtin'; name: string}
  /** A user function (`def` or `lambda`), run by the interpreter when called. */
  | {t: 'func'; fn: FuncDef}
  /** A function as a decorator made it: a property, a class or static method, a pydantic validator. */
  | {t: 'wrapped'; kind: 'property' | 'cached_property' | 'classmethod' | 'staticmethod' | 'validator'; fn: PyValue; fields?: string[]; mode?: string}
  /** A function bound to its first argument (a method of an instance, a classmethod of its class). */
  | {t: 'method'; self: PyValue; fn: PyValue}
  | {t: 'class'; cls: ClassValue}
  /**
   * An instance of a user class (a pydantic model or a dataclass included). `args`: the Bento arguments object of
   * `bentoml.use_arguments(Model)` (or of `use_arguments()`, then `cls` is a stand-in).
   */
  | {t: 'instance'; cls: ClassValue; attrs: Map<string, PyValue>; args?: boolean}
  /** `super()` in a method of `cls`. */
  | {t: 'super'; cls: ClassValue; self: PyValue}
  /** An exception object: its type and the names of the types it derives from (itself first), its args, its `str()` when bento raised it. */
  | {t: 'exc'; type: string; chain: string[]; args: PyValue[]; text?: string}
  | {t: 'service'; svc: ServiceValue}
  /** `bentoml.service(**kwargs)`, waiting for its class; `unknown`: some keyword arguments could not be listed. */
  | {t: 'svcdeco'; kwargs: Map<string, PyValue>; site: Site; unknown?: Unknown}
  /** `pydantic.Field(...)`. */
  | {t: 'field'; def: PyValue | undefined; factory: PyValue | undefined}
  | {t: 'bound'; self: PyValue; name: string}
  | {t: 'opaque'; u: Unknown}

/** What a `def` or `lambda` made: enough to call it as CPython would. */
export interface FuncDef {
  name: string
  params: Param[]
  /** Defaults, evaluated when the `def` ran. */
  defaults: Map<string, PyValue>
  /** The statements of a `def`, the expression of a `lambda`. */
  body: Stmt[] | Expr
  /** The module whose globals the function sees. */
  mod: ModuleState
  /** The enclosing function's scope (closures), null at module level. */
  closure: Scope | null
  site: Site
  isAsync: boolean
  isGenerator: boolean
  /** The class whose body defined it (zero-argument `super()`). */
  owner?: ClassValue
}

/** The local variables of a function call or comprehension, with the enclosing scope. */
export class Scope extends Map<string, PyValue> {
  constructor(
    readonly parent: Map<string, PyValue> | null,
    readonly globals: ReadonlySet<string> = new Set(),
    readonly nonlocals: ReadonlySet<string> = new Set(),
    /** A class body's namespace: functions defined in it do not see it. */
    readonly isClass = false,
    /** A comprehension's scope (`:=` binds in the enclosing one). */
    readonly isComprehension = false,
  ) {
    super()
  }
}

export interface ClassValue {
  name: string
  site: Site
  bases: PyValue[]
  ns: Map<string, PyValue>
  /** Annotated names in order (pydantic fields). */
  annotations: Array<{name: string; annotation: Expr}>
  /** A method is decorated with `@bentoml.task` (BentoML then sets `traffic.external_queue`). */
  hasTask: boolean
  /** Decorated with `@dataclasses.dataclass`. */
  dataclass?: boolean
}

/** An `@bentoml.service` class as decorated: the decorator's keyword arguments (live objects). */
export interface ServiceValue {
  className: string
  cls: ClassValue
  /** The `class` statement. */
  site: Site
  /** Where `@bentoml.service(...)` is written. */
  decoratorSite: Site
  kwargs: Map<string, PyValue>
  /** Keyword arguments bento could not list (`**config` from a file, …): every value of the decorator is unknown. */
  unknownKwargs?: Unknown
  /**
   * `envs` as BentoML converts them when the class is decorated (`convert_envs` copies the list then; later
   * changes to the list do not count), or why they cannot be read.
   */
  envs: Array<{name: string; value: string; stage: string}> | Unknown
}

export interface ModuleState {
  name: string
  file: string | null
  isPackage: boolean
  env: Map<string, PyValue>
  /** `from pkg import *` of a package: names the evaluator cannot list. */
  externalStars: string[]
}
