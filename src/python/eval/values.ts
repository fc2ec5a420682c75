/**
 * The evaluator's value model (./evaluate.ts): what a Python value is while bento executes a service module
 * statically. Its own file so the pure library functions (./stdlib.ts) share it without an import cycle.
 */
import type {Image} from '../../bentoml/image.js'
import type {Expr} from '../parse/scanner.js'

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
  | {t: 'image'; img: Image; taint?: Unknown}
  | {t: 'module'; name: string; mod?: ModuleState}
  /** A name from a package the evaluator does not run (`bentoml.service`, `os.environ`, `torch`…), qualified. */
  | {t: 'ext'; name: string}
  | {t: 'builtin'; name: string}
  | {t: 'func'; name: string; site: Site; isProperty: boolean}
  | {t: 'class'; cls: ClassValue}
  /** An instance of a pydantic argument model (`bentoml.use_arguments(Model)`), or the namespace of `use_arguments()`. */
  | {t: 'args'; cls: ClassValue | null; fields: Map<string, PyValue>; site: Site}
  | {t: 'service'; svc: ServiceValue}
  /** `bentoml.service(**kwargs)`, waiting for its class; `unknown`: some keyword arguments could not be listed. */
  | {t: 'svcdeco'; kwargs: Map<string, PyValue>; site: Site; unknown?: Unknown}
  /** `pydantic.Field(...)`. */
  | {t: 'field'; def: PyValue | undefined; factory: PyValue | undefined}
  | {t: 'bound'; self: PyValue; name: string}
  | {t: 'opaque'; u: Unknown}

export interface ClassValue {
  name: string
  site: Site
  bases: PyValue[]
  ns: Map<string, PyValue>
  /** Annotated names in order (pydantic fields). */
  annotations: Array<{name: string; annotation: Expr}>
  /** A method is decorated with `@bentoml.task` (BentoML then sets `traffic.external_queue`). */
  hasTask: boolean
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
