/**
 * The methods of Python's built-in types the interpreter runs: `str`, `list`, `dict`, `set`, `tuple`, as CPython's.
 * A method or argument it does not know leaves an unknown value (and taints a list or dict it may have changed).
 */
import type {CallCtx, Interp} from './context.js'
import {FormatError, formatSpec, percent} from './format.js'
import {bool, int, isHashable, keyOf, NONE, pyEquals, pyStrip, pyTypeName, str} from './pyops.js'
import type {PyValue, Unknown} from './values.js'

/** A formatting error as the Python exception at the call. */
function formatting<T>(ev: Interp, c: CallCtx, f: () => T): T {
  try {
    return f()
  } catch (e) {
    if (e instanceof FormatError) throw ev.failure(c.mod, c.e, e.message, 'fix the format')
    throw e
  }
}

/** `fmt % args`. */
export function percentFormat(ev: Interp, fmt: string, args: PyValue, c: CallCtx): PyValue {
  const u = ev.unknownIn(args)
  if (u) return {t: 'opaque', u}
  const out = formatting(ev, c, () => percent(ev, fmt, args))
  return out === undefined ? ev.opaque('a %-format of values bento cannot print', 'use literals', c.site) : str(out)
}

/** One replacement field's value as `format()` prints it, after a `!r`/`!s`/`!a` conversion. */
export function formatField(ev: Interp, v: PyValue, conversion: string | undefined, spec: string, c: CallCtx): string | undefined {
  let x = v
  if (conversion === 'r' || conversion === 'a') {
    const r = ev.toRepr(v)
    if (r === undefined) return undefined
    x = str(r)
  } else if (conversion === 's') {
    const r = ev.toStr(v)
    if (r === undefined) return undefined
    x = str(r)
  } else if (conversion !== undefined) throw ev.failure(c.mod, c.e, `ValueError: Unknown conversion specifier ${conversion}`, 'use !r, !s or !a')
  return formatting(ev, c, () => formatSpec(ev, x, spec))
}

/** Code points of `s` (Python indexes strings by code point). */
function cps(s: string): string[] {
  return [...s]
}

function strArg(v: PyValue | undefined): string | undefined {
  return v?.t === 'str' ? v.v : undefined
}

/** `start`/`end` arguments of find/count/startswith… as code-point offsets. */
function range(n: number, a: PyValue | undefined, b: PyValue | undefined): [number, number] {
  const idx = (v: PyValue | undefined, d: number): number => {
    if (v === undefined || v.t === 'none') return d
    const i = v.t === 'int' || v.t === 'bool' ? Number(v.v) : d
    return i < 0 ? Math.max(0, n + i) : Math.min(n, i)
  }
  return [idx(a, 0), idx(b, n)]
}

const WS = /^[\s\u001c-\u001f\u0085]$/u

export function callStr(ev: Interp, s: string, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const strs = pos.map((p) => (p.t === 'str' ? p.v : undefined))
  const arg0 = strs[0]
  const bad = (): PyValue => ev.opaque(`str.${name}(...) with these arguments`, 'use literal strings', c.site)
  const unknown = [...pos, ...kw.values()].find((p) => p.t === 'opaque')
  if (unknown) return unknown
  ev.budget.charge(Math.ceil(s.length / 64))
  switch (name) {
    case 'lower':
    case 'casefold':
      return str(s.toLowerCase())
    case 'upper':
      return str(s.toUpperCase())
    case 'title':
      return str(s.replace(/[\p{L}\p{N}']+/gu, (w) => w[0]?.toUpperCase() + w.slice(1).toLowerCase()).replace(/(\p{L})'(\p{L})/gu, (m) => m.toString()))
    case 'capitalize':
      return str(s === '' ? '' : (cps(s)[0] as string).toUpperCase() + cps(s).slice(1).join('').toLowerCase())
    case 'swapcase':
      return str(cps(s).map((ch) => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase())).join(''))
    case 'isdigit':
    case 'isnumeric':
    case 'isdecimal':
      return bool(s !== '' && /^\p{Nd}+$/u.test(s))
    case 'isalpha':
      return bool(s !== '' && /^\p{L}+$/u.test(s))
    case 'isalnum':
      return bool(s !== '' && /^[\p{L}\p{Nd}]+$/u.test(s))
    case 'isspace':
      return bool(s !== '' && cps(s).every((ch) => WS.test(ch)))
    case 'islower':
      return bool(/\p{Ll}/u.test(s) && !/\p{Lu}|\p{Lt}/u.test(s))
    case 'isupper':
      return bool(/\p{Lu}/u.test(s) && !/\p{Ll}/u.test(s))
    case 'isidentifier':
      return bool(/^[\p{L}_][\p{L}\p{N}_]*$/u.test(s))
    case 'isascii':
      return bool(/^[\x00-\x7f]*$/.test(s))
    case 'zfill': {
      const w = pos[0]?.t === 'int' ? Number(pos[0].v) : undefined
      if (w === undefined) return bad()
      ev.budget.chars(w, 'the result of str.zfill()')
      const signed = s.startsWith('-') || s.startsWith('+')
      const n = Math.max(0, w - cps(s).length)
      return str(signed ? s[0] + '0'.repeat(n) + s.slice(1) : '0'.repeat(n) + s)
    }
    case 'center':
    case 'ljust':
    case 'rjust': {
      const w = pos[0]?.t === 'int' ? Number(pos[0].v) : undefined
      const fill = pos[1] === undefined ? ' ' : strArg(pos[1])
      if (w === undefined || fill === undefined || cps(fill).length !== 1) return bad()
      ev.budget.chars(w, `the result of str.${name}()`)
      const n = Math.max(0, w - cps(s).length)
      if (name === 'ljust') return str(s + fill.repeat(n))
      if (name === 'rjust') return str(fill.repeat(n) + s)
      // CPython: the extra character goes left when the string's length is odd and the padding too.
      const left = Math.floor(n / 2) + (n & w & 1)
      return str(fill.repeat(left) + s + fill.repeat(n - left))
    }
    case 'find':
    case 'rfind':
    case 'index':
    case 'rindex':
    case 'count': {
      if (arg0 === undefined) return bad()
      const chars = cps(s)
      const [a, b] = range(chars.length, pos[1], pos[2])
      const hay = chars.slice(a, b).join('')
      if (name === 'count') {
        if (a > b) return int(0)
        return int(arg0 === '' ? cps(hay).length + 1 : hay.split(arg0).length - 1)
      }
      const j = a > b ? -1 : name === 'find' || name === 'index' ? hay.indexOf(arg0) : hay.lastIndexOf(arg0)
      if (j === -1) {
        if (name === 'index' || name === 'rindex') throw ev.failure(c.mod, c.e, 'ValueError: substring not found', 'check the text')
        return int(-1)
      }
      return int(a + cps(hay.slice(0, j)).length)
    }
    case 'partition':
    case 'rpartition': {
      if (arg0 === undefined) return bad()
      if (arg0 === '') throw ev.failure(c.mod, c.e, 'ValueError: empty separator', 'pass a separator')
      const j = name === 'partition' ? s.indexOf(arg0) : s.lastIndexOf(arg0)
      if (j === -1) return {t: 'tuple', items: name === 'partition' ? [str(s), str(''), str('')] : [str(''), str(''), str(s)]}
      return {t: 'tuple', items: [str(s.slice(0, j)), str(arg0), str(s.slice(j + arg0.length))]}
    }
    case 'splitlines': {
      const keep = pos[0] ?? kw.get('keepends')
      const parts: string[] = []
      const re = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/gu
      let last = 0
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        parts.push(s.slice(last, keep && ev.truth(keep) ? m.index + m[0].length : m.index))
        last = m.index + m[0].length
      }
      if (last < s.length) parts.push(s.slice(last))
      ev.budget.items(parts.length, 'the result of str.splitlines()')
      return {t: 'list', items: parts.map(str)}
    }
    case 'expandtabs':
      return pos.length === 0 ? str(s.replace(/\t/g, '        ')) : bad()
    case 'encode':
      return ev.opaque('bytes (str.encode())', 'keep text as str', c.site)
    case 'format_map':
      return pos[0]?.t === 'dict' ? strFormat(ev, s, [], new Map([...pos[0].map.values()].flatMap((e) => (e.key.t === 'str' ? [[e.key.v, e.value] as [string, PyValue]] : []))), c) : bad()
    case 'strip':
    case 'lstrip':
    case 'rstrip': {
      const chars = pos.length === 0 || pos[0]?.t === 'none' ? undefined : arg0
      if (pos.length > 0 && chars === undefined && pos[0]?.t !== 'none') return bad()
      return str(pyStrip(s, name, chars))
    }
    case 'replace': {
      const count = pos[2] === undefined ? -1n : pos[2].t === 'int' ? pos[2].v : undefined
      if (pos.length > 3 || kw.size > 0 || arg0 === undefined || strs[1] === undefined || count === undefined) return bad()
      return str(replace(ev, s, arg0, strs[1], count))
    }
    case 'startswith':
    case 'endswith': {
      const opts = pos[0]?.t === 'tuple' ? pos[0].items.map(strArg) : [arg0]
      if (opts.length === 0 || opts.some((x) => x === undefined)) {
        if (pos[0] !== undefined && pos[0].t !== 'str' && pos[0].t !== 'tuple') throw ev.failure(c.mod, c.e, `TypeError: ${name} first arg must be str or a tuple of str, not ${pyTypeName(pos[0])}`, 'pass a string')
        return bad()
      }
      const chars = cps(s)
      const [a, b] = range(chars.length, pos[1], pos[2])
      const hay = chars.slice(a, b).join('')
      return bool(a <= b && opts.some((o) => (name === 'startswith' ? hay.startsWith(o as string) : hay.endsWith(o as string))))
    }
    case 'removeprefix':
      return arg0 === undefined ? bad() : str(s.startsWith(arg0) ? s.slice(arg0.length) : s)
    case 'removesuffix':
      return arg0 === undefined ? bad() : str(arg0 !== '' && s.endsWith(arg0) ? s.slice(0, -arg0.length) : s)
    case 'split':
    case 'rsplit': {
      const sepV = pos[0] ?? kw.get('sep') ?? NONE
      const maxV = pos[1] ?? kw.get('maxsplit') ?? int(-1)
      if (maxV.t !== 'int' || (sepV.t !== 'none' && sepV.t !== 'str')) return bad()
      if (sepV.t === 'str' && sepV.v === '') throw ev.failure(c.mod, c.e, 'ValueError: empty separator', 'pass a separator')
      const max = maxV.v < 0n ? Infinity : Number(maxV.v)
      const parts = splitStr(s, sepV.t === 'str' ? sepV.v : undefined, max, name === 'rsplit')
      ev.budget.items(parts.length, `the result of str.${name}()`)
      return {t: 'list', items: parts.map(str)}
    }
    case 'join': {
      const it = pos[0] ? ev.iterate(pos[0]) : undefined
      if (it === undefined || it.some((x) => x.t !== 'str')) return it === undefined && pos[0] ? {t: 'opaque', u: ev.unknownOf(pos[0], c.site)} : bad()
      let n = Math.max(0, it.length - 1) * s.length
      for (const x of it) n += (x as {v: string}).v.length
      ev.budget.chars(n, 'the result of str.join()')
      return str(it.map((x) => (x as {v: string}).v).join(s))
    }
    case 'format':
      return strFormat(ev, s, pos, kw, c)
    default:
      if (['encode', 'translate', 'maketrans'].includes(name)) return bad()
      throw ev.failure(c.mod, c.e, `AttributeError: 'str' object has no attribute '${name}'`, 'use a str method')
  }
}

export function strFormat(ev: Interp, s: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  let auto = 0
  let out = ''
  const re = /\{\{|\}\}|\{([^{}]*)\}/g
  let last = 0
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    out += s.slice(last, m.index)
    last = m.index + m[0].length
    if (m[0] === '{{' || m[0] === '}}') {
      out += m[0][0]
      continue
    }
    const fm = /^([^!:.[]*)((?:\.\w+|\[[^\]]*\])*)(?:!(\w))?(?::(.*))?$/su.exec(m[1] ?? '')
    if (fm === null) return ev.opaque(`the format field {${m[1] ?? ''}}`, 'use plain {} or {name} fields', c.site)
    const [, field = '', path = '', conversion, spec = ''] = fm
    const v0 = field === '' ? pos[auto++] : /^\d+$/.test(field) ? pos[Number(field)] : kw.get(field)
    if (v0 === undefined) {
      const what = field === '' || /^\d+$/.test(field) ? `IndexError: Replacement index ${field === '' ? auto - 1 : field} out of range for positional args tuple` : `KeyError: '${field}'`
      throw ev.failure(c.mod, c.e, what, 'pass a value for every field')
    }
    let v: PyValue = v0
    for (const step of path.match(/\.\w+|\[[^\]]*\]/g) ?? []) {
      if (step.startsWith('.')) v = ev.getAttr(v, step.slice(1), c.mod, c.e)
      else {
        const k = step.slice(1, -1)
        const key: PyValue = /^\d+$/.test(k) ? int(Number(k)) : str(k)
        const hit: PyValue | undefined = v.t === 'dict' ? v.map.get(keyOf(key, ev.budget))?.value : (v.t === 'list' || v.t === 'tuple') && key.t === 'int' ? v.items[Number(key.v)] : undefined
        if (hit === undefined) return ev.opaque(`the format field {${m[1] ?? ''}}`, 'use plain {} or {name} fields', c.site)
        v = hit
      }
    }
    if (v.t === 'opaque') return v
    const t = formatField(ev, v, conversion, spec, c)
    if (t === undefined) return {t: 'opaque', u: ev.unknownOf(v, c.site)}
    ev.budget.chars(out.length + t.length, 'the result of str.format()')
    out += t
  }
  return str(out + s.slice(last))
}

/** Python's `s.replace(old, new, count)` (count < 0: all), its size checked first. */
export function replace(ev: Interp, s: string, old: string, rep: string, count: bigint): string {
  if (old === '') {
    // Python inserts `rep` before every character and at the end (code points), `count` times at most.
    const chars = [...s]
    const n = count < 0n || count > BigInt(chars.length + 1) ? chars.length + 1 : Number(count)
    ev.budget.chars(s.length + n * rep.length, 'the result of str.replace()')
    let out = ''
    for (let i = 0; i < chars.length; i++) out += (i < n ? rep : '') + (chars[i] as string)
    return n > chars.length ? out + rep : out
  }
  const pieces = s.split(old)
  const n = count < 0n || count >= BigInt(pieces.length - 1) ? pieces.length - 1 : Number(count)
  ev.budget.chars(s.length + n * (rep.length - old.length), 'the result of str.replace()')
  return pieces.slice(0, n + 1).join(rep) + (n < pieces.length - 1 ? old + pieces.slice(n + 1).join(old) : '')
}

/** `str.split`/`rsplit` as CPython's (whitespace runs when `sep` is undefined), at most `max` splits. */
function splitStr(s: string, sep: string | undefined, max: number, fromRight: boolean): string[] {
  if (sep === undefined) {
    const words = s.split(/[\s\u001c-\u001f\u0085]+/u).filter((x) => x !== '')
    if (words.length - 1 <= max) return words
    if (!fromRight) {
      const out: string[] = []
      let rest = s.replace(/^[\s\u001c-\u001f\u0085]+/u, '')
      for (let i = 0; i < max; i++) {
        const m = /[\s\u001c-\u001f\u0085]+/u.exec(rest)
        if (!m) break
        out.push(rest.slice(0, m.index))
        rest = rest.slice(m.index + m[0].length)
      }
      out.push(rest)
      return out
    }
    const out: string[] = []
    let rest = s.replace(/[\s\u001c-\u001f\u0085]+$/u, '')
    for (let i = 0; i < max; i++) {
      const m = /[\s\u001c-\u001f\u0085]+(?=[^\s\u001c-\u001f\u0085]*$)/u.exec(rest)
      if (!m) break
      out.unshift(rest.slice(m.index + m[0].length))
      rest = rest.slice(0, m.index)
    }
    out.unshift(rest)
    return out
  }
  const all = s.split(sep)
  if (all.length - 1 <= max) return all
  if (!fromRight) return [...all.slice(0, max), all.slice(max).join(sep)]
  return [all.slice(0, all.length - max).join(sep), ...all.slice(all.length - max)]
}

/** The index of `x` in `items` by Python's `==` (identity first); -1 when absent, undefined when unknowable. */
function indexOf(ev: Interp, items: PyValue[], x: PyValue): number | undefined {
  for (let i = 0; i < items.length; i++) {
    const y = items[i] as PyValue
    const e = y === x ? true : pyEquals(x, y, ev.budget)
    if (e === undefined) return undefined
    if (e) return i
  }
  return -1
}

export function listMethod(ev: Interp, self: Extract<PyValue, {t: 'list'}>, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const {site} = c
  if (!self.taint) {
    switch (name) {
      case 'append':
        if (pos.length === 1 && pos[0]) {
          ev.budget.items(self.items.length + 1, 'the list', 1)
          self.items.push(pos[0])
          return NONE
        }
        break
      case 'extend': {
        const it = pos[0] ? ev.iterate(pos[0]) : undefined
        if (it === undefined) {
          self.taint ??= ev.unknownOf(pos[0] ?? NONE, site)
          return NONE
        }
        ev.extend(self.items, [...it], 'the list')
        return NONE
      }
      case 'insert':
        if (pos.length === 2 && pos[0]?.t === 'int' && pos[1]) {
          const n = self.items.length
          const at = pos[0].v < 0n ? BigInt(n) + pos[0].v : pos[0].v
          const i = at < 0n ? 0 : at > BigInt(n) ? n : Number(at)
          ev.budget.items(n + 1, 'the list', 1)
          self.items.splice(i, 0, pos[1])
          return NONE
        }
        break
      case 'copy':
        return {t: 'list', items: [...self.items]}
      case 'pop': {
        const i0 = pos[0] === undefined ? -1n : pos[0].t === 'int' ? pos[0].v : undefined
        if (i0 === undefined) break
        const n = self.items.length
        if (n === 0) throw ev.failure(c.mod, c.e, 'IndexError: pop from empty list', 'check the list')
        const i = Number(i0 < 0n ? BigInt(n) + i0 : i0)
        if (i < 0 || i >= n) throw ev.failure(c.mod, c.e, 'IndexError: pop index out of range', 'check the index')
        return self.items.splice(i, 1)[0] as PyValue
      }
      case 'remove':
      case 'index':
      case 'count': {
        const x = pos[0]
        if (x === undefined) break
        ev.budget.charge(self.items.length)
        if (name === 'count') {
          let n = 0
          for (const y of self.items) {
            const e = y === x ? true : pyEquals(x, y, ev.budget)
            if (e === undefined) return ev.opaque('list.count() of values bento cannot compare', 'use literals', site)
            if (e) n++
          }
          return int(n)
        }
        const i = indexOf(ev, self.items, x)
        if (i === undefined) break
        if (i === -1) throw ev.failure(c.mod, c.e, name === 'remove' ? 'ValueError: list.remove(x): x not in list' : `ValueError: ${ev.toRepr(x) ?? 'value'} is not in list`, 'check the list')
        if (name === 'index') return int(i)
        self.items.splice(i, 1)
        return NONE
      }
      case 'reverse':
        self.items.reverse()
        return NONE
      case 'clear':
        self.items.length = 0
        return NONE
      case 'sort': {
        const sorted = ev.invoke({t: 'builtin', name: 'sorted'}, [self], kw, c)
        if (sorted.t !== 'list') return sorted
        self.items.splice(0, self.items.length, ...sorted.items)
        return NONE
      }
      default:
        throw ev.failure(c.mod, c.e, `AttributeError: 'list' object has no attribute '${name}'`, 'use a list method')
    }
  }
  const u: Unknown = self.taint ?? {why: `list.${name}(...) with these arguments is not followed by bento`, hint: 'use append, extend, insert or +', site}
  self.taint ??= u
  return {t: 'opaque', u}
}

export function dictMethod(ev: Interp, self: Extract<PyValue, {t: 'dict'}>, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const {site} = c
  if (!self.taint) {
    switch (name) {
      case 'get': {
        const k = pos[0]
        if (k && isHashable(k)) return self.map.get(keyOf(k, ev.budget))?.value ?? pos[1] ?? NONE
        break
      }
      case 'update': {
        const src = pos[0]
        if (src?.t === 'dict' && !src.taint) for (const [k, v] of src.map) self.map.set(k, v)
        else if (src !== undefined) {
          const it = ev.iterate(src)
          if (it === undefined) break
          for (const pair of it) {
            const kv = ev.iterate(pair)
            if (kv?.length !== 2 || !isHashable(kv[0] as PyValue)) break
            self.map.set(keyOf(kv[0] as PyValue, ev.budget), {key: kv[0] as PyValue, value: kv[1] as PyValue})
          }
        }
        for (const [k, v] of kw) self.map.set(keyOf(str(k), ev.budget), {key: str(k), value: v})
        return NONE
      }
      case 'setdefault': {
        const k = pos[0]
        if (k && isHashable(k)) {
          const hit = self.map.get(keyOf(k, ev.budget))
          if (hit) return hit.value
          const v = pos[1] ?? NONE
          self.map.set(keyOf(k, ev.budget), {key: k, value: v})
          return v
        }
        break
      }
      case 'pop': {
        const k = pos[0]
        if (k === undefined || !isHashable(k)) break
        const key = keyOf(k, ev.budget)
        const hit = self.map.get(key)
        if (hit) {
          self.map.delete(key)
          return hit.value
        }
        if (pos[1] !== undefined) return pos[1]
        throw ev.failure(c.mod, c.e, `KeyError: ${ev.toRepr(k) ?? ''}`, 'use a key the dict has')
      }
      case 'popitem': {
        const last = [...self.map.keys()].pop()
        if (last === undefined) throw ev.failure(c.mod, c.e, "KeyError: 'popitem(): dictionary is empty'", 'check the dict')
        const e = self.map.get(last) as {key: PyValue; value: PyValue}
        self.map.delete(last)
        return {t: 'tuple', items: [e.key, e.value]}
      }
      case 'clear':
        self.map.clear()
        return NONE
      case 'copy':
        return {t: 'dict', map: new Map(self.map)}
      case 'keys':
        return {t: 'list', items: [...self.map.values()].map((x) => x.key)}
      case 'values':
        return {t: 'list', items: [...self.map.values()].map((x) => x.value)}
      case 'items':
        return {t: 'list', items: [...self.map.values()].map((x) => ({t: 'tuple', items: [x.key, x.value]}) as PyValue)}
      default:
        throw ev.failure(c.mod, c.e, `AttributeError: 'dict' object has no attribute '${name}'`, 'use a dict method')
    }
  }
  const u: Unknown = self.taint ?? {why: `dict.${name}(...) with these arguments is not followed by bento`, hint: 'use literal dicts, update() or item assignment', site}
  self.taint ??= u
  return {t: 'opaque', u}
}

export function setMethod(ev: Interp, self: Extract<PyValue, {t: 'set'}>, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const {site} = c
  const setOf = (v: PyValue): Map<string, PyValue> | undefined => {
    const it = ev.iterate(v)
    if (it === undefined) return undefined
    const m = new Map<string, PyValue>()
    for (const x of it) {
      if (!isHashable(x)) throw ev.failure(c.mod, c.e, `TypeError: unhashable type: '${pyTypeName(x)}'`, 'put strings, numbers or tuples in a set')
      m.set(keyOf(x, ev.budget), x)
    }
    return m
  }
  if (!self.taint && kw.size === 0) {
    const takesIterables = !['add', 'discard', 'remove', 'clear', 'copy', 'pop'].includes(name)
    const others = takesIterables ? pos.map(setOf) : []
    if (others.every((o) => o !== undefined)) {
      const os = others as Array<Map<string, PyValue>>
      const mutating = !self.frozen && ['add', 'discard', 'remove', 'update', 'clear', 'pop', 'difference_update', 'intersection_update'].includes(name)
      const x = pos[0]
      switch (name) {
        case 'add':
        case 'discard':
        case 'remove': {
          if (x === undefined || !mutating) break
          if (!isHashable(x)) throw ev.failure(c.mod, c.e, `TypeError: unhashable type: '${pyTypeName(x)}'`, 'put strings, numbers or tuples in a set')
          const k = keyOf(x, ev.budget)
          if (name === 'add') {
            ev.budget.items(self.map.size + 1, 'the set', 1)
            if (!self.map.has(k)) self.map.set(k, x)
          } else if (!self.map.delete(k) && name === 'remove') throw ev.failure(c.mod, c.e, `KeyError: ${ev.toRepr(x) ?? ''}`, 'check the set')
          return NONE
        }
        case 'update':
          for (const o of os) for (const [k, v] of o) if (!self.map.has(k)) self.map.set(k, v)
          ev.budget.items(self.map.size, 'the set', 0)
          return NONE
        case 'clear':
          self.map.clear()
          return NONE
        case 'copy':
          return {t: 'set', map: new Map(self.map), ...(self.frozen ? {frozen: true} : {})}
        case 'union':
        case 'intersection':
        case 'difference':
        case 'symmetric_difference': {
          let cur = new Map(self.map)
          for (const o of os) {
            const next = new Map<string, PyValue>()
            if (name === 'union') {
              cur.forEach((v, k) => next.set(k, v))
              o.forEach((v, k) => next.has(k) || next.set(k, v))
            } else if (name === 'symmetric_difference') {
              cur.forEach((v, k) => o.has(k) || next.set(k, v))
              o.forEach((v, k) => cur.has(k) || next.set(k, v))
            } else cur.forEach((v, k) => o.has(k) === (name === 'intersection') && next.set(k, v))
            cur = next
          }
          ev.budget.items(cur.size, 'the set', cur.size)
          return {t: 'set', map: cur, ...(self.frozen ? {frozen: true} : {})}
        }
        case 'issubset':
        case 'issuperset':
        case 'isdisjoint': {
          const o = os[0]
          if (o === undefined) break
          if (name === 'issubset') return bool([...self.map.keys()].every((k) => o.has(k)))
          if (name === 'issuperset') return bool([...o.keys()].every((k) => self.map.has(k)))
          return bool(![...self.map.keys()].some((k) => o.has(k)))
        }
        default:
          break
      }
    }
  }
  const u: Unknown = self.taint ?? {why: `set.${name}(...) is not followed by bento`, hint: 'use literal sets, add() or |', site}
  if (!self.frozen) self.taint ??= u
  return {t: 'opaque', u}
}

export function tupleMethod(ev: Interp, self: Extract<PyValue, {t: 'tuple'}>, name: string, pos: PyValue[], _kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const x = pos[0]
  if (x !== undefined && (name === 'index' || name === 'count')) {
    if (name === 'count') {
      let n = 0
      for (const y of self.items) if (y === x || pyEquals(x, y, ev.budget) === true) n++
      return int(n)
    }
    const i = indexOf(ev, self.items, x)
    if (i === -1) throw ev.failure(c.mod, c.e, 'ValueError: tuple.index(x): x not in tuple', 'check the tuple')
    if (i !== undefined) return int(i)
  }
  return ev.opaque(`tuple.${name}(...)`, 'use tuples of literals', c.site)
}
