/**
 * Python's operators and the value protocol the interpreter applies: binary operators (exact int arithmetic,
 * floats, `+`/`*` of sequences, `%` formatting, set algebra), comparisons (`==`, ordering, `in`, `is`), truth,
 * iteration, and the bookkeeping of unknown values (where they come from, which objects they taint).
 */
import type {Expr} from '../parse/index.js'
import {BudgetExceeded} from './budget.js'
import type {Runtime} from './context.js'
import {percentFormat} from './methods.js'
import {firstOf, int, isHashable, keyOf, NONE, orderOf, pyEquals, pyTypeName, str, typeName} from './pyops.js'
import type {ModuleState, PyValue, Site, Unknown} from './values.js'



export function binop(ev: Runtime, op: string, l: PyValue, r: PyValue, at: {line: number; col: number}, mod: ModuleState): PyValue {
  const site = {file: mod.file ?? '', line: at.line, col: at.col}
  if (l.t === 'opaque') return l
  if (r.t === 'opaque') return r
  const b = ev.budget
  switch (op) {
    case '+':
      if (l.t === 'str' && r.t === 'str') {
        b.chars(l.v.length + r.v.length, 'the string')
        return str(l.v + r.v)
      }
      if (l.t === 'list' && r.t === 'list') {
        if (l.taint || r.taint) return {t: 'opaque', u: (l.taint ?? r.taint) as Unknown}
        const items: PyValue[] = []
        ev.extend(items, l.items, 'the list')
        ev.extend(items, r.items, 'the list')
        return {t: 'list', items}
      }
      if (l.t === 'tuple' && r.t === 'tuple') {
        const items: PyValue[] = []
        ev.extend(items, l.items, 'the tuple')
        ev.extend(items, r.items, 'the tuple')
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
    case '%':
      if (l.t === 'str') return percentFormat(ev, l.v, r, {mod, e: ev.callCtx(mod, {k: 'name', id: '%', line: at.line, col: at.col}).e, site, label: '%', args: []})
      break
    default:
      break
  }
  if (l.t === 'set' && r.t === 'set' && ['|', '&', '-', '^'].includes(op)) {
    if (l.taint || r.taint) return {t: 'opaque', u: (l.taint ?? r.taint) as Unknown}
    b.items(l.map.size + r.map.size, 'the set')
    const map = new Map<string, PyValue>()
    if (op === '|' || op === '^') {
      for (const [k, v] of l.map) if (op === '|' || !r.map.has(k)) map.set(k, v)
      for (const [k, v] of r.map) if (op === '|' ? !map.has(k) : !l.map.has(k)) map.set(k, v)
    } else for (const [k, v] of l.map) if (r.map.has(k) === (op === '&')) map.set(k, v)
    return {t: 'set', map, ...(l.frozen ? {frozen: true} : {})}
  }
  const num = arith(ev, op, l, r, at, mod)
  if (num !== undefined) return num
  return ev.opaque(`${typeName(l)} ${op} ${typeName(r)}`, 'use + on strings or lists, or arithmetic on numbers', site)
}

/** Arithmetic as Python's: exact ints (bigint, floor division and modulo), floats as IEEE doubles. */
export function arith(ev: Runtime, op: string, l: PyValue, r: PyValue, at: {line: number; col: number}, mod: ModuleState): PyValue | undefined {
  const intOf = (x: PyValue): bigint | undefined => (x.t === 'int' ? x.v : x.t === 'bool' ? BigInt(x.v) : undefined)
  const li = intOf(l)
  const ri = intOf(r)
  const zero = (): never => {
    throw ev.failure(mod, at, op === '/' ? 'ZeroDivisionError: division by zero' : op === '**' ? 'ZeroDivisionError: 0.0 cannot be raised to a negative power' : 'ZeroDivisionError: integer division or modulo by zero', 'do not divide by zero')
  }
  if (li !== undefined && ri !== undefined) {
    const digits = (x: bigint): number => (x < 0n ? -x : x).toString(16).length * 1.21
    const limit = ev.budget.limits.intDigits
    const big = (n: number): void => {
      if (n > limit) throw new BudgetExceeded('size', `the integer is too large: ${Number.isFinite(n) ? `about ${Math.round(n).toLocaleString('en-US')}` : 'millions of'} digits (bento evaluates integers up to ${limit.toLocaleString('en-US')} digits); write the value as a literal`)
      ev.budget.charge(Math.ceil(n / 16))
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
        if (ri < 0n) throw ev.failure(mod, at, 'ValueError: negative shift count', 'shift by a positive count')
        big(ri > 10_000_000n ? Infinity : digits(li) + Number(ri) * 0.31)
        return int(li << ri)
      case '>>':
        if (ri < 0n) throw ev.failure(mod, at, 'ValueError: negative shift count', 'shift by a positive count')
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

export function compare(ev: Runtime, op: string, l: PyValue, r: PyValue): boolean | undefined {
  if (l.t === 'opaque' || r.t === 'opaque') return undefined
  switch (op) {
    case '==':
      return pyEquals(l, r, ev.budget)
    case '!=': {
      const e = pyEquals(l, r, ev.budget)
      return e === undefined ? undefined : !e
    }
    case 'is':
    case 'is not': {
      if (l === r || (l.t === 'builtin' && r.t === 'builtin' && l.name === r.name)) return op === 'is'
      if (['instance', 'class', 'func', 'list', 'dict', 'set', 'builtin'].includes(l.t) && ['instance', 'class', 'func', 'list', 'dict', 'set', 'builtin', 'none', 'bool'].includes(r.t)) return op !== 'is'
      if (!(l.t === 'none' || l.t === 'bool' || r.t === 'none' || r.t === 'bool')) return undefined
      const same = l.t === r.t && (l.t === 'none' || (l as {v: boolean}).v === (r as {v: boolean}).v)
      return op === 'is' ? same : !same
    }
    case 'in':
    case 'not in': {
      let hit: boolean | undefined
      if (r.t === 'str' && l.t === 'str') {
        ev.budget.charge(Math.ceil(r.v.length / 64))
        hit = r.v.includes(l.v)
      } else if ((r.t === 'list' && !r.taint) || r.t === 'tuple') {
        // As Python's: the first item that is (identical or) equal decides; an unknown comparison before it leaves it unknown.
        hit = false
        for (const x of r.items) {
          const e = x === l ? true : pyEquals(l, x, ev.budget)
          if (e === undefined) {
            hit = undefined
            break
          }
          if (e) {
            hit = true
            break
          }
        }
      } else if (r.t === 'dict' && !r.taint && isHashable(l)) hit = r.map.has(keyOf(l, ev.budget))
      else if (r.t === 'set' && !r.taint && isHashable(l)) hit = r.map.has(keyOf(l, ev.budget))
      if (hit === undefined) return undefined
      return op === 'in' ? hit : !hit
    }
    default: {
      const o = orderOf(l, r, ev.budget)
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

export function truthOf(v: PyValue): boolean | undefined {
  switch (v.t) {
    case 'none':
      return false
    case 'bool':
      return v.v
    case 'int':
      return v.v !== 0n
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
    case 'set':
      return v.taint ? undefined : v.map.size > 0
    case 'opaque':
      return undefined
    default:
      return true
  }
}

/** Items of a known sequence (dict → keys), or undefined. */
export function iterateValue(ev: Runtime, v: PyValue): PyValue[] | undefined {
  switch (v.t) {
    case 'list':
      return v.taint ? undefined : v.items
    case 'tuple':
      return v.items
    case 'str':
      ev.budget.items(v.v.length, 'the characters of the string')
      return [...v.v].map(str)
    case 'dict':
      return v.taint ? undefined : [...v.map.values()].map((x) => x.key)
    case 'set':
      return v.taint ? undefined : [...v.map.values()]
    default:
      return undefined
  }
}

/** The Unknown behind a value that cannot be used, for messages. */
export function unknownOf(v: PyValue, site: Site, what?: string): Unknown {
  if (v.t === 'opaque') return v.u
  if ((v.t === 'list' || v.t === 'dict' || v.t === 'set' || v.t === 'image') && v.taint) return v.taint
  return {why: what ?? `a ${typeName(v)} here`, hint: 'use a list, tuple or string', site}
}

/** The first Unknown inside a value (deep), if any. */
export function unknownIn(v: PyValue): Unknown | undefined {
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
      case 'set':
        return x.taint ?? firstOf([...x.map.values()], walk)
      case 'image':
        return x.taint
      default:
        return undefined
    }
  }
  return walk(v)
}

/** Mark a tracked object (and the tracked objects inside it) as changed by code bento does not run. */
export function taintValue(v: PyValue, u: Unknown): void {
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
    } else if (x.t === 'image' || x.t === 'set') x.taint ??= u
    else if (x.t === 'tuple') x.items.forEach(walk)
    else if (x.t === 'instance') for (const a of x.attrs.values()) walk(a)
  }
  walk(v)
}

/** A set of `items` (duplicates by Python's equality dropped), or undefined when one is not hashable. */
export function makeSet(ev: Runtime, items: readonly PyValue[], mod: ModuleState, at: {line: number; col: number}, frozen = false): PyValue | undefined {
  const map = new Map<string, PyValue>()
  for (const x of items) {
    if (x.t === 'opaque') return x
    if (!isHashable(x)) throw ev.failure(mod, at, `TypeError: unhashable type: '${pyTypeName(x)}'`, 'put strings, numbers or tuples in a set')
    const k = keyOf(x, ev.budget)
    if (!map.has(k)) map.set(k, x)
  }
  ev.budget.items(map.size, 'the set', 0)
  return {t: 'set', map, ...(frozen ? {frozen} : {})}
}

/** `obj[lower:upper:step]` of a list, tuple or str, as CPython's slice indices. */
export function sliceValue(ev: Runtime, obj: PyValue, sl: Extract<Expr, {k: 'slice'}>, mod: ModuleState, env: Map<string, PyValue>, at: Expr): PyValue {
  const part = (x: Expr | undefined): PyValue => (x === undefined ? NONE : ev.eval(x, mod, env))
  const [lo, hi, st] = [part(sl.lower), part(sl.upper), part(sl.step)]
  for (const v of [obj, lo, hi, st]) if (v.t === 'opaque') return v
  if (obj.t === 'list' && obj.taint) return {t: 'opaque', u: obj.taint}
  const seq = obj.t === 'str' ? [...obj.v] : obj.t === 'list' || obj.t === 'tuple' ? obj.items : undefined
  if (seq === undefined) return ev.opaque(`slicing a ${typeName(obj)}`, 'slice lists, tuples and strings', {file: mod.file ?? '', line: at.line, col: at.col})
  const asInt = (v: PyValue): bigint | null | undefined => (v.t === 'none' ? null : v.t === 'int' ? v.v : v.t === 'bool' ? BigInt(v.v) : undefined)
  const [a, b, c] = [asInt(lo), asInt(hi), asInt(st)]
  if (a === undefined || b === undefined || c === undefined) throw ev.failure(mod, at, 'TypeError: slice indices must be integers or None or have an __index__ method', 'slice with integers')
  const step = c ?? 1n
  if (step === 0n) throw ev.failure(mod, at, 'ValueError: slice step cannot be zero', 'use a non-zero step')
  const n = BigInt(seq.length)
  const adjust = (v: bigint | null, dflt: bigint, lowB: bigint, highB: bigint): bigint => {
    if (v === null) return dflt
    let x = v < 0n ? v + n : v
    if (x < lowB) x = lowB
    if (x > highB) x = highB
    return x
  }
  const start = step > 0n ? adjust(a, 0n, 0n, n) : adjust(a, n - 1n, -1n, n - 1n)
  const stop = step > 0n ? adjust(b, n, 0n, n) : adjust(b, -1n, -1n, n - 1n)
  const out: PyValue[] = []
  const count = step > 0n ? (stop > start ? (stop - start + step - 1n) / step : 0n) : (start > stop ? (start - stop - step - 1n) / -step : 0n)
  ev.budget.items(count, 'the slice')
  for (let i = start; step > 0n ? i < stop : i > stop; i += step) out.push(obj.t === 'str' ? str(seq[Number(i)] as unknown as string) : (seq[Number(i)] as PyValue))
  if (obj.t === 'str') {
    ev.budget.chars(out.length, 'the slice')
    return str(out.map((x) => (x as {v: string}).v).join(''))
  }
  return obj.t === 'list' ? {t: 'list', items: out} : {t: 'tuple', items: out}
}
