/**
 * Pure functions of Python's standard library that service modules use to compute build configuration, with
 * CPython's results byte for byte: `json.dumps` (its C encoder: `indent`, `separators`, `sort_keys`,
 * `ensure_ascii`, `allow_nan`, `skipkeys`), `json.loads` (its C scanner, strict mode, its error messages and
 * positions), `shlex.quote` and `shlex.join`. Every step and every character built counts against the
 * evaluator's budget (./budget.ts). A Python exception is a `PyException` (type and message as CPython's).
 */
import {parseAllDocuments, visit} from 'yaml'

import type {Budget} from './budget.js'
import type {PyValue} from './values.js'

export class PyException extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

/** What the encoder needs from the evaluator's value model (passed in: no import cycle). */
export interface PyOps {
  /** `float.__repr__`. */
  floatRepr: (v: number) => string
  /** `int.__repr__` (CPython's 4300-digit limit included). */
  intRepr: (v: bigint) => string
  /** Python's `<` ordering of two keys: negative, 0, positive; undefined when Python raises TypeError. */
  order: (a: PyValue, b: PyValue) => number | undefined
  typeName: (v: PyValue) => string
}

export interface DumpsOptions {
  /** The indent string (`' ' * n` for an int); null: one line. */
  indent: string | null
  itemSeparator: string
  keySeparator: string
  sortKeys: boolean
  ensureAscii: boolean
  allowNan: boolean
  skipKeys: boolean
}

/** A JSON string literal as CPython's encoder writes it (`ensure_ascii`: every non-ASCII UTF-16 unit as `\uXXXX`). */
export function jsonString(s: string, ensureAscii: boolean): string {
  const re = ensureAscii ? /[^\x20-\x7e]|["\\]/g : /[\x00-\x1f"\\]/g
  return `"${s.replace(re, (ch) => {
    switch (ch) {
      case '"':
        return '\\"'
      case '\\':
        return '\\\\'
      case '\n':
        return '\\n'
      case '\r':
        return '\\r'
      case '\t':
        return '\\t'
      case '\b':
        return '\\b'
      case '\f':
        return '\\f'
      default:
        return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`
    }
  })}"`
}

/** `json.dumps(v, ...)`: the caller has checked that `v` holds no unknown value. */
export function jsonDumps(v: PyValue, o: DumpsOptions, budget: Budget, ops: PyOps): string {
  const out: string[] = []
  let size = 0
  // The size is checked as the text grows; the steps are charged for each piece (not again for the whole).
  const check = (n: number): void => {
    if (n > budget.limits.chars) budget.chars(n, 'the result of json.dumps()')
  }
  const emit = (s: string): void => {
    size += s.length
    check(size)
    budget.charge(Math.ceil(s.length / 64))
    out.push(s)
  }
  const onPath = new Set<PyValue>()
  const floatText = (x: number): string => {
    if (Number.isFinite(x)) return ops.floatRepr(x)
    if (!o.allowNan) throw new PyException('ValueError', 'Out of range float values are not JSON compliant')
    return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity'
  }
  const newline = (level: number): string => (o.indent === null ? '' : `\n${o.indent.repeat(level)}`)
  const walk = (x: PyValue, level: number): void => {
    budget.charge()
    budget.depth(level)
    switch (x.t) {
      case 'none':
        return emit('null')
      case 'bool':
        return emit(x.v ? 'true' : 'false')
      case 'int':
        return emit(ops.intRepr(x.v))
      case 'float':
        return emit(floatText(x.v))
      case 'str':
        check(size + x.v.length)
        return emit(jsonString(x.v, o.ensureAscii))
      case 'list':
      case 'tuple': {
        if (x.items.length === 0) return emit('[]')
        if (onPath.has(x)) throw new PyException('ValueError', 'Circular reference detected')
        onPath.add(x)
        emit('[')
        x.items.forEach((y, i) => {
          emit(i === 0 ? newline(level + 1) : o.itemSeparator + newline(level + 1))
          walk(y, level + 1)
        })
        emit(`${newline(level)}]`)
        onPath.delete(x)
        return
      }
      case 'dict': {
        if (x.map.size === 0) return emit('{}')
        if (onPath.has(x)) throw new PyException('ValueError', 'Circular reference detected')
        onPath.add(x)
        let items = [...x.map.values()]
        if (o.sortKeys) {
          budget.charge(Math.ceil(items.length * Math.log2(items.length + 1)))
          items = items.sort((a, b) => {
            const r = ops.order(a.key, b.key)
            if (r === undefined || Number.isNaN(r)) {
              throw new PyException('TypeError', `'<' not supported between instances of '${ops.typeName(a.key)}' and '${ops.typeName(b.key)}'`)
            }
            return r
          })
        }
        emit('{')
        let first = true
        for (const {key, value} of items) {
          let k: string
          if (key.t === 'str') k = key.v
          else if (key.t === 'float') k = floatText(key.v)
          else if (key.t === 'bool') k = key.v ? 'true' : 'false'
          else if (key.t === 'none') k = 'null'
          else if (key.t === 'int') k = ops.intRepr(key.v)
          else if (o.skipKeys) continue
          else throw new PyException('TypeError', `keys must be str, int, float, bool or None, not ${ops.typeName(key)}`)
          emit(first ? newline(level + 1) : o.itemSeparator + newline(level + 1))
          first = false
          emit(jsonString(k, o.ensureAscii) + o.keySeparator)
          walk(value, level + 1)
        }
        emit(`${newline(level)}}`)
        onPath.delete(x)
        return
      }
      default:
        throw new PyException('TypeError', `Object of type ${ops.typeName(x)} is not JSON serializable`)
    }
  }
  walk(v, 0)
  return out.join('')
}

/** `json.loads(s)` (no hooks), as CPython's C scanner: strict strings, NaN/Infinity, exact ints, its errors. */
export function jsonLoads(s: string, budget: Budget): PyValue {
  const fail = (msg: string, pos: number): never => {
    const before = s.slice(0, pos)
    const cp = [...before].length
    const nl = before.lastIndexOf('\n')
    const line = before.split('\n').length
    const col = nl === -1 ? cp + 1 : [...before.slice(nl + 1)].length + 1
    throw new PyException('json.decoder.JSONDecodeError', `${msg}: line ${line} column ${col} (char ${cp})`)
  }
  const ws = (i: number): number => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++
    return i
  }
  const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y
  const str = (start: number): [string, number] => {
    // `start` is after the opening quote.
    let out = ''
    let i = start
    for (;;) {
      budget.charge()
      let j = i
      while (j < s.length && s[j] !== '"' && s[j] !== '\\' && s.charCodeAt(j) >= 0x20) j++
      out += s.slice(i, j)
      if (j >= s.length) fail('Unterminated string starting at', start - 1)
      const c = s[j] as string
      if (c === '"') return [out, j + 1]
      if (c !== '\\') fail('Invalid control character at', j)
      const e = s[j + 1]
      if (e === undefined) fail('Unterminated string starting at', start - 1)
      if (e !== 'u') {
        const simple: Record<string, string> = {'"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t'}
        const r = simple[e as string]
        if (r === undefined) fail('Invalid \\escape', j)
        out += r
        i = j + 2
        continue
      }
      const hex = (at: number): number | undefined => (/^[0-9a-fA-F]{4}$/.test(s.slice(at, at + 4)) ? Number.parseInt(s.slice(at, at + 4), 16) : undefined)
      const u = hex(j + 2)
      if (u === undefined) fail('Invalid \\uXXXX escape', j + 1)
      i = j + 6
      if ((u as number) >= 0xd800 && (u as number) <= 0xdbff && s[i] === '\\' && s[i + 1] === 'u') {
        const low = hex(i + 2)
        if (low === undefined) fail('Invalid \\uXXXX escape', i + 1)
        if ((low as number) >= 0xdc00 && (low as number) <= 0xdfff) {
          out += String.fromCharCode(u as number, low as number)
          i += 6
          continue
        }
      }
      out += String.fromCharCode(u as number)
    }
  }
  const value = (i: number, depth: number): [PyValue, number] => {
    budget.charge()
    budget.depth(depth)
    const c = s[i]
    if (c === '"') {
      const [v, end] = str(i + 1)
      return [{t: 'str', v}, end]
    }
    if (c === '{') {
      const map = new Map<string, {key: PyValue; value: PyValue}>()
      i = ws(i + 1)
      if (s[i] === '}') return [{t: 'dict', map}, i + 1]
      for (;;) {
        if (s[i] !== '"') fail('Expecting property name enclosed in double quotes', i)
        const [k, afterKey] = str(i + 1)
        i = ws(afterKey)
        if (s[i] !== ':') fail("Expecting ':' delimiter", i)
        i = ws(i + 1)
        const [v, end] = value(i, depth + 1)
        budget.items(map.size + 1, 'the result of json.loads()', 1)
        const key = `s:${k}`
        const prev = map.get(key)
        map.set(key, {key: prev?.key ?? {t: 'str', v: k}, value: v})
        i = ws(end)
        if (s[i] === '}') return [{t: 'dict', map}, i + 1]
        if (s[i] !== ',') fail("Expecting ',' delimiter", i)
        i = ws(i + 1)
      }
    }
    if (c === '[') {
      const items: PyValue[] = []
      i = ws(i + 1)
      if (s[i] === ']') return [{t: 'list', items}, i + 1]
      for (;;) {
        const [v, end] = value(i, depth + 1)
        budget.items(items.length + 1, 'the result of json.loads()', 1)
        items.push(v)
        i = ws(end)
        if (s[i] === ']') return [{t: 'list', items}, i + 1]
        if (s[i] !== ',') fail("Expecting ',' delimiter", i)
        i = ws(i + 1)
      }
    }
    const word = (w: string): boolean => s.startsWith(w, i)
    if (word('null')) return [{t: 'none'}, i + 4]
    if (word('true')) return [{t: 'bool', v: true}, i + 4]
    if (word('false')) return [{t: 'bool', v: false}, i + 5]
    if (word('NaN')) return [{t: 'float', v: Number.NaN}, i + 3]
    if (word('Infinity')) return [{t: 'float', v: Infinity}, i + 8]
    if (word('-Infinity')) return [{t: 'float', v: -Infinity}, i + 9]
    NUMBER.lastIndex = i
    const m = NUMBER.exec(s)
    if (m === null) fail('Expecting value', i)
    const text = (m as RegExpExecArray)[0]
    const end = i + text.length
    if ((m as RegExpExecArray)[1] !== undefined || (m as RegExpExecArray)[2] !== undefined) return [{t: 'float', v: Number(text)}, end]
    const digits = text.replace('-', '').length
    if (digits > 4300) {
      throw new PyException('ValueError', `Exceeds the limit (4300 digits) for integer string conversion: value has ${digits} digits; use sys.set_int_max_str_digits() to increase the limit`)
    }
    return [{t: 'int', v: BigInt(text)}, end]
  }
  if (s.startsWith('\ufeff')) fail('Unexpected UTF-8 BOM (decode using utf-8-sig)', 0)
  const [v, end] = value(ws(0), 0)
  const rest = ws(end)
  if (rest !== s.length) fail('Extra data', rest)
  return v
}

/** `shlex.quote(s)`. */
export function shlexQuote(s: string): string {
  if (s === '') return "''"
  if (!/[^\w@%+=:,./-]/.test(s)) return s
  return `'${s.replace(/'/g, `'"'"'`)}'`
}

/** PyYAML's resolver for `tag:yaml.org,2002:float`. */
const PYYAML_FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/

/**
 * `yaml.safe_load(text)` (PyYAML: YAML 1.1, the safe constructors): mappings, sequences, strings, ints (exact),
 * floats, booleans (`yes`/`no`/`on`/`off` too), null, anchors and merge keys. A timestamp or binary value (a
 * `datetime`/`bytes` in Python) is `undefined`: a value bento does not model. Several documents: PyYAML's error.
 */
export function yamlSafeLoad(text: string, budget: Budget, key: (v: PyValue) => string): PyValue | undefined {
  const docs = parseAllDocuments(text, {version: '1.1', merge: true, intAsBigInt: true, uniqueKeys: false})
  if (!Array.isArray(docs)) return {t: 'none'}
  if (docs.length === 0) return {t: 'none'}
  if (docs.length > 1) throw new PyException('ComposerError', 'expected a single document in the stream')
  const doc = docs[0]!
  if (doc.errors.length > 0) throw new PyException('ScannerError', doc.errors[0]?.message.split('\n')[0] ?? 'invalid YAML')
  // PyYAML's float resolver wants a '.' and a signed exponent (`2.5e3`, `1e3` are strings there): plain scalars the
  // YAML 1.1 schema read as floats but PyYAML does not are their text.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && node.type === 'PLAIN' && typeof node.source === 'string' && !PYYAML_FLOAT.test(node.source)) node.value = node.source
    },
  })
  const js: unknown = doc.toJS({mapAsMap: true, maxAliasCount: 100})
  let unmodelled = false
  const walk = (v: unknown): PyValue => {
    budget.charge()
    if (v === null || v === undefined) return {t: 'none'}
    if (typeof v === 'boolean') return {t: 'bool', v}
    if (typeof v === 'bigint') return {t: 'int', v}
    if (typeof v === 'number') return {t: 'float', v}
    if (typeof v === 'string') return {t: 'str', v}
    if (Array.isArray(v)) return {t: 'list', items: v.map(walk)}
    if (v instanceof Map) {
      const map = new Map<string, {key: PyValue; value: PyValue}>()
      for (const [k, x] of v) {
        const kv = walk(k)
        map.set(key(kv), {key: kv, value: walk(x)})
      }
      return {t: 'dict', map}
    }
    unmodelled = true
    return {t: 'none'}
  }
  const out = walk(js)
  return unmodelled ? undefined : out
}
