/**
 * Python's built-in functions the interpreter runs (`len`, `range`, `sorted`, `isinstance`, the type constructors…),
 * within the evaluation's budget.
 */
import type {CallCtx, Interp} from './context.js'
import {toFixedPy} from './format.js'
import {formatField} from './methods.js'
import {mro} from './pydantic.js'
import {bool, FALSE, int, isHashable, keyOf, NONE, orderOf, parseFloatText, parseIntBase, pyFloat, pyRepr, pyTypeName, str, TRUE} from './pyops.js'
import type {PyValue} from './values.js'

/** Python's built-in exception types and the one each derives from. */
export const EXCEPTION_BASES: Readonly<Record<string, string>> = {
  BaseException: '',
  Exception: 'BaseException',
  KeyboardInterrupt: 'BaseException',
  SystemExit: 'BaseException',
  ArithmeticError: 'Exception',
  ZeroDivisionError: 'ArithmeticError',
  OverflowError: 'ArithmeticError',
  AssertionError: 'Exception',
  AttributeError: 'Exception',
  ImportError: 'Exception',
  ModuleNotFoundError: 'ImportError',
  LookupError: 'Exception',
  IndexError: 'LookupError',
  KeyError: 'LookupError',
  NameError: 'Exception',
  UnboundLocalError: 'NameError',
  OSError: 'Exception',
  FileNotFoundError: 'OSError',
  PermissionError: 'OSError',
  RuntimeError: 'Exception',
  NotImplementedError: 'RuntimeError',
  RecursionError: 'RuntimeError',
  StopIteration: 'Exception',
  TypeError: 'Exception',
  ValueError: 'Exception',
  UnicodeError: 'ValueError',
  JSONDecodeError: 'ValueError',
  ValidationError: 'ValueError',
  Warning: 'Exception',
  UserWarning: 'Warning',
  DeprecationWarning: 'Warning',
}

/** An exception type and the types it derives from, itself first. */
export function excChain(type: string): string[] {
  const out: string[] = []
  for (let t: string | undefined = type; t; t = EXCEPTION_BASES[t]) out.push(t)
  if (!(type in EXCEPTION_BASES)) out.push('Exception', 'BaseException')
  return out
}

/** Names Python resolves without an import. */
const BUILTINS = new Set([
  'len', 'str', 'int', 'float', 'bool', 'list', 'tuple', 'dict', 'set', 'frozenset', 'sorted', 'range', 'min', 'max',
  'any', 'all', 'sum', 'enumerate', 'zip', 'map', 'filter', 'print', 'isinstance', 'issubclass', 'open', 'repr',
  'reversed', 'getattr', 'hasattr', 'setattr', 'type', 'abs', 'round', 'divmod', 'pow', 'ord', 'chr', 'callable',
  'object', 'super', 'property', 'classmethod', 'staticmethod', 'iter', 'next', 'hash', 'id', 'input', 'vars',
  'globals', 'locals', 'format', 'ascii', 'bin', 'oct', 'hex', 'NotImplemented',
])

export function isBuiltinName(id: string): boolean {
  return BUILTINS.has(id) || id in EXCEPTION_BASES
}

/** The builtin type names of values (`isinstance`, `type`). */
function typeNamesOf(v: PyValue): string[] {
  switch (v.t) {
    case 'bool':
      return ['bool', 'int', 'object']
    case 'int':
    case 'float':
    case 'str':
    case 'list':
    case 'tuple':
    case 'dict':
      return [v.t, 'object']
    case 'set':
      return [v.frozen ? 'frozenset' : 'set', 'object']
    case 'none':
      return ['NoneType', 'object']
    case 'exc':
      return [...v.chain, 'object']
    case 'instance':
      return [...mro(v.cls).map((k) => k.name), 'object']
    default:
      return ['object']
  }
}

/** `isinstance(v, t)`; undefined when bento cannot tell (a type from a package, a value it cannot read). */
function isInstance(v: PyValue, t: PyValue): boolean | undefined {
  if (t.t === 'tuple') {
    let unknown = false
    for (const x of t.items) {
      const r = isInstance(v, x)
      if (r) return true
      if (r === undefined) unknown = true
    }
    return unknown ? undefined : false
  }
  if (v.t === 'opaque') return undefined
  if (t.t === 'builtin') return typeNamesOf(v).includes(t.name)
  if (t.t === 'class') return v.t === 'instance' ? mro(v.cls).includes(t.cls) : v.t === 'exc' ? v.chain.includes(t.cls.name) : false
  if (t.t === 'ext') {
    // A type of a package: no builtin value is one of its instances (a subclass of it may be).
    if (['str', 'int', 'float', 'bool', 'list', 'tuple', 'dict', 'set', 'none'].includes(v.t)) {
      return ['typing.Any'].includes(t.name) ? undefined : t.name.startsWith('typing.') || t.name.startsWith('collections.abc.') ? undefined : false
    }
    if (v.t === 'instance') return mro(v.cls).some((k) => k.bases.some((b) => b.t === 'ext' && b.name === t.name)) || undefined
  }
  return undefined
}

/** Sort `items` by Python's `<` (of `keys` when given), stably; a TypeError when two are not ordered. */
function pySort(ev: Interp, items: PyValue[], keys: PyValue[], reverse: boolean, c: CallCtx): PyValue[] {
  ev.budget.items(items.length, 'the sorted list')
  ev.budget.charge(Math.ceil(items.length * Math.log2(items.length + 1)))
  const idx = items.map((_, i) => i)
  let bad: [PyValue, PyValue] | undefined
  idx.sort((i, j) => {
    const a = keys[i] as PyValue
    const b = keys[j] as PyValue
    const o = orderOf(a, b, ev.budget)
    if (o === undefined || Number.isNaN(o)) {
      if (o === undefined) bad ??= [a, b]
      return 0
    }
    return reverse ? -o : o
  })
  if (bad) throw ev.failure(c.mod, c.e, `TypeError: '<' not supported between instances of '${pyTypeName(bad[0])}' and '${pyTypeName(bad[1])}'`, 'sort values of one type')
  return idx.map((i) => items[i] as PyValue)
}

/** `key(x)` for every item (a user function, a builtin, a lambda). */
function keysOf(ev: Interp, items: PyValue[], key: PyValue | undefined, c: CallCtx): PyValue[] {
  if (key === undefined || key.t === 'none') return items
  return items.map((x) => ev.invoke(key, [x], new Map(), c))
}

export function callBuiltin(ev: Interp, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const {site} = c
  const a = pos[0]
  if (name in EXCEPTION_BASES) return {t: 'exc', type: name, chain: excChain(name), args: pos}
  if (name === 'isinstance' || name === 'issubclass') {
    if (pos.length !== 2) throw ev.failure(c.mod, c.e, `TypeError: ${name} expected 2 arguments, got ${pos.length}`, `call ${name}(value, type)`)
    const [v, t] = pos as [PyValue, PyValue]
    const r = name === 'isinstance' ? isInstance(v, t) : v.t === 'class' && t.t === 'class' ? mro(v.cls).includes(t.cls) : undefined
    return r === undefined ? ev.opaque(`${name}(${pyTypeName(v)}, ${pyTypeName(t)}) (a type bento cannot check)`, 'compare with builtin types or classes of the project', site) : bool(r)
  }
  const unknown = [...pos, ...kw.values()].find((p) => p.t === 'opaque')
  if (unknown?.t === 'opaque') return unknown
  switch (name) {
    case 'object.__init__':
    case 'object':
      return NONE
    case 'type':
      if (pos.length === 1 && a) {
        if (a.t === 'instance') return {t: 'class', cls: a.cls}
        const n = typeNamesOf(a)[0] as string
        return n === 'object' ? ev.opaque(`type() of a ${pyTypeName(a)}`, 'use isinstance', site) : {t: 'builtin', name: n}
      }
      break
    case 'callable':
      if (a) return bool(['func', 'method', 'builtin', 'class', 'bound', 'ext'].includes(a.t))
      break
    case 'set':
    case 'frozenset': {
      if (a === undefined) return {t: 'set', map: new Map(), ...(name === 'frozenset' ? {frozen: true} : {})}
      const it = ev.iterate(a)
      if (it === undefined) return {t: 'opaque', u: ev.unknownOf(a, site)}
      const map = new Map<string, PyValue>()
      for (const x of it) {
        if (!isHashable(x)) throw ev.failure(c.mod, c.e, `TypeError: unhashable type: '${pyTypeName(x)}'`, 'put strings, numbers or tuples in a set')
        const k = keyOf(x, ev.budget)
        if (!map.has(k)) map.set(k, x)
      }
      return {t: 'set', map, ...(name === 'frozenset' ? {frozen: true} : {})}
    }
    case 'sum': {
      const it = a ? ev.iterate(a) : undefined
      if (it === undefined) break
      let acc: PyValue = pos[1] ?? kw.get('start') ?? int(0)
      if (acc.t === 'str') throw ev.failure(c.mod, c.e, "TypeError: sum() can't sum strings [use ''.join(seq) instead]", "use ''.join(seq)")
      for (const x of it) acc = ev.binop('+', acc, x, c.e, c.mod)
      return acc
    }
    case 'map': {
      const f = a
      const its = pos.slice(1).map((p) => ev.iterate(p))
      if (f === undefined || its.length === 0 || its.some((x) => x === undefined)) break
      const n = Math.min(...its.map((x) => (x as PyValue[]).length))
      ev.budget.items(n, 'the result of map()')
      return {t: 'list', items: Array.from({length: n}, (_, i) => ev.invoke(f, its.map((x) => (x as PyValue[])[i] as PyValue), new Map(), c))}
    }
    case 'filter': {
      const it = pos[1] ? ev.iterate(pos[1]) : undefined
      if (a === undefined || it === undefined) break
      const out: PyValue[] = []
      for (const x of it) {
        const t = ev.truth(a.t === 'none' ? x : ev.invoke(a, [x], new Map(), c))
        if (t === undefined) return ev.opaque('filter() over values bento cannot test', 'use literals', site)
        if (t) out.push(x)
      }
      return {t: 'list', items: out}
    }
    case 'round': {
      const nd = pos[1] ?? kw.get('ndigits')
      if (a?.t === 'int' || a?.t === 'bool') return int(BigInt(a.v))
      if (a?.t === 'float' && (nd === undefined || nd.t === 'none')) {
        // Banker's rounding, as CPython's round().
        const f = Math.floor(a.v)
        const d = a.v - f
        return int(BigInt(d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f))
      }
      if (a?.t === 'float' && nd?.t === 'int' && nd.v >= 0n && nd.v < 300n && Number.isFinite(a.v)) return {t: 'float', v: (a.v < 0 ? -1 : 1) * Number(toFixedPy(Math.abs(a.v), Number(nd.v)))}
      break
    }
    case 'divmod':
      if (pos.length === 2) return {t: 'tuple', items: [ev.binop('//', pos[0] as PyValue, pos[1] as PyValue, c.e, c.mod), ev.binop('%', pos[0] as PyValue, pos[1] as PyValue, c.e, c.mod)]}
      break
    case 'pow':
      if (pos.length === 2) return ev.binop('**', pos[0] as PyValue, pos[1] as PyValue, c.e, c.mod)
      break
    case 'ord':
      if (a?.t === 'str' && [...a.v].length === 1) return int(a.v.codePointAt(0) ?? 0)
      break
    case 'chr':
      if (a?.t === 'int' && a.v >= 0n && a.v <= 0x10ffffn) return str(String.fromCodePoint(Number(a.v)))
      break
    case 'bin':
    case 'oct':
    case 'hex':
      if (a?.t === 'int' || a?.t === 'bool') {
        const v = BigInt(a.v)
        const abs = v < 0n ? -v : v
        return str(`${v < 0n ? '-' : ''}0${name === 'hex' ? 'x' : name[0]}${abs.toString(name === 'bin' ? 2 : name === 'oct' ? 8 : 16)}`)
      }
      break
    case 'getattr':
    case 'hasattr': {
      const [o, n] = pos
      if (o === undefined || n?.t !== 'str') break
      try {
        const v = ev.getAttr(o, n.v, c.mod, c.e)
        if (name === 'hasattr') return v.t === 'opaque' ? v : TRUE
        return v
      } catch (e) {
        if (name === 'hasattr' || pos[2] !== undefined) {
          if (e instanceof Error && /AttributeError|has no (attribute|field)/.test(e.message)) return name === 'hasattr' ? FALSE : (pos[2] as PyValue)
        }
        throw e
      }
    }
    case 'print':
      return NONE
    case 'len': {
      if (a?.t === 'set' && !a.taint) return int(a.map.size)
      if (a?.t === 'str') return int([...a.v].length)
      if ((a?.t === 'list' && !a.taint) || a?.t === 'tuple') return int(a.items.length)
      if (a?.t === 'dict' && !a.taint) return int(a.map.size)
      break
    }
    case 'str':
    case 'repr': {
      if (a === undefined) return str('')
      const s = name === 'str' ? ev.toStr(a) : ev.toRepr(a)
      if (s !== undefined) return str(s)
      break
    }
    case 'int': {
      const base = pos[1] ?? kw.get('base')
      if (base !== undefined) {
        if (a?.t !== 'str' || (base.t !== 'int' && base.t !== 'bool')) break
        const b = BigInt(base.v)
        if (b !== 0n && (b < 2n || b > 36n)) throw ev.failure(c.mod, c.e, 'ValueError: int() base must be >= 2 and <= 36, or 0', 'use a base from 2 to 36')
        const r = parseIntBase(a.v, Number(b))
        if (r === undefined) throw ev.failure(c.mod, c.e, `ValueError: invalid literal for int() with base ${b}: ${pyRepr(a)}`, 'pass digits of that base')
        return int(r)
      }
      if (a?.t === 'int' || a?.t === 'bool') return int(BigInt(a.v))
      if (a?.t === 'float') {
        if (!Number.isFinite(a.v)) throw ev.failure(c.mod, c.e, `OverflowError: cannot convert float ${pyFloat(a.v)} to integer`, 'pass a finite number')
        return int(BigInt(Math.trunc(a.v)))
      }
      if (a?.t === 'str') {
        ev.budget.chars(a.v.length, 'the text given to int()')
        const r = parseIntBase(a.v, 10)
        if (r === undefined) throw ev.failure(c.mod, c.e, `ValueError: invalid literal for int() with base 10: ${pyRepr(a)}`, 'pass digits')
        return int(r)
      }
      break
    }
    case 'float':
      if (a?.t === 'int' || a?.t === 'bool') return {t: 'float', v: Number(a.v)}
      if (a?.t === 'float') return a
      if (a?.t === 'str') {
        const f = parseFloatText(a.v)
        if (f !== undefined) return {t: 'float', v: f}
        throw ev.failure(c.mod, c.e, `ValueError: could not convert string to float: ${pyRepr(a)}`, 'pass a number')
      }
      break
    case 'bool': {
      if (a === undefined) return FALSE
      const b = ev.truth(a)
      if (b !== undefined) return bool(b)
      break
    }
    case 'list':
    case 'tuple': {
      if (a === undefined) return name === 'list' ? {t: 'list', items: []} : {t: 'tuple', items: []}
      const it = ev.iterate(a)
      if (it !== undefined) {
        ev.budget.items(it.length, `the ${name}`)
        return name === 'list' ? {t: 'list', items: [...it]} : {t: 'tuple', items: [...it]}
      }
      return {t: 'opaque', u: ev.unknownOf(a, site)}
    }
    case 'dict': {
      const map = new Map<string, {key: PyValue; value: PyValue}>()
      if (a?.t === 'dict') {
        ev.budget.items(a.map.size, 'the dict')
        for (const [k, v] of a.map) map.set(k, v)
      } else if (a !== undefined) {
        const it = ev.iterate(a)
        if (it === undefined) return {t: 'opaque', u: ev.unknownOf(a, site)}
        ev.budget.items(it.length, 'the dict')
        for (const pair of it) {
          const kv = ev.iterate(pair)
          if (kv?.length !== 2) throw ev.failure(c.mod, c.e, 'ValueError: dictionary update sequence element has wrong length', 'pass (key, value) pairs')
          const k = kv[0] as PyValue
          if (!isHashable(k)) throw ev.failure(c.mod, c.e, `TypeError: unhashable type: '${pyTypeName(k)}'`, 'use strings, numbers or tuples as keys')
          map.set(keyOf(k, ev.budget), {key: k, value: kv[1] as PyValue})
        }
      }
      for (const [k, v] of kw) map.set(keyOf(str(k), ev.budget), {key: str(k), value: v})
      return {t: 'dict', map}
    }
    case 'sorted': {
      const it = a ? ev.iterate(a) : undefined
      if (it === undefined) break
      const rev = kw.get('reverse')
      const items = [...it]
      return {t: 'list', items: pySort(ev, items, keysOf(ev, items, kw.get('key'), c), rev !== undefined && ev.truth(rev) === true, c)}
    }
    case 'reversed': {
      const it = a ? ev.iterate(a) : undefined
      if (it) {
        ev.budget.items(it.length, 'the reversed list')
        return {t: 'list', items: [...it].reverse()}
      }
      break
    }
    case 'range': {
      const ns = pos.map((p) => (p.t === 'int' ? p.v : p.t === 'bool' ? BigInt(p.v) : undefined))
      if (kw.size === 0 && ns.length >= 1 && ns.length <= 3 && ns.every((x) => x !== undefined)) {
        const [start, stop, step] = ns.length === 1 ? [0n, ns[0] as bigint, 1n] : [ns[0] as bigint, ns[1] as bigint, ns[2] ?? 1n]
        if (step === 0n) throw ev.failure(c.mod, c.e, 'ValueError: range() arg 3 must not be zero', 'use a non-zero step')
        const span = step > 0n ? stop - start : start - stop
        const abs = step > 0n ? step : -step
        const n = span <= 0n ? 0n : (span + abs - 1n) / abs
        ev.budget.items(n, 'the range')
        const items: PyValue[] = []
        for (let i = 0n; i < n; i++) items.push(int(start + i * step))
        return {t: 'list', items}
      }
      break
    }
    case 'enumerate': {
      const it = a ? ev.iterate(a) : undefined
      const s0 = pos[1] ?? kw.get('start') ?? int(0)
      if (it && (s0.t === 'int' || s0.t === 'bool') && pos.length <= 2) {
        const start = BigInt(s0.v)
        ev.budget.items(it.length, 'the enumeration')
        return {t: 'list', items: it.map((x, i) => ({t: 'tuple', items: [int(start + BigInt(i)), x]}) as PyValue)}
      }
      break
    }
    case 'zip': {
      if (pos.length === 0) return {t: 'list', items: []}
      const its = pos.map((p) => ev.iterate(p))
      if (kw.size === 0 && its.every((x) => x !== undefined)) {
        let n = Infinity
        for (const x of its) n = Math.min(n, (x as PyValue[]).length)
        ev.budget.items(n * its.length, 'the result of zip()')
        return {t: 'list', items: Array.from({length: n}, (_, i) => ({t: 'tuple', items: its.map((x) => (x as PyValue[])[i] as PyValue)}) as PyValue)}
      }
      break
    }
    case 'any':
    case 'all': {
      const it = a ? ev.iterate(a) : undefined
      if (it) {
        ev.budget.charge(it.length)
        // As Python: the first true (any) / false (all) item decides; an unknown one before it leaves it unknown.
        for (const x of it) {
          const b = ev.truth(x)
          if (b === undefined) return {t: 'opaque', u: ev.unknownOf(x, site)}
          if (name === 'any' ? b : !b) return bool(name === 'any')
        }
        return bool(name === 'all')
      }
      break
    }
    case 'min':
    case 'max': {
      const it = pos.length === 1 && a ? ev.iterate(a) : pos
      if (it === undefined) break
      if (it.length === 0) {
        const d = kw.get('default')
        if (d !== undefined) return d
        throw ev.failure(c.mod, c.e, `ValueError: ${name}() iterable argument is empty`, 'pass default=')
      }
      const keys = keysOf(ev, it, kw.get('key'), c)
      ev.budget.charge(it.length)
      let best = 0
      for (let i = 1; i < it.length; i++) {
        const o = orderOf(keys[i] as PyValue, keys[best] as PyValue, ev.budget)
        if (o === undefined) throw ev.failure(c.mod, c.e, `TypeError: '<' not supported between instances of '${pyTypeName(keys[i] as PyValue)}' and '${pyTypeName(keys[best] as PyValue)}'`, 'compare values of one type')
        if (name === 'min' ? o < 0 : o > 0) best = i
      }
      return it[best] as PyValue
    }
    case 'abs':
      if (a?.t === 'int') return int(a.v < 0n ? -a.v : a.v)
      if (a?.t === 'bool') return int(BigInt(a.v))
      if (a?.t === 'float') return {t: 'float', v: Math.abs(a.v)}
      break
    case 'format':
      if (a !== undefined) {
        const spec = pos[1] ?? str('')
        if (spec.t !== 'str') break
        const t = formatField(ev, a, undefined, spec.v, c)
        return t === undefined ? ev.opaque(`format() of a ${pyTypeName(a)}`, 'format strings and numbers', site) : str(t)
      }
      break
    case 'open':
      return ev.opaque('the result of open(...) (file I/O)', 'write the value literally, or use bentofile.yaml (python.requirements_txt, …)', site)
    default:
      // `str.lower`, `dict.items`…: the method of the first argument.
      if (name.includes('.') && a !== undefined) return ev.callMethod(a, name.slice(name.indexOf('.') + 1), pos.slice(1), kw, c)
      break
  }
  return ev.opaque(`${name}(...) with these arguments`, 'use literals', site)
}
