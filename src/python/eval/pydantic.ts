/**
 * The pydantic (v2) rules the evaluator follows for argument models (`bentoml.use_arguments(Model)`) and model
 * instances: which annotated names are fields, and lax-mode validation of a value against its annotation.
 */
import type {Expr} from '../parse/index.js'
import {Budget} from './budget.js'
import {FALSE, int, NONE, parseIntBase, parseNumber, pyEquals, str, TRUE, bool} from './pyops.js'
import type {ClassValue, PyValue} from './values.js'

/** The `fields` a `@model_validator` is recorded under (the whole model, not one field). */
export const MODEL_VALIDATOR = '<model>'

/** Pydantic fields of an argument model, in declaration order (base classes first). */
export function modelFields(cls: ClassValue): Array<{name: string; annotation: Expr; default: PyValue | undefined}> {
  const out: Array<{name: string; annotation: Expr; default: PyValue | undefined}> = []
  for (const b of cls.bases) if (b.t === 'class') for (const f of modelFields(b.cls)) if (!out.some((o) => o.name === f.name)) out.push(f)
  for (const a of cls.annotations) {
    if (a.name.startsWith('_')) continue
    const ann = a.annotation
    if (ann.k === 'sub' && ann.obj.k === 'name' && ann.obj.id === 'ClassVar') continue
    const i = out.findIndex((o) => o.name === a.name)
    const f = {name: a.name, annotation: ann, default: cls.ns.get(a.name)}
    if (i === -1) out.push(f)
    else out[i] = f
  }
  return out
}

export function classLookup(cls: ClassValue, attr: string): PyValue | undefined {
  const v = cls.ns.get(attr)
  if (v !== undefined) return v
  for (const b of cls.bases) if (b.t === 'class') {
    const r = classLookup(b.cls, attr)
    if (r !== undefined) return r
  }
  return undefined
}

/**
 * Pydantic v2 (lax mode) validation of one argument against its annotation, for the types argument models use:
 * str, int, float, bool, list[...], dict[...], Optional[...] / X | None, Literal[...]. Returns the value or
 * pydantic's message. Unknown annotations pass the value through.
 */
export function coerce(v: PyValue, ann: Expr): PyValue | string {
  const name = ann.k === 'name' ? ann.id : ann.k === 'attr' ? ann.attr : ann.k === 'sub' && (ann.obj.k === 'name' || ann.obj.k === 'attr') ? (ann.obj.k === 'name' ? ann.obj.id : ann.obj.attr) : ann.k === 'str' ? 'str-annotation' : undefined
  const args = ann.k === 'sub' ? ann.index.flatMap((x) => (x.k === 'seq' && x.kind === 'tuple' ? x.items : [x])) : []
  if (ann.k === 'bin' && ann.op === '|') {
    if (v.t === 'none' && (isNoneAnn(ann.left) || isNoneAnn(ann.right))) return v
    const l = coerce(v, ann.left)
    if (typeof l !== 'string') return l
    return coerce(v, ann.right)
  }
  if (ann.k === 'const' && ann.id === 'None') return v.t === 'none' ? v : 'Input should be None'
  switch (name) {
    case 'str':
      return v.t === 'str' ? v : 'Input should be a valid string'
    case 'int':
      if (v.t === 'int') return v
      if (v.t === 'bool') return int(BigInt(v.v))
      if (v.t === 'float' && Number.isInteger(v.v)) return int(BigInt(v.v))
      if (v.t === 'str' && /^\s*[+-]?\d[\d_]*\s*$/.test(v.v)) return int(parseIntBase(v.v, 10) ?? 0n)
      return 'Input should be a valid integer, unable to parse string as an integer'
    case 'float':
      if (v.t === 'float') return v
      if (v.t === 'int' || v.t === 'bool') return {t: 'float', v: Number(v.v)}
      if (v.t === 'str' && v.v.trim() !== '' && !Number.isNaN(Number(v.v))) return {t: 'float', v: Number(v.v)}
      return 'Input should be a valid number, unable to parse string as a number'
    case 'bool':
      if (v.t === 'bool') return v
      if (v.t === 'int' && (v.v === 0n || v.v === 1n)) return bool(v.v === 1n)
      if (v.t === 'str') {
        const s = v.v.trim().toLowerCase()
        if (['1', 'on', 't', 'true', 'y', 'yes'].includes(s)) return TRUE
        if (['0', 'off', 'f', 'false', 'n', 'no'].includes(s)) return FALSE
      }
      return 'Input should be a valid boolean, unable to interpret input'
    case 'list':
    case 'List':
    case 'Sequence':
    case 'tuple':
    case 'Tuple': {
      if (v.t !== 'list' && v.t !== 'tuple') return 'Input should be a valid list'
      const inner = args[0]
      if (inner === undefined || name === 'tuple' || name === 'Tuple') return v.t === 'list' ? v : {t: 'list', items: v.items}
      const items: PyValue[] = []
      for (const x of v.items) {
        const r = coerce(x, inner)
        if (typeof r === 'string') return r
        items.push(r)
      }
      return {t: 'list', items}
    }
    case 'dict':
    case 'Dict':
    case 'Mapping':
      return v.t === 'dict' ? v : 'Input should be a valid dictionary'
    case 'Optional':
      if (v.t === 'none') return v
      return args[0] ? coerce(v, args[0]) : v
    case 'Union': {
      if (v.t === 'none' && args.some(isNoneAnn)) return v
      let msg = 'Input should be valid'
      for (const a of args) {
        const r = coerce(v, a)
        if (typeof r !== 'string') return r
        msg = r
      }
      return msg
    }
    case 'Literal': {
      for (const a of args) {
        const lit = a.k === 'str' ? str(a.value ?? '') : a.k === 'num' ? parseNumber(a.text) : a.k === 'const' ? (a.id === 'True' ? TRUE : a.id === 'False' ? FALSE : NONE) : undefined
        if (lit && pyEquals(lit, v, new Budget())) return lit
      }
      return `Input should be ${args.map((a) => (a.k === 'str' ? `'${a.value ?? ''}'` : a.k === 'num' ? a.text : '?')).join(' or ')}`
    }
    case 'Any':
    default:
      return v
  }
}

export function isNoneAnn(e: Expr): boolean {
  return (e.k === 'const' && e.id === 'None')
}

/** The class and its bases, depth first (CPython's MRO for the single-inheritance chains configuration code has). */
export function mro(cls: ClassValue): ClassValue[] {
  const out: ClassValue[] = []
  const visit = (c: ClassValue): void => {
    if (out.includes(c)) return
    out.push(c)
    for (const b of c.bases) if (b.t === 'class') visit(b.cls)
  }
  visit(cls)
  return out
}
