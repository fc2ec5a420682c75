/**
 * CPython's semantics for the evaluator's values (./values.ts), as pure functions: equality, ordering, hashing
 * (dict keys), `str()`/`repr()`, number parsing and printing, JSON conversion. Every operation that walks a value
 * counts against the evaluation's budget (./budget.ts).
 */
import {Budget, BudgetExceeded} from './budget.js'
import type {PyValue, Site, Unknown} from './values.js'

export const NONE: PyValue = {t: 'none'}
export const TRUE: PyValue = {t: 'bool', v: true}
export const FALSE: PyValue = {t: 'bool', v: false}
export const str = (v: string): PyValue => ({t: 'str', v})
export const bool = (v: boolean): PyValue => (v ? TRUE : FALSE)
export const int = (v: bigint | number): PyValue => ({t: 'int', v: BigInt(v)})

export function firstOf<T, R>(xs: T[], f: (x: T) => R | undefined): R | undefined {
  for (const x of xs) {
    const r = f(x)
    if (r !== undefined) return r
  }
  return undefined
}

export function typeName(v: PyValue): string {
  switch (v.t) {
    case 'none':
      return 'None'
    case 'image':
      return 'Image'
    case 'ext':
      return v.name
    case 'opaque':
      return 'value bento cannot read'
    case 'instance':
      return v.args ? 'Bento arguments object' : v.cls.name
    case 'set':
      return v.frozen ? 'frozenset' : 'set'
    case 'exc':
      return v.type
    case 'func':
      return 'function'
    case 'class':
      return 'type'
    case 'svcdeco':
      return 'service decorator'
    default:
      return v.t
  }
}

/** Python's `type(v).__name__` for the values whose name Python messages show. */
export function pyTypeName(v: PyValue): string {
  return v.t === 'none' ? 'NoneType' : v.t === 'svcdeco' ? 'function' : v.t === 'image' ? 'Image' : typeName(v)
}

/** Python's hashability of a value bento can use as a dict key (a shared sub-tuple is looked at once). */
export function isHashable(v: PyValue, seen = new Set<PyValue>()): boolean {
  if (v.t !== 'tuple') return v.t === 'str' || v.t === 'int' || v.t === 'float' || v.t === 'bool' || v.t === 'none'
  if (seen.has(v)) return true
  seen.add(v)
  return v.items.every((x) => isHashable(x, seen))
}

/** Dict key identity as Python's (1 == 1.0 == True); hashing a tuple costs a step per item. */
export function keyOf(v: PyValue, budget: Budget, depth = 0): string {
  budget.charge()
  switch (v.t) {
    case 'str':
      return `s:${v.v}`
    case 'int':
      return `n:${v.v}`
    case 'float':
      return Number.isInteger(v.v) ? `n:${BigInt(v.v)}` : `n:${v.v}`
    case 'bool':
      return `n:${Number(v.v)}`
    case 'none':
      return 'none'
    case 'tuple': {
      budget.depth(depth + 1)
      const parts: string[] = []
      let n = 0
      for (const x of v.items) {
        const k = keyOf(x, budget, depth + 1)
        n += k.length
        budget.chars(n, 'the dict key')
        parts.push(k)
      }
      return `t:(${parts.join(',')})`
    }
    default:
      return `?:${v.t}`
  }
}

/**
 * Python's `==`: numbers by value (1 == 1.0 == True), containers item by item — where, as in CPython's
 * PyObject_RichCompareBool, an item identical to the other side's item is equal without being compared (so
 * `d == d` of shared sub-lists is immediate, and `[nan] == [nan]` is True when it is the same float). Every
 * comparison costs a step of the budget.
 */
export function pyEquals(a: PyValue, b: PyValue, budget: Budget, depth = 0): boolean | undefined {
  budget.charge()
  const num = numOf(a)
  const numB = numOf(b)
  if (num !== undefined && numB !== undefined) return compareNum(num, numB) === 0
  if (a.t === 'str' && b.t === 'str') {
    if (a.v.length === b.v.length) budget.charge(Math.ceil(a.v.length / 64))
    return a.v === b.v
  }
  if (a.t === 'none' || b.t === 'none') return a.t === b.t
  if ((a.t === 'list' && b.t === 'list') || (a.t === 'tuple' && b.t === 'tuple')) {
    if ((a.t === 'list' && a.taint) || (b.t === 'list' && b.taint)) return undefined
    if (a.items.length !== b.items.length) return false
    budget.depth(depth + 1)
    for (let i = 0; i < a.items.length; i++) {
      const x = a.items[i] as PyValue
      const y = b.items[i] as PyValue
      if (x === y) continue
      const e = pyEquals(x, y, budget, depth + 1)
      if (e !== true) return e
    }
    return true
  }
  if (a.t === 'dict' && b.t === 'dict') {
    if (a.taint || b.taint) return undefined
    if (a.map.size !== b.map.size) return false
    budget.depth(depth + 1)
    for (const [k, v] of a.map) {
      const o = b.map.get(k)
      if (!o) return false
      if (o.value === v.value) continue
      const e = pyEquals(v.value, o.value, budget, depth + 1)
      if (e !== true) return e
    }
    return true
  }
  if (a.t === 'set' && b.t === 'set') {
    if (a.taint || b.taint) return undefined
    if (a.map.size !== b.map.size) return false
    budget.charge(a.map.size)
    for (const k of a.map.keys()) if (!b.map.has(k)) return false
    return true
  }
  if (a.t === 'image' && b.t === 'image') return a.img === b.img
  if (a.t === 'instance' || b.t === 'instance' || a.t === 'class' || b.t === 'class' || a.t === 'func' || b.t === 'func') {
    // Identity (no __eq__ of user classes is run).
    return a === b ? true : a.t === 'instance' && b.t === 'instance' ? undefined : false
  }
  const known = ['str', 'int', 'float', 'bool', 'none', 'list', 'tuple', 'dict', 'set']
  if (known.includes(a.t) && known.includes(b.t)) return false
  return undefined
}

export function numOf(x: PyValue): bigint | number | undefined {
  return x.t === 'int' ? x.v : x.t === 'bool' ? BigInt(x.v) : x.t === 'float' ? x.v : undefined
}

/** Compare an int (bigint) or float with another, exactly as Python does (an int beyond 2**53 against a float too). */
export function compareNum(a: bigint | number, b: bigint | number): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : Number.NaN
  const [x, y, flip] = typeof a === 'bigint' ? [a, b as number, 1] : [b as bigint, a as number, -1]
  if (Number.isNaN(y)) return Number.NaN
  if (!Number.isFinite(y)) return y > 0 ? -flip : flip
  const fl = BigInt(Math.floor(y))
  const r = x < fl ? -1 : x > fl ? 1 : Number.isInteger(y) ? 0 : -1
  return r * flip
}

/** Python's ordering of two values (`<` and friends, sorted, min, max): numbers, strings, lists and tuples. */
export function orderOf(a: PyValue, b: PyValue, budget?: Budget, depth = 0): number | undefined {
  budget?.charge()
  const x = numOf(a)
  const y = numOf(b)
  if (x !== undefined && y !== undefined) {
    const c = compareNum(x, y)
    return Number.isNaN(c) ? Number.NaN : c
  }
  if (a.t === 'str' && b.t === 'str') {
    budget?.charge(Math.ceil(Math.min(a.v.length, b.v.length) / 64))
    // Python compares code points; JS strings compare UTF-16 units (the same but for astral vs U+E000–U+FFFF).
    return a.v < b.v ? -1 : a.v > b.v ? 1 : 0
  }
  if ((a.t === 'list' && b.t === 'list' && !a.taint && !b.taint) || (a.t === 'tuple' && b.t === 'tuple')) {
    budget?.depth(depth + 1)
    const n = Math.min(a.items.length, b.items.length)
    for (let i = 0; i < n; i++) {
      const p = a.items[i] as PyValue
      const q = b.items[i] as PyValue
      if (p === q) continue
      const e = budget ? pyEquals(p, q, budget, depth + 1) : undefined
      if (e === true) continue
      if (e === undefined) return undefined
      return orderOf(p, q, budget, depth + 1)
    }
    return a.items.length - b.items.length
  }
  return undefined
}

export function parseNumber(text: string): PyValue | undefined {
  const t = text.replace(/_/g, '')
  if (/^(\d+|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)$/.test(t)) {
    if (/^0\d*[1-9]/.test(t)) return undefined // `010` is a syntax error in Python 3
    return int(BigInt(t))
  }
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return {t: 'float', v: Number(t)}
  return undefined
}

/** `int(text, base)` as Python parses it (base 0: from the prefix), or undefined when Python raises ValueError. */
export function parseIntBase(text: string, base: number): bigint | undefined {
  let s = text.trim()
  let neg = false
  if (s.startsWith('+') || s.startsWith('-')) {
    neg = s.startsWith('-')
    s = s.slice(1)
  }
  const prefix = /^0([xXoObB])/.exec(s)?.[1]?.toLowerCase()
  const prefixBase = prefix === 'x' ? 16 : prefix === 'o' ? 8 : prefix === 'b' ? 2 : undefined
  if (prefixBase !== undefined && (base === 0 || base === prefixBase)) {
    base = prefixBase
    s = s.slice(2)
    if (s.startsWith('_')) s = s.slice(1)
  } else if (base === 0) {
    if (/^0+(_?0)*$/.test(s)) return 0n
    if (s.startsWith('0')) return undefined
    base = 10
  }
  if (s === '' || s.startsWith('_') || s.endsWith('_') || s.includes('__')) return undefined
  let out = 0n
  const b = BigInt(base)
  for (const ch of s.replace(/_/g, '')) {
    const d = /\d/u.test(ch) && ch.normalize('NFKC') >= '0' && ch.normalize('NFKC') <= '9' ? Number(ch.normalize('NFKC')) : /[a-z]/i.test(ch) ? ch.toLowerCase().charCodeAt(0) - 87 : 99
    if (d >= base) return undefined
    out = out * b + BigInt(d)
  }
  return neg ? -out : out
}

/** `float(text)` as Python parses it (`inf`, `nan`, underscores between digits), or undefined. */
export function parseFloatText(text: string): number | undefined {
  const s = text.trim().toLowerCase()
  const m = /^([+-]?)(inf|infinity|nan)$/.exec(s)
  if (m) return m[2] === 'nan' ? Number.NaN : m[1] === '-' ? -Infinity : Infinity
  if (!/^[+-]?(\d(_?\d)*\.?(\d(_?\d)*)?|\.\d(_?\d)*)(e[+-]?\d(_?\d)*)?$/.test(s)) return undefined
  return Number(s.replace(/_/g, ''))
}

/**
 * Python's `repr(float)`: the shortest digits that round-trip (JS finds the same ones), written as CPython's
 * `float_repr_style = 'short'` does: positional when the decimal exponent is in [-4, 16), else `d.ddde+XX`.
 */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan'
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf'
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0'
  const [mant, expText] = Math.abs(v).toExponential().split('e') as [string, string]
  const digits = mant.replace('.', '')
  const exp = Number(expText)
  const sign = v < 0 ? '-' : ''
  if (exp < -4 || exp >= 16) {
    const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0')
  const frac = digits.slice(exp + 1)
  return `${sign}${intPart}.${frac === '' ? '0' : frac}`
}

/** Python's `repr(str)`. */
export function pyRepr(v: PyValue): string {
  if (v.t !== 'str') return String((v as {v?: unknown}).v)
  const s = v.v
  const q = s.includes("'") && !s.includes('"') ? '"' : "'"
  const special = q === "'" ? /[\\'\x00-\x1f\x7f]/g : /[\\"\x00-\x1f\x7f]/g
  const out = s.replace(special, (ch) => {
    if (ch === '\\') return '\\\\'
    if (ch === q) return `\\${q}`
    if (ch === '\n') return '\\n'
    if (ch === '\r') return '\\r'
    if (ch === '\t') return '\\t'
    return `\\x${(ch.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`
  })
  return `${q}${out}${q}`
}

export function pyStrip(s: string, how: string, chars?: string): string {
  const set = chars === undefined ? undefined : new Set([...chars])
  const strip = (c: string): boolean => (set === undefined ? /\s/.test(c) : set.has(c))
  const cs = [...s]
  let a = 0
  let b = cs.length
  if (how !== 'rstrip') while (a < b && strip(cs[a] as string)) a++
  if (how !== 'lstrip') while (b > a && strip(cs[b - 1] as string)) b--
  return cs.slice(a, b).join('')
}

/** A JSON-like value (Bento arguments from YAML/TOML/--arg) as a Python value. */
export function fromJson(v: unknown): PyValue {
  if (v === null || v === undefined) return NONE
  if (typeof v === 'boolean') return bool(v)
  if (typeof v === 'number') return Number.isInteger(v) ? int(v) : {t: 'float', v}
  if (typeof v === 'bigint') return int(v)
  if (typeof v === 'string') return str(v)
  if (v instanceof Date) return str(v.toISOString())
  if (Array.isArray(v)) return {t: 'list', items: v.map(fromJson)}
  if (typeof v === 'object') {
    const map = new Map<string, {key: PyValue; value: PyValue}>()
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) map.set(`s:${k}`, {key: str(k), value: fromJson(x)})
    return {t: 'dict', map}
  }
  return NONE
}

/** A known value as JSON (what BentoML writes to bento.yaml), or the Unknown that stops it. */
export function toJson(v: PyValue, site: Site): {value: unknown} | {unknown: Unknown} {
  const budget = new Budget()
  let nodes = 0
  const walk = (x: PyValue, depth: number): {value: unknown} | {unknown: Unknown} => {
    budget.charge()
    budget.depth(depth)
    if (++nodes > budget.limits.items) budget.items(nodes, 'the value')
    switch (x.t) {
      case 'none':
        return {value: null}
      case 'int':
        if (x.v > BigInt(Number.MAX_SAFE_INTEGER) || x.v < BigInt(Number.MIN_SAFE_INTEGER)) {
          return {unknown: {why: `the integer ${x.v.toString().length > 30 ? `${x.v.toString().slice(0, 20)}… (${x.v.toString().length} digits)` : x.v} (beyond 2**53, which bento does not write into bento.yaml)`, hint: 'write it as a string', site}}
        }
        return {value: Number(x.v)}
      case 'bool':
      case 'float':
      case 'str':
        return {value: x.v}
      case 'list':
      case 'tuple': {
        if (x.t === 'list' && x.taint) return {unknown: x.taint}
        const out: unknown[] = []
        for (const y of x.items) {
          const r = walk(y, depth + 1)
          if ('unknown' in r) return r
          out.push(r.value)
        }
        return {value: out}
      }
      case 'dict': {
        if (x.taint) return {unknown: x.taint}
        const out: Record<string, unknown> = {}
        for (const {key, value} of x.map.values()) {
          if (key.t !== 'str') return {unknown: {why: `a dict key that is a ${typeName(key)}`, hint: 'use string keys', site}}
          const r = walk(value, depth + 1)
          if ('unknown' in r) return r
          out[key.v] = r.value
        }
        return {value: out}
      }
      case 'opaque':
        return {unknown: x.u}
      default:
        return {unknown: {why: `a ${typeName(x)}`, hint: 'use strings, numbers, lists and dicts', site}}
    }
  }
  try {
    return walk(v, 0)
  } catch (e) {
    if (e instanceof BudgetExceeded) return {unknown: {why: e.message, hint: 'write the value as a literal', site}}
    throw e
  }
}

/**
 * Python's `str(v)` for known values; undefined for values bento cannot print. Printing counts against `budget`
 * (a fresh one when not given): a value too large to print is a BudgetExceeded, as CPython's own limit on
 * int-to-str conversion (4300 digits) is a ValueError.
 */
export function pyStr(v: PyValue, budget: Budget = new Budget()): string | undefined {
  switch (v.t) {
    case 'str':
      return v.v
    case 'int': {
      const s = v.v.toString()
      const digits = s.length - (v.v < 0n ? 1 : 0)
      if (digits > 4300) throw new BudgetExceeded('size', `Exceeds the limit (4300 digits) for integer string conversion: value has ${digits} digits (CPython: ValueError)`)
      return s
    }
    case 'float':
      return pyFloat(v.v)
    case 'bool':
      return v.v ? 'True' : 'False'
    case 'none':
      return 'None'
    case 'list':
    case 'tuple':
    case 'dict':
    case 'set':
      return pyReprValue(v, budget)
    case 'exc': {
      if (v.text !== undefined) return v.text
      if (v.args.length === 0) return ''
      // KeyError prints its key as repr.
      if (v.args.length === 1 && v.chain.includes('KeyError')) return pyReprValue(v.args[0] as PyValue, budget)
      if (v.args.length === 1) return pyStr(v.args[0] as PyValue, budget)
      return pyReprValue({t: 'tuple', items: v.args}, budget)
    }
    default:
      return undefined
  }
}

/** Python's `repr(v)` for known values (its size and steps counted against `budget`). */
export function pyReprValue(v: PyValue, budget: Budget = new Budget()): string | undefined {
  // Characters of the strings printed so far: the text is at least that long (checked before each is escaped).
  let leaves = 0
  const walk = (x: PyValue, depth: number): string | undefined => {
    budget.charge()
    let s: string | undefined
    if (x.t === 'str') {
      leaves += x.v.length + 2
      budget.chars(leaves, 'the printed value')
      s = pyRepr(x)
    }
    else if ((x.t === 'list' || x.t === 'dict' || x.t === 'set') && x.taint) return undefined
    else if (x.t === 'set') {
      budget.depth(depth + 1)
      const parts: string[] = []
      for (const y of x.map.values()) {
        const p = walk(y, depth + 1)
        if (p === undefined) return undefined
        parts.push(p)
      }
      s = parts.length === 0 ? `${x.frozen ? 'frozenset' : 'set'}()` : x.frozen ? `frozenset({${parts.join(', ')}})` : `{${parts.join(', ')}}`
    }
    else if (x.t === 'list' || x.t === 'tuple') {
      budget.depth(depth + 1)
      const parts: string[] = []
      for (const y of x.items) {
        const p = walk(y, depth + 1)
        if (p === undefined) return undefined
        parts.push(p)
      }
      s = x.t === 'tuple' ? (parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`) : `[${parts.join(', ')}]`
    } else if (x.t === 'dict') {
      budget.depth(depth + 1)
      const parts: string[] = []
      for (const e of x.map.values()) {
        const k = walk(e.key, depth + 1)
        const val = k === undefined ? undefined : walk(e.value, depth + 1)
        if (k === undefined || val === undefined) return undefined
        parts.push(`${k}: ${val}`)
      }
      s = `{${parts.join(', ')}}`
    } else s = pyStr(x, budget)
    if (s !== undefined) {
      // Every piece is copied into its container's text: count what is built.
      budget.chars(s.length, 'the printed value')
    }
    return s
  }
  return walk(v, 0)
}
