/**
 * Calls of the standard library functions bento evaluates (`json.dumps`, `json.loads`, `shlex.quote`,
 * `shlex.join`), their arguments checked as CPython checks them.
 */
import type {CallCtx, Interp} from './context.js'
import {keyOf, NONE, orderOf, pyFloat, pyStr, pyTypeName, int, str} from './pyops.js'
import {type DumpsOptions, jsonDumps, jsonLoads, PyException, type PyOps, shlexQuote, yamlSafeLoad} from './stdlib.js'
import type {PyValue} from './values.js'

/** `json.dumps`, `json.loads`, `shlex.quote`, `shlex.join`, `yaml.safe_load` of a string; undefined for other names. */
export function callStdlib(ev: Interp, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue | undefined {
  if (!['json.dumps', 'json.loads', 'shlex.quote', 'shlex.join', 'yaml.safe_load', 'yaml.load', 'yaml.full_load'].includes(name)) return undefined
  const short = name.slice(name.indexOf('.') + 1)
  for (const v of [...pos, ...kw.values()]) {
    const u = ev.unknownIn(v)
    if (u) return {t: 'opaque', u}
  }
  const ops: PyOps = {
    floatRepr: pyFloat,
    intRepr: (v) => pyStr(int(v), ev.budget) ?? String(v),
    order: (a, b) => orderOf(a, b, ev.budget),
    typeName: pyTypeName,
  }
  const notRun = (what: string): PyValue => ev.opaque(`${name}(...) with ${what} (code bento does not run)`, `write the value literally, or call ${name}() without ${what}`, c.site)
  try {
    switch (name) {
      case 'json.dumps': {
        if (pos.length !== 1) throw new PyException('TypeError', `dumps() takes 1 positional argument but ${pos.length} were given`)
        const known = ['skipkeys', 'ensure_ascii', 'check_circular', 'allow_nan', 'indent', 'separators', 'sort_keys']
        for (const k of kw.keys()) {
          if (k === 'default' || k === 'cls') return notRun(`${k}=`)
          if (!known.includes(k)) throw new PyException('TypeError', `__init__() got an unexpected keyword argument '${k}'`)
        }
        const flag = (k: string, d: boolean): boolean => {
          const v = kw.get(k)
          return v === undefined ? d : ev.truth(v) ?? d
        }
        const ind = kw.get('indent') ?? NONE
        let indent: string | null
        if (ind.t === 'none') indent = null
        else if (ind.t === 'str') indent = ind.v
        else if (ind.t === 'int' || ind.t === 'bool') {
          const n = BigInt(ind.v)
          ev.budget.chars(n, 'the indent of json.dumps()')
          indent = ' '.repeat(n > 0n ? Number(n) : 0)
        } else throw new PyException('TypeError', `can't multiply sequence by non-int of type '${pyTypeName(ind)}'`)
        let itemSeparator = indent === null ? ', ' : ','
        let keySeparator = ': '
        const sep = kw.get('separators')
        if (sep !== undefined && sep.t !== 'none') {
          const it = ev.iterate(sep)
          if (it === undefined || it.length !== 2) throw new PyException('ValueError', 'separators must be a pair of strings: (item_separator, key_separator)')
          const [a, b] = it as [PyValue, PyValue]
          if (a.t !== 'str' || b.t !== 'str') throw new PyException('TypeError', 'make_encoder() argument 6 must be str')
          itemSeparator = a.v
          keySeparator = b.v
        }
        const o: DumpsOptions = {
          indent,
          itemSeparator,
          keySeparator,
          sortKeys: flag('sort_keys', false),
          ensureAscii: flag('ensure_ascii', true),
          allowNan: flag('allow_nan', true),
          skipKeys: flag('skipkeys', false),
        }
        return str(jsonDumps(pos[0] as PyValue, o, ev.budget, ops))
      }
      case 'json.loads': {
        const s = pos[0] ?? kw.get('s')
        if (kw.size > (pos[0] ? 0 : 1)) return notRun('hooks or options')
        if (s?.t !== 'str') throw new PyException('TypeError', `the JSON object must be str, bytes or bytearray, not ${s ? pyTypeName(s) : 'NoneType'}`)
        return jsonLoads(s.v, ev.budget)
      }
      case 'yaml.safe_load':
      case 'yaml.full_load':
      case 'yaml.load': {
        // PyYAML's safe loader on a string (the project's own text: a constant, an f-string); a stream is file I/O.
        const s = pos[0] ?? kw.get('stream')
        if (name === 'yaml.load') {
          const loader = pos[1] ?? kw.get('Loader')
          const safe = ['yaml.SafeLoader', 'yaml.CSafeLoader', 'yaml.FullLoader', 'yaml.loader.SafeLoader']
          if (loader === undefined) throw new PyException('TypeError', "load() missing 1 required positional argument: 'Loader'")
          if (loader.t !== 'ext' || !safe.includes(loader.name)) return notRun('a Loader other than SafeLoader/FullLoader')
        }
        if (s?.t !== 'str') return notRun(`a ${s ? pyTypeName(s) : 'missing'} stream (a file: write the YAML in the module)`)
        ev.budget.charge(Math.ceil(s.v.length / 64) + 1)
        const v = yamlSafeLoad(s.v, ev.budget, (k) => keyOf(k, ev.budget))
        return v ?? notRun('a timestamp or binary value (a datetime/bytes bento does not model)')
      }
      case 'shlex.quote': {
        const s = pos[0] ?? kw.get('s')
        if (s?.t !== 'str') throw new PyException('TypeError', `expected string or bytes-like object, got '${s ? pyTypeName(s) : 'NoneType'}'`)
        ev.budget.chars(s.v.length * 5, 'the result of shlex.quote()')
        return str(shlexQuote(s.v))
      }
      default: {
        const it = pos[0] ? ev.iterate(pos[0]) : undefined
        if (it === undefined) throw new PyException('TypeError', `'${pos[0] ? pyTypeName(pos[0]) : 'NoneType'}' object is not iterable`)
        const parts: string[] = []
        let n = 0
        for (const x of it) {
          if (x.t !== 'str') throw new PyException('TypeError', `expected string or bytes-like object, got '${pyTypeName(x)}'`)
          n += x.v.length * 5 + 1
          if (n > ev.budget.limits.chars) ev.budget.chars(n, 'the result of shlex.join()')
          ev.budget.charge(Math.ceil(x.v.length / 64) + 1)
          parts.push(shlexQuote(x.v))
        }
        return str(parts.join(' '))
      }
    }
  } catch (e) {
    if (e instanceof PyException) throw ev.failure(c.mod, c.e, `${e.type}: ${e.message} (BentoML fails to import the service here too)`, `fix the arguments of ${short}()`)
    throw e
  }
}
