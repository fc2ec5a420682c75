/**
 * `svc.schema()` of an `@bentoml.service` class, computed statically: the JSON schema BentoML 1.4.40 derives from
 * each API's signature (pydantic v2's `model_json_schema` of the input model BentoML builds from the parameters, and
 * of the return type), flattened as BentoML's `_flatten_model_schema` does. Golden cases observed on the real
 * BentoML are in test/fixtures/sdk-schema/.
 *
 * Types understood: `str int float bool bytes None Any`, `list/List/Sequence`, `dict/Dict/Mapping`, `tuple/Tuple`,
 * `Optional/Union/X | Y`, `Literal`, `Annotated[X, Field(...)|Shape|DType|ContentType|annotated_types.Ge/Gt/Le/Lt/
 * MultipleOf/MinLen/MaxLen/Len/Interval|StringConstraints]`, module-level type aliases (`Vec = list[float]`), `enum.Enum`
 * classes of the project (members with literal values; a member as a default), generators and iterators
 * (streaming outputs), `numpy.ndarray` / `numpy.typing.NDArray`, `torch.Tensor`, `tf.Tensor`, `pandas.DataFrame`,
 * `PIL.Image.Image`, `pathlib.Path`, and pydantic `BaseModel` classes of the project (fields, defaults, `Field(...)`,
 * docstrings, nesting). Anything else is reported (the schema of that field is then `{}`), never guessed.
 */
import type {Arg, Expr, Stmt} from '../parse/scanner.js'

type ClassStmt = Extract<Stmt, {kind: 'class'}>
type DefStmt = Extract<Stmt, {kind: 'def'}>

/** What a name in an annotation refers to. */
export type ResolvedRef =
  | {kind: 'q'; name: string}
  | {kind: 'class'; cls: ClassStmt; env: SchemaEnv}
  /** A module-level type alias (`Vec = list[float]`): the type expression and the module it is written in. */
  | {kind: 'alias'; expr: Expr; env: SchemaEnv}
  | {kind: 'unknown'; why: string}

/** The reader's view of the module an expression lives in (narrow on purpose: names and literal values). */
export interface SchemaEnv {
  file: string
  /** A name or attribute chain: its qualified name (`typing.List`, `numpy.ndarray`) or a class of the project. */
  resolve(e: Expr): ResolvedRef
  /** The value of a literal expression (numbers, strings, lists, tuples, dicts, True/False/None, module constants). */
  literal(e: Expr): {ok: true; value: unknown} | {ok: false; why: string}
  /** Parse the text of a string annotation (`"list[int]"`, PEP 563) into an expression. */
  parse(text: string, line: number, col: number): Expr | undefined
}

export interface SchemaProblem {
  file: string
  line: number
  col: number
  message: string
  /** `default`: a default bento cannot read, left out of the schema; otherwise a type the schema shows as `{}`. */
  kind?: 'type' | 'default'
}

type Json = Record<string, unknown>

interface FieldInfo {
  name: string
  type: PyType
  /** `undefined`: required. */
  default?: {value: unknown}
  /** `Field(default_factory=…)`: not required, no default in the schema. */
  factory?: boolean
  /** A default bento cannot read: not required, and left out of the schema (never written as null). */
  unreadDefault?: boolean
  extra: Json
}

type PyType =
  | {t: 'any'}
  | {t: 'prim'; schema: Json}
  | {t: 'list'; item: PyType | null}
  | {t: 'dict'; value: PyType | null}
  | {t: 'tuple'; items: PyType[]; rest?: PyType}
  | {t: 'union'; options: PyType[]}
  | {t: 'literal'; values: unknown[]}
  | {t: 'model'; name: string; cls: ClassStmt; env: SchemaEnv}
  | {t: 'enum'; name: string; schema: Json}
  | {t: 'custom'; schema: Json}
  | {t: 'iter'; item: PyType}
  | {t: 'annotated'; base: PyType; extra: Json; contentType?: string}

const ANY: PyType = {t: 'any'}

/** Enum bases, and the JSON type their members have (`undefined`: told by the values, as pydantic does). */
const ENUM_BASES: Record<string, string | undefined> = {
  'enum.Enum': undefined,
  'enum.IntEnum': 'integer',
  'enum.StrEnum': 'string',
}
const ENUM_MIXINS: Record<string, string> = {'builtins.str': 'string', 'builtins.int': 'integer', 'builtins.float': 'number'}

/** `Field(…)` keywords (and annotated_types parameters) → JSON schema keys; `min_length`/`max_length` depend on the type (jsonExtras). */
const FIELD_KEYS: Record<string, string> = {
  title: 'title',
  description: 'description',
  examples: 'examples',
  ge: 'minimum',
  le: 'maximum',
  gt: 'exclusiveMinimum',
  lt: 'exclusiveMaximum',
  multiple_of: 'multipleOf',
  pattern: 'pattern',
  min_length: 'min_length',
  max_length: 'max_length',
}

/** The keys of `Field(...)` that describe a field rather than constrain it (kept after a validator). */
const FIELD_INFO_KEYS = new Set(['title', 'description', 'examples'])

/** pydantic's functional validators in `Annotated[...]`. */
const VALIDATORS = new Set(
  ['BeforeValidator', 'AfterValidator', 'WrapValidator', 'PlainValidator'].flatMap((n) => [`pydantic.${n}`, `pydantic.functional_validators.${n}`]),
)

/** annotated_types constraints (and pydantic's `StringConstraints`): their parameters, in positional order. */
const ANNOTATED_TYPES: Record<string, string[]> = {
  'annotated_types.Gt': ['gt'],
  'annotated_types.Ge': ['ge'],
  'annotated_types.Lt': ['lt'],
  'annotated_types.Le': ['le'],
  'annotated_types.MultipleOf': ['multiple_of'],
  'annotated_types.MinLen': ['min_length'],
  'annotated_types.MaxLen': ['max_length'],
  'annotated_types.Len': ['min_length', 'max_length'],
  'annotated_types.Interval': ['gt', 'ge', 'lt', 'le'],
  'pydantic.StringConstraints': ['strip_whitespace', 'to_upper', 'to_lower', 'strict', 'min_length', 'max_length', 'pattern'],
  'pydantic.types.StringConstraints': ['strip_whitespace', 'to_upper', 'to_lower', 'strict', 'min_length', 'max_length', 'pattern'],
}

const PRIMS: Record<string, Json> = {
  'builtins.str': {type: 'string'},
  'builtins.int': {type: 'integer'},
  'builtins.float': {type: 'number'},
  'builtins.bool': {type: 'boolean'},
  'builtins.bytes': {type: 'string', format: 'binary'},
  'builtins.None': {type: 'null'},
  'builtins.object': {},
  'datetime.datetime': {type: 'string', format: 'date-time'},
  'datetime.date': {type: 'string', format: 'date'},
  'uuid.UUID': {type: 'string', format: 'uuid'},
}

const ALIASES: Record<string, string> = {
  'typing.List': 'builtins.list',
  'typing.Sequence': 'builtins.list',
  'collections.abc.Sequence': 'builtins.list',
  'typing.Dict': 'builtins.dict',
  'typing.Mapping': 'builtins.dict',
  'collections.abc.Mapping': 'builtins.dict',
  'typing.Tuple': 'builtins.tuple',
  'typing_extensions.Annotated': 'typing.Annotated',
  'typing_extensions.Literal': 'typing.Literal',
  'typing_extensions.Optional': 'typing.Optional',
  'typing.Text': 'builtins.str',
  'numpy.typing.NDArray': 'numpy.typing.NDArray',
  'PIL.Image': 'PIL.Image.Image',
  'bentoml.Context': 'bentoml.Context',
  'bentoml.Context.Context': 'bentoml.Context',
  'bentoml._internal.context.ServiceContext': 'bentoml.Context',
}

const ITERATORS = new Set([
  'typing.Generator',
  'typing.AsyncGenerator',
  'typing.Iterator',
  'typing.AsyncIterator',
  'typing.Iterable',
  'typing.AsyncIterable',
  'collections.abc.Generator',
  'collections.abc.AsyncGenerator',
  'collections.abc.Iterator',
  'collections.abc.AsyncIterator',
  'collections.abc.Iterable',
  'collections.abc.AsyncIterable',
])

/** Python's `str.title()`. */
export function pyTitle(s: string): string {
  let out = ''
  let prevCased = false
  for (const ch of s) {
    const lower = ch.toLowerCase()
    const upper = ch.toUpperCase()
    const cased = lower !== upper
    out += cased ? (prevCased ? lower : upper) : ch
    prevCased = cased
  }
  return out
}

/** pydantic's default field title: `name.title().replace('_', ' ')`. */
function fieldTitle(name: string): string {
  return pyTitle(name).replace(/_/g, ' ')
}

/** `inspect.cleandoc`: what pydantic uses for a model's docstring. */
export function cleandoc(doc: string): string {
  const lines = doc.replace(/\t/g, '        ').split('\n')
  let margin = Infinity
  for (const l of lines.slice(1)) {
    const content = l.trimStart()
    if (content.length > 0) margin = Math.min(margin, l.length - content.length)
  }
  const out = [lines[0]?.trimStart() ?? '']
  for (const l of lines.slice(1)) out.push(margin === Infinity ? l : l.slice(margin))
  while (out.length > 0 && out[out.length - 1]?.trim() === '') out.pop()
  while (out.length > 0 && out[0]?.trim() === '') out.shift()
  return out.join('\n')
}

/** The docstring of a class or function body (its first statement, a string literal), raw. */
export function docstringOf(body: Stmt[]): string | null {
  const first = body[0]
  if (first?.kind === 'expr' && first.exprs.length === 1 && first.exprs[0]?.k === 'str') return first.exprs[0].value ?? null
  return null
}

class Schemer {
  readonly problems: SchemaProblem[] = []
  private readonly defs = new Map<string, Json>()
  private readonly building = new Set<ClassStmt>()
  private aliasDepth = 0

  constructor(private readonly env: SchemaEnv) {}

  problem(e: {line: number; col: number}, message: string, env = this.env, kind: SchemaProblem['kind'] = 'type'): void {
    this.problems.push({file: env.file, line: e.line, col: e.col, message, kind})
  }

  // ---- annotations → PyType

  qualified(e: Expr, env: SchemaEnv): ResolvedRef {
    const r = env.resolve(e)
    if (r.kind === 'q') return {kind: 'q', name: ALIASES[r.name] ?? r.name}
    return r
  }

  typeOf(e: Expr | undefined, env: SchemaEnv): PyType {
    if (e === undefined) return ANY
    if (e.k === 'str' && e.value !== null) {
      const parsed = env.parse(e.value, e.line, e.col)
      if (parsed === undefined) {
        this.problem(e, `cannot read the annotation "${e.value}"`, env)
        return ANY
      }
      return this.typeOf(parsed, env)
    }
    if (e.k === 'const' && e.id === 'None') return {t: 'prim', schema: {type: 'null'}}
    // X | Y (old scanner: flat `ops`; new: `bin`)
    const unionParts = pipeUnion(e)
    if (unionParts !== undefined) return this.union(unionParts.map((p) => this.typeOf(p, env)))
    if (e.k === 'sub') return this.subscripted(e, env)
    if (e.k === 'name' || e.k === 'attr') {
      const r = this.qualified(e, env)
      if (r.kind === 'class') return this.classType(r.cls, r.env, e)
      if (r.kind === 'alias') return this.aliasType(r.expr, r.env, e, env)
      if (r.kind === 'unknown') {
        this.problem(e, `cannot tell what the annotation \`${exprText(e)}\` is (${r.why})`, env)
        return ANY
      }
      return this.named(r.name, [], e, env)
    }
    this.problem(e, `cannot read the annotation \`${exprText(e)}\``, env)
    return ANY
  }

  private aliasType(target: Expr, targetEnv: SchemaEnv, at: Expr, env: SchemaEnv): PyType {
    if (this.aliasDepth >= 20) {
      this.problem(at, `the type alias \`${exprText(at)}\` refers to itself`, env)
      return ANY
    }
    this.aliasDepth++
    try {
      return this.typeOf(target, targetEnv)
    } finally {
      this.aliasDepth--
    }
  }

  private subscripted(e: Extract<Expr, {k: 'sub'}>, env: SchemaEnv): PyType {
    const r = this.qualified(e.obj, env)
    if (r.kind !== 'q') {
      if (r.kind === 'class') return this.classType(r.cls, r.env, e)
      const why = r.kind === 'alias' ? 'a subscripted type alias' : r.why
      this.problem(e, `cannot tell what the annotation \`${exprText(e)}\` is (${why})`, env)
      return ANY
    }
    const args = e.index.length === 1 && e.index[0]?.k === 'seq' && e.index[0].kind === 'tuple' ? e.index[0].items : e.index
    return this.named(r.name, args, e, env)
  }

  private named(name: string, args: Expr[], at: Expr, env: SchemaEnv): PyType {
    const arg = (i: number): PyType => this.typeOf(args[i], env)
    const prim = PRIMS[name]
    if (prim !== undefined) return {t: 'prim', schema: {...prim}}
    switch (name) {
      case 'typing.Any':
        return ANY
      case 'builtins.list':
      case 'builtins.set':
      case 'builtins.frozenset':
      case 'typing.Set':
        return {t: 'list', item: args.length > 0 ? arg(0) : null}
      case 'builtins.dict':
        return {t: 'dict', value: args.length > 1 ? arg(1) : null}
      case 'builtins.tuple': {
        if (args.length === 2 && args[1]?.k === 'const' && args[1].id === '...') return {t: 'tuple', items: [], rest: arg(0)}
        if (args.length === 0) return {t: 'tuple', items: [], rest: ANY}
        return {t: 'tuple', items: args.map((_, i) => arg(i))}
      }
      case 'typing.Optional':
        return this.union([arg(0), {t: 'prim', schema: {type: 'null'}}])
      case 'typing.Union':
        return this.union(args.map((_, i) => arg(i)))
      case 'typing.Literal': {
        const values: unknown[] = []
        for (const a of args) {
          const v = env.literal(a)
          if (v.ok) values.push(v.value)
          else this.problem(a, `cannot read the Literal value \`${exprText(a)}\` (${v.why})`, env)
        }
        return {t: 'literal', values}
      }
      case 'typing.Annotated':
        return this.annotated(arg(0), args.slice(1), env)
      case 'numpy.ndarray':
        return {t: 'custom', schema: tensorSchema('numpy-array', args.length > 1 ? this.npDtype(args[1], env) : undefined)}
      case 'numpy.typing.NDArray':
        return {t: 'custom', schema: tensorSchema('numpy-array', args.length > 0 ? this.npScalar(args[0], env) : undefined)}
      case 'torch.Tensor':
        return {t: 'custom', schema: tensorSchema('torch-tensor')}
      case 'tensorflow.Tensor':
        return {t: 'custom', schema: tensorSchema('tf-tensor')}
      case 'pandas.DataFrame':
      case 'pandas.core.frame.DataFrame':
        return {t: 'custom', schema: {type: 'dataframe', orient: 'records'}}
      case 'PIL.Image.Image':
        return {t: 'custom', schema: {type: 'file', format: 'image', pil: true}}
      case 'pathlib.Path':
      case 'pathlib.PurePath':
      case 'pathlib.PosixPath':
      case 'pathlib.PurePosixPath':
        return {t: 'custom', schema: {type: 'file', format: 'binary'}}
      default:
        if (ITERATORS.has(name)) return {t: 'iter', item: args.length > 0 ? arg(0) : ANY}
        this.problem(at, `bento does not know the JSON schema BentoML gives \`${name}\``, env)
        return ANY
    }
  }

  private npScalar(e: Expr | undefined, env: SchemaEnv): string | undefined {
    if (e === undefined) return undefined
    const r = this.qualified(e, env)
    if (r.kind === 'q' && r.name.startsWith('numpy.')) return r.name.slice('numpy.'.length).replace(/^float_$/, 'float64').replace(/^int_$/, 'int64')
    if (r.kind === 'q' && PRIMS[r.name]) return {'builtins.float': 'float64', 'builtins.int': 'int64', 'builtins.bool': 'bool'}[r.name]
    return undefined
  }

  /** `np.ndarray[Any, np.dtype[np.float32]]` → `float32`. */
  private npDtype(e: Expr | undefined, env: SchemaEnv): string | undefined {
    if (e?.k !== 'sub') return undefined
    return this.npScalar(e.index[0], env)
  }

  private union(options: PyType[]): PyType {
    const flat = options.flatMap((o) => (o.t === 'union' ? o.options : [o]))
    return flat.length === 1 ? (flat[0] as PyType) : {t: 'union', options: flat}
  }

  private annotated(base: PyType, metas: Expr[], env: SchemaEnv): PyType {
    const extra: Json = {}
    let contentType: string | undefined
    let out = base
    // After a validator, pydantic applies constraints to the validator's schema (`ge` is written as `ge`, or pushed
    // in as `minimum`, depending on the constraint): bento leaves such constraints out, with a warning.
    let validated = false
    for (const m of metas) {
      // A plain string, number or constant (`Annotated[float, "Speech threshold"]`): pydantic ignores it.
      if (m.k === 'str' || m.k === 'num' || m.k === 'const') continue
      if (m.k !== 'call') {
        this.problem(m, `cannot read the Annotated metadata \`${exprText(m)}\``, env)
        continue
      }
      const r = this.qualified(m.fn, env)
      const name = r.kind === 'q' ? r.name : ''
      const first = m.args.find((a) => a.name === undefined && a.star === undefined)
      const val = (a: Arg | undefined): unknown => {
        if (a === undefined) return undefined
        const v = env.literal(a.value)
        if (!v.ok) this.problem(a.value, `cannot read \`${exprText(a.value)}\` (${v.why})`, env)
        return v.ok ? v.value : undefined
      }
      if (name === 'bentoml.validators.ContentType' || name === '_bentoml_sdk.validators.ContentType') {
        const ct = val(first ?? m.args.find((a) => a.name === 'content_type'))
        if (typeof ct === 'string') {
          contentType = ct
          if (out.t === 'custom' && out.schema.type === 'file' && out.schema.pil !== true) {
            out = {t: 'custom', schema: {...out.schema, format: ct.split('/')[0], content_type: ct}}
          }
        }
      } else if (name === 'bentoml.validators.Shape' || name === '_bentoml_sdk.validators.Shape') {
        const dims = val(first ?? m.args.find((a) => a.name === 'dimensions'))
        if (Array.isArray(dims) && out.t === 'custom' && out.schema.type === 'tensor') {
          out = {t: 'custom', schema: {...out.schema, shape: dims, dim: dims.reduce((a: number, b) => a * Number(b), 1)}}
        }
      } else if (name === 'bentoml.validators.DType' || name === '_bentoml_sdk.validators.DType') {
        const dt = val(first ?? m.args.find((a) => a.name === 'dtype'))
        if (typeof dt === 'string' && out.t === 'custom' && out.schema.type === 'tensor') out = {t: 'custom', schema: {...out.schema, dtype: dt}}
      } else if (name === 'bentoml.validators.DataframeSchema' || name === '_bentoml_sdk.validators.DataframeSchema') {
        const orient = val(m.args.find((a) => a.name === 'orient'))
        const columns = val(m.args.find((a) => a.name === 'columns'))
        out = {t: 'custom', schema: {type: 'dataframe', orient: typeof orient === 'string' ? orient : 'records', ...(Array.isArray(columns) && columns.length > 0 ? {columns} : {})}}
      } else if (VALIDATORS.has(name)) {
        // Before/After/Wrap validators validate the annotated type: its JSON schema is unchanged. A PlainValidator
        // replaces the validation: any value (`{}`).
        if (name.endsWith('.PlainValidator')) out = ANY
        validated = true
      } else if (name === 'pydantic.Field' || name === 'pydantic.fields.Field') {
        const f = this.fieldExtras(m, env).extra
        for (const [k, v] of Object.entries(f)) {
          if (validated && !FIELD_INFO_KEYS.has(k)) this.problem(m, `bento does not follow the constraint \`${k}\` after a validator`, env)
          else extra[k] = v
        }
      } else if (validated && ANNOTATED_TYPES[name] !== undefined) {
        this.problem(m, `bento does not follow the constraint \`${exprText(m.fn)}\` after a validator`, env)
      } else if (ANNOTATED_TYPES[name] !== undefined) {
        // annotated_types constraints (`Ge(1)`, `Interval(gt=0, le=5)`, `Len(1, 3)`): pydantic's constraint keys.
        const params = ANNOTATED_TYPES[name] as string[]
        const pos = m.args.filter((a) => a.name === undefined && a.star === undefined)
        params.forEach((param, i) => {
          const key = FIELD_KEYS[param]
          const a = m.args.find((x) => x.name === param) ?? pos[i]
          if (a === undefined || key === undefined) return
          const v = val(a)
          if (v !== undefined && v !== null) extra[key] = v
        })
      } else {
        this.problem(m, `bento does not know what \`${exprText(m.fn)}\` adds to the JSON schema`, env)
      }
    }
    return Object.keys(extra).length === 0 && contentType === undefined ? out : {t: 'annotated', base: out, extra, ...(contentType ? {contentType} : {})}
  }

  /** `pydantic.Field(...)`: default, factory, and the keywords that change the JSON schema. */
  fieldExtras(call: Extract<Expr, {k: 'call'}>, env: SchemaEnv): {default?: {value: unknown}; factory?: boolean; unreadDefault?: boolean; extra: Json} {
    const extra: Json = {}
    const out: {default?: {value: unknown}; factory?: boolean; unreadDefault?: boolean; extra: Json} = {extra}
    const MAP = FIELD_KEYS
    const pos = call.args.filter((a) => a.name === undefined && a.star === undefined)
    const defArg = pos[0] ?? call.args.find((a) => a.name === 'default')
    if (defArg !== undefined && !(defArg.value.k === 'const' && defArg.value.id === '...')) {
      const v = env.literal(defArg.value)
      if (v.ok) out.default = {value: v.value}
      else {
        this.problem(defArg.value, `cannot read the default \`${exprText(defArg.value)}\` (${v.why})`, env, 'default')
        out.unreadDefault = true
      }
    }
    for (const a of call.args) {
      if (a.name === 'default_factory') out.factory = true
      if (a.name === undefined || MAP[a.name] === undefined) continue
      const v = env.literal(a.value)
      if (!v.ok) {
        this.problem(a.value, `cannot read \`${a.name}=${exprText(a.value)}\` (${v.why})`, env)
        continue
      }
      extra[MAP[a.name] as string] = v.value
    }
    return out
  }

  private classType(cls: ClassStmt, env: SchemaEnv, at: Expr): PyType {
    if (this.isModel(cls, env)) return {t: 'model', name: cls.name, cls, env}
    const en = this.enumOf(cls, env)
    if (en !== undefined) {
      if (en.members === undefined) return ANY
      const values = [...en.members.values()]
      const types = new Set(values.map(jsonType))
      const type = en.type ?? (types.size === 1 ? [...types][0] : undefined)
      const doc = docstringOf(cls.body)
      const schema: Json = {...(doc === null ? {} : {description: cleandoc(doc)}), enum: values, title: cls.name, ...(type ? {type} : {})}
      return {t: 'enum', name: cls.name, schema}
    }
    this.problem(at, `\`${cls.name}\` is not a pydantic model, so bento cannot tell its JSON schema`, env)
    return ANY
  }

  /** An `enum.Enum` class of the project: its members' values (`undefined` when one cannot be read) and JSON type. */
  enumOf(cls: ClassStmt, env: SchemaEnv): {members?: Map<string, unknown>; type?: string} | undefined {
    let isEnum = false
    let type: string | undefined
    for (const b of cls.bases) {
      if (b.name !== undefined) continue
      const r = this.qualified(b.value, env)
      if (r.kind !== 'q') continue
      if (r.name in ENUM_BASES) {
        isEnum = true
        type ??= ENUM_BASES[r.name]
      } else if (ENUM_MIXINS[r.name] !== undefined) type = ENUM_MIXINS[r.name]
    }
    if (!isEnum) return undefined
    const members = new Map<string, unknown>()
    for (const st of cls.body) {
      if (st.kind !== 'assign' || st.annotation !== undefined || st.targets.length !== 1 || st.targets[0]?.k !== 'name') continue
      const name = st.targets[0].id
      if (name.startsWith('_') || st.value === undefined) continue
      const v = env.literal(st.value)
      if (!v.ok) {
        this.problem(st.value, `cannot read the value of the enum member \`${cls.name}.${name}\` (${v.why})`, env)
        return {type}
      }
      members.set(name, v.value)
    }
    return {members, type}
  }

  isModel(cls: ClassStmt, env: SchemaEnv, seen = new Set<ClassStmt>()): boolean {
    if (seen.has(cls)) return false
    seen.add(cls)
    for (const b of cls.bases) {
      if (b.name !== undefined) continue
      const r = this.qualified(b.value, env)
      if (r.kind === 'q' && (r.name === 'pydantic.BaseModel' || r.name === 'pydantic.main.BaseModel' || r.name === 'bentoml.IODescriptor')) return true
      if (r.kind === 'class' && this.isModel(r.cls, r.env, seen)) return true
    }
    return false
  }

  /**
   * pydantic's `extra` setting of a model class, as `ConfigWrapper.for_model` merges it: each model base's, then the
   * class's `model_config` (`ConfigDict(extra=…)` or a dict display), then the class keyword `extra=…`.
   */
  modelExtra(cls: ClassStmt, env: SchemaEnv, seen: ReadonlySet<ClassStmt> = new Set()): unknown {
    if (seen.has(cls)) return undefined
    const inner = new Set([...seen, cls])
    let extra: unknown
    for (const b of cls.bases) {
      if (b.name !== undefined) continue
      const r = this.qualified(b.value, env)
      if (r.kind !== 'class' || !this.isModel(r.cls, r.env)) continue
      const e = this.modelExtra(r.cls, r.env, inner)
      if (e !== undefined) extra = e
    }
    for (const st of cls.body) {
      if (st.kind !== 'assign' || st.targets.length !== 1 || st.targets[0]?.k !== 'name' || st.targets[0].id !== 'model_config') continue
      const e = this.configExtra(st.value, env)
      if (e !== undefined) extra = e
    }
    const kw = cls.bases.find((b) => b.name === 'extra')
    if (kw !== undefined) {
      const v = env.literal(kw.value)
      if (v.ok) extra = v.value
      else this.problem(kw.value, `cannot read the model's \`extra=\` (${v.why})`, env)
    }
    return extra
  }

  /** `extra` of a `model_config` value: `ConfigDict(extra=…)` or `{"extra": …}`; undefined when it does not set it. */
  private configExtra(e: Expr, env: SchemaEnv): unknown {
    let value: Expr | undefined
    if (e.k === 'call') {
      const r = this.qualified(e.fn, env)
      if (r.kind !== 'q' || (r.name !== 'pydantic.ConfigDict' && r.name !== 'pydantic.config.ConfigDict')) return undefined
      value = e.args.find((a) => a.name === 'extra')?.value
    } else if (e.k === 'dict') {
      value = e.entries.find((en) => en.key?.k === 'str' && en.key.value === 'extra')?.value
    }
    if (value === undefined) return undefined
    const v = env.literal(value)
    if (v.ok) return v.value
    this.problem(value, `cannot read the model's \`extra\` setting (${v.why})`, env)
    return undefined
  }

  /** The fields of a pydantic model class (its bases' first), in definition order. */
  modelFields(cls: ClassStmt, env: SchemaEnv): FieldInfo[] {
    const fields = new Map<string, FieldInfo>()
    for (const b of cls.bases) {
      if (b.name !== undefined) continue
      const r = this.qualified(b.value, env)
      if (r.kind === 'class' && this.isModel(r.cls, r.env)) for (const f of this.modelFields(r.cls, r.env)) fields.set(f.name, f)
    }
    for (const s of cls.body) {
      const decl = annotatedDecl(s)
      if (decl === undefined || decl.name.startsWith('_') || decl.name === 'model_config') continue
      if (isClassVar(decl.annotation, env, this)) continue
      fields.set(decl.name, this.field(decl.name, decl.annotation, decl.value, env))
    }
    return [...fields.values()]
  }

  field(name: string, annotation: Expr | undefined, value: Expr | undefined, env: SchemaEnv): FieldInfo {
    const info: FieldInfo = {name, type: this.typeOf(annotation, env), extra: {}}
    if (value === undefined) return info
    if (value.k === 'call') {
      const r = this.qualified(value.fn, env)
      if (r.kind === 'q' && (r.name === 'pydantic.Field' || r.name === 'pydantic.fields.Field')) {
        const f = this.fieldExtras(value, env)
        if (f.default) info.default = f.default
        if (f.factory) info.factory = true
        if (f.unreadDefault) info.unreadDefault = true
        info.extra = f.extra
        return info
      }
    }
    const member = this.enumMember(value, env)
    if (member !== undefined) {
      info.default = member
      return info
    }
    const v = env.literal(value)
    if (v.ok) info.default = {value: v.value}
    else {
      this.problem(value, `cannot read the default \`${exprText(value)}\` of "${name}" (${v.why})`, env, 'default')
      info.unreadDefault = true
    }
    return info
  }

  /** `Color.RED` of a project enum: its value (pydantic writes an enum default as the member's value). */
  enumMember(e: Expr, env: SchemaEnv): {value: unknown} | undefined {
    if (e.k !== 'attr') return undefined
    const r = this.qualified(e.obj, env)
    if (r.kind !== 'class') return undefined
    const members = this.enumOf(r.cls, r.env)?.members
    return members?.has(e.attr) ? {value: members.get(e.attr)} : undefined
  }

  // ---- PyType → pydantic JSON schema (validation mode, refs in $defs)

  schemaOf(t: PyType): Json {
    switch (t.t) {
      case 'any':
        return {}
      case 'prim':
      case 'custom':
        return {...t.schema}
      case 'list':
        return {items: t.item === null ? {} : this.schemaOf(t.item), type: 'array'}
      case 'dict':
        return {additionalProperties: t.value === null || t.value.t === 'any' ? true : this.schemaOf(t.value), type: 'object'}
      case 'tuple':
        if (t.rest !== undefined) return {items: this.schemaOf(t.rest), type: 'array'}
        return {maxItems: t.items.length, minItems: t.items.length, prefixItems: t.items.map((x) => this.schemaOf(x)), type: 'array'}
      case 'union':
        return {anyOf: t.options.map((o) => this.schemaOf(o))}
      case 'literal': {
        const types = new Set(t.values.map(jsonType))
        const typ = types.size === 1 ? [...types][0] : undefined
        const base: Json = t.values.length === 1 ? {const: t.values[0]} : {enum: t.values}
        return typ ? {...base, type: typ} : base
      }
      case 'iter':
        return this.schemaOf(t.item)
      case 'annotated':
        return {...this.schemaOf(t.base), ...jsonExtras(t.extra, t.base)}
      case 'model':
        this.defineModel(t.cls, t.env, t.name)
        return {$ref: `#/$defs/${t.name}`}
      case 'enum':
        if (!this.defs.has(t.name)) this.defs.set(t.name, structuredClone(t.schema))
        return {$ref: `#/$defs/${t.name}`}
    }
  }

  private defineModel(cls: ClassStmt, env: SchemaEnv, name: string): void {
    if (this.defs.has(name) || this.building.has(cls)) return
    this.building.add(cls)
    const s = this.objectSchema(this.modelFields(cls, env), name, this.modelExtra(cls, env))
    const doc = docstringOf(cls.body)
    if (doc !== null) s.description = cleandoc(doc)
    this.defs.set(name, s)
    this.building.delete(cls)
  }

  /** A model's object schema; `extra` is its pydantic `extra` setting ("forbid" / "allow": `additionalProperties`). */
  objectSchema(fields: FieldInfo[], title: string, extra?: unknown): Json {
    const properties: Json = {}
    const required: string[] = []
    for (const f of fields) {
      const p: Json = {...this.schemaOf(f.type), ...jsonExtras(f.extra, f.type)}
      if (p.title === undefined && !('$ref' in p)) p.title = fieldTitle(f.name)
      if (f.default !== undefined) p.default = f.default.value
      else if (!f.factory && !f.unreadDefault) required.push(f.name)
      properties[f.name] = p
    }
    const additional = extra === 'forbid' ? {additionalProperties: false} : extra === 'allow' ? {additionalProperties: true} : {}
    return {...additional, properties, ...(required.length > 0 ? {required} : {}), title, type: 'object'}
  }

  /** A top-level schema with the definitions it uses (pydantic's `$defs`). */
  withDefs(s: Json): Json {
    if (this.defs.size === 0) return s
    return {$defs: Object.fromEntries([...this.defs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), ...s}
  }

  resetDefs(): void {
    this.defs.clear()
  }
}

/** Keyword constraints that depend on the type (`min_length` is `minLength` on strings, `minItems` on arrays). */
function jsonExtras(extra: Json, t: PyType): Json {
  const out: Json = {}
  const isArray = t.t === 'list' || t.t === 'tuple'
  for (const [k, v] of Object.entries(extra)) {
    if (k === 'min_length') out[isArray ? 'minItems' : 'minLength'] = v
    else if (k === 'max_length') out[isArray ? 'maxItems' : 'maxLength'] = v
    else out[k] = v
  }
  return out
}

function jsonType(v: unknown): string | undefined {
  if (typeof v === 'string') return 'string'
  if (typeof v === 'boolean') return 'boolean'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  if (v === null) return 'null'
  return undefined
}

function tensorSchema(format: string, dtype?: string): Json {
  return {type: 'tensor', format, ...(dtype ? {dtype} : {})}
}

function isClassVar(annotation: Expr | undefined, env: SchemaEnv, s: Schemer): boolean {
  if (annotation === undefined) return false
  const head = annotation.k === 'sub' ? annotation.obj : annotation
  if (head.k !== 'name' && head.k !== 'attr') return false
  const r = s.qualified(head, env)
  return r.kind === 'q' && r.name === 'typing.ClassVar'
}

/** `a | b | c` as its operands, in either scanner form. */
function pipeUnion(e: Expr): Expr[] | undefined {
  const anyE = e as {k: string; op?: string; left?: Expr; right?: Expr}
  if (anyE.k === 'bin' && anyE.op === '|' && anyE.left && anyE.right) return [...(pipeUnion(anyE.left) ?? [anyE.left]), ...(pipeUnion(anyE.right) ?? [anyE.right])]
  if (e.k === 'ops' && e.ops.length > 0 && e.ops.length === e.parts.length - 1 && e.ops.every((o) => o === '|')) return e.parts
  return undefined
}

/** A class-body or parameter declaration `name: annotation [= value]`, in either scanner form. */
function annotatedDecl(s: Stmt): {name: string; annotation?: Expr; value?: Expr} | undefined {
  const anyS = s as {kind: string; target?: Expr; annotation?: Expr}
  if (anyS.kind === 'annotation' && anyS.target?.k === 'name' && anyS.annotation) return {name: anyS.target.id, annotation: anyS.annotation}
  if (s.kind === 'assign' && s.annotation !== undefined && s.targets.length === 1 && s.targets[0]?.k === 'name') {
    return {name: s.targets[0].id, annotation: s.annotation, value: s.value}
  }
  if (s.kind === 'expr' && s.exprs.length === 1) {
    const e = s.exprs[0]
    if (e?.k === 'ops' && e.ops.length === 1 && e.ops[0] === ':' && e.parts.length === 2 && e.parts[0]?.k === 'name') {
      return {name: e.parts[0].id, annotation: e.parts[1] as Expr}
    }
  }
  return undefined
}

/** A parameter of a `def`: `name`, `name: T`, `name: T = v`, `name = v`, `*args`, `**kwargs`, `/`, `*`. */
interface Param {
  name: string
  kind: 'normal' | 'varargs' | 'kwargs' | 'slash' | 'star'
  annotation?: Expr
  value?: Expr
  at: {line: number; col: number}
}

export function defParams(def: DefStmt): Param[] {
  const out: Param[] = []
  for (const p of def.params) {
    const at = {line: p.line, col: p.col}
    if (p.k === 'ops' && p.parts.length === 0 && p.ops.length === 1) {
      if (p.ops[0] === '/') out.push({name: '/', kind: 'slash', at})
      else if (p.ops[0] === '*') out.push({name: '*', kind: 'star', at})
      continue
    }
    let kind: Param['kind'] = 'normal'
    let parts: Expr[]
    let ops: string[]
    if (p.k === 'ops') {
      parts = [...p.parts]
      ops = [...p.ops]
      if (ops[0] === '**' && parts.length === ops.length) {
        kind = 'kwargs'
        ops.shift()
      } else if (ops[0] === '*' && parts.length === ops.length) {
        kind = 'varargs'
        ops.shift()
      }
    } else if ((p as {k: string}).k === 'starred') {
      const inner = (p as unknown as {value: Expr}).value
      out.push({name: inner.k === 'name' ? inner.id : '?', kind: 'varargs', at})
      continue
    } else {
      parts = [p]
      ops = []
    }
    const nameExpr = parts[0]
    if (nameExpr?.k !== 'name') continue
    const param: Param = {name: nameExpr.id, kind, at}
    let i = 1
    for (const op of ops) {
      const part = parts[i++]
      if (op === ':' && part) param.annotation = part
      else if (op === '=' && part) param.value = part
    }
    // The parsed parameter (the evaluator's too): a default with operators (`= cfg.beam_size * 2`) is one
    // expression there, where the flat parts above hold only its first operand.
    const parsed = def.parameters.find((q) => q.name === param.name)
    if (parsed !== undefined) {
      if (parsed.default !== undefined) param.value = parsed.default
      if (parsed.annotation !== undefined) param.annotation = parsed.annotation
    }
    out.push(param)
  }
  return out
}

function containsYield(stmts: Stmt[]): boolean {
  for (const s of stmts) {
    if (s.kind === 'def' || s.kind === 'class') continue
    const exprs: Expr[] = []
    const anyS = s as {exprs?: Expr[]; value?: Expr; targets?: Expr[]}
    if (anyS.exprs) exprs.push(...anyS.exprs)
    if (anyS.value) exprs.push(anyS.value)
    if (exprs.some(hasYield)) return true
    if (containsYield(s.body)) return true
  }
  return false
}

function hasYield(e: Expr): boolean {
  if (e.k === 'ops') return e.ops.includes('yield') || e.parts.some(hasYield)
  return false
}

export interface ApiMethodInfo {
  /** The class attribute (= the API name: BentoML ignores `name=`). */
  attr: string
  def: DefStmt
  decorator: Expr
  isTask: boolean
  /** Literal keyword arguments of the decorator (`route`, `batchable`, …). */
  options: {route?: string; batchable?: boolean}
  /** `input_spec=` / `output_spec=` classes. */
  inputSpec?: Expr
  outputSpec?: Expr
}

/** `APIMethod.schema()` of one API. */
export function apiSchema(api: ApiMethodInfo, env: SchemaEnv, problems: SchemaProblem[]): Json {
  const s = new Schemer(env)
  const def = api.def
  const route = api.options.route ?? (def.name === '__call__' ? '/' : `/${def.name}`)

  // input
  let input: Json
  if (api.inputSpec !== undefined) {
    input = specSchema(s, api.inputSpec, env)
  } else {
    const params = defParams(def).slice(1)
    const ctx = params.find((p) => (p.name === 'ctx' || p.name === 'context') && (p.annotation === undefined || isContext(p.annotation, env, s)))
    const slash = params.findIndex((p) => p.kind === 'slash')
    const usable = params.filter((p) => p !== ctx && p.kind !== 'slash' && p.kind !== 'star')
    if (slash > 0) {
      // The first positional-only parameter is the whole input (a root input).
      const p = usable[0] as Param
      const t = s.typeOf(p.annotation, env)
      const fieldDefault = p.value === undefined ? undefined : s.field(p.name, undefined, p.value, env).default
      input = rootSchema(s, t, true)
      if (fieldDefault !== undefined && t.t !== 'model') input.default = fieldDefault.value
    } else {
      const fields: FieldInfo[] = []
      for (const p of usable) {
        if (p.name.startsWith('_')) continue
        if (p.kind === 'kwargs') {
          fields.push({name: 'kwargs', type: {t: 'dict', value: null}, extra: {}})
          continue
        }
        const f = s.field(p.name, p.annotation, p.value, env)
        if (p.kind === 'varargs') f.type = {t: 'list', item: f.type}
        fields.push(p.kind === 'varargs' ? {...f, name: 'args'} : f)
      }
      input = flattenModelSchema(s.withDefs(s.objectSchema(fields, 'Input')))
    }
  }
  s.resetDefs()

  // output
  let output: Json
  let mediaType: string | undefined
  const returns = def.returns
  let isIter = false
  if (api.outputSpec !== undefined) {
    output = specSchema(s, api.outputSpec, env)
  } else {
    let t = s.typeOf(returns, env)
    if (t.t === 'iter') {
      isIter = true
      t = t.item
    } else if (t.t === 'annotated' && t.contentType !== undefined) {
      mediaType = t.contentType
    }
    output = rootSchema(s, t, false)
  }
  const isStream = containsYield(def.body)
  if (isStream) {
    output.is_stream = true
    mediaType ??= 'text/event-stream'
  }
  void isIter
  if (mediaType !== undefined) output.media_type = mediaType
  problems.push(...s.problems)
  return {
    name: api.attr,
    route,
    batchable: api.options.batchable ?? false,
    input,
    output,
    is_task: api.isTask,
  }
}

function isContext(e: Expr, env: SchemaEnv, s: Schemer): boolean {
  const r = s.qualified(e, env)
  return r.kind === 'q' && r.name === 'bentoml.Context'
}

/** `ensure_io_descriptor(T).model_json_schema()`: a model's own schema, or the root model of another type. */
function rootSchema(s: Schemer, t: PyType, rootInput: boolean): Json {
  let out: Json
  if (t.t === 'model') {
    const fields = s.modelFields(t.cls, t.env)
    out = flattenModelSchema(s.withDefs(s.objectSchema(fields, `${t.name}IODescriptor`, s.modelExtra(t.cls, t.env))))
  } else {
    out = s.withDefs(s.schemaOf(t))
    if (out.properties) out = flattenModelSchema(out)
    // pydantic unpacks a top-level schema that is only a reference (an Enum output): the definition itself.
    const keys = Object.keys(out)
    if (typeof out.$ref === 'string' && keys.every((k) => k === '$ref' || k === '$defs')) {
      const def = ((out.$defs as Json | undefined) ?? {})[(out.$ref as string).slice('#/$defs/'.length)] as Json | undefined
      if (def !== undefined && Object.keys((out.$defs as Json | undefined) ?? {}).length === 1) out = structuredClone(def)
    }
  }
  if (rootInput) out.root_input = true
  return out
}

/** `input_spec=Model` / `output_spec=Model`: the model's schema under its own title (or `<Model>IODescriptor`). */
function specSchema(s: Schemer, e: Expr, env: SchemaEnv): Json {
  const r = s.qualified(e, env)
  if (r.kind === 'class' && s.isModel(r.cls, r.env)) {
    return flattenModelSchema(s.withDefs(s.objectSchema(s.modelFields(r.cls, r.env), `${r.cls.name}IODescriptor`, s.modelExtra(r.cls, r.env))))
  }
  s.problem(e, `the API spec \`${exprText(e)}\` is not a pydantic model class of the project`)
  return {}
}

/** BentoML's `_flatten_model_schema` / `_flatten_field`. */
export function flattenModelSchema(schema: Json): Json {
  if (!schema.properties || Object.keys(schema.properties as Json).length === 0) return schema
  const defs = (schema.$defs as Json | undefined) ?? {}
  delete schema.$defs
  return flattenField(schema, defs)
}

function flattenField(schema: Json, defs: Json): Json {
  if (Array.isArray(schema.allOf)) {
    const first = schema.allOf[0] as Json
    delete schema.allOf
    Object.assign(schema, first)
  }
  if (Array.isArray(schema.anyOf)) {
    const first = schema.anyOf[0] as Json
    delete schema.anyOf
    Object.assign(schema, first)
  }
  if (typeof schema.$ref === 'string') {
    const ref = (schema.$ref as string).slice('#/$defs/'.length)
    delete schema.$ref
    Object.assign(schema, flattenField(structuredClone(defs[ref] as Json), defs))
  } else if (schema.type === 'object' && schema.properties) {
    const props = schema.properties as Json
    for (const k of Object.keys(props)) props[k] = flattenField(props[k] as Json, defs)
  } else if (schema.type === 'array' && schema.items) {
    schema.items = flattenField(schema.items as Json, defs)
  }
  return schema
}

/** Source-like text of an expression for messages. */
export function exprText(e: Expr): string {
  switch (e.k) {
    case 'name':
      return e.id
    case 'attr':
      return `${exprText(e.obj)}.${e.attr}`
    case 'str':
      return JSON.stringify(e.value ?? '')
    case 'num':
      return e.text
    case 'const':
      return e.id
    case 'call':
      return `${exprText(e.fn)}(…)`
    case 'sub':
      return `${exprText(e.obj)}[${e.index.map(exprText).join(', ')}]`
    default:
      return '…'
  }
}

/** `Service.schema()` with a `path_prefix`: every route and path joined under it (BentoML's `join_paths`). */
export function prefixSchema(schema: Record<string, unknown>, prefix: string | null): Record<string, unknown> {
  if (!prefix) return schema
  const join = (...paths: string[]): string => {
    let result = ''
    for (const p of paths) {
      if (!p) continue
      result = `${result.replace(/\/+$/, '')}/${p.replace(/^\/+/, '')}`
    }
    return result || '/'
  }
  const routes = Array.isArray(schema.routes) ? (schema.routes as Array<Record<string, unknown>>).map((r) => ({...r, route: join(prefix, String(r.route))})) : schema.routes
  const paths = schema.paths && typeof schema.paths === 'object' ? Object.fromEntries(Object.entries(schema.paths).map(([k, v]) => [join(prefix, k), v])) : schema.paths
  return {...schema, routes, paths}
}
