/**
 * CPython's text formatting for the interpreter: the format-spec mini-language (`f"{x:>10.2f}"`, `"{:,}".format(n)`,
 * `format(x, spec)`) and printf-style `%` formatting (`"%s-%05.1f" % (a, b)`, `"%(name)s" % d`). A value or spec it
 * does not know gives undefined (the caller leaves an unknown value); a spec CPython refuses is a ValueError.
 */
import type {Interp} from './context.js'
import {pyFloat, pyTypeName} from './pyops.js'
import type {PyValue} from './values.js'

/** A formatting error CPython raises (`ValueError: …`, `TypeError: …`): the caller reports it at the line. */
export class FormatError extends Error {}

interface Spec {
  fill: string
  align: string | undefined
  sign: string
  alt: boolean
  zero: boolean
  width: number
  grouping: string
  precision: number | undefined
  type: string
}

const SPEC_RE = /^(?:(.)?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/su

function parseSpec(spec: string): Spec {
  const m = SPEC_RE.exec(spec)
  if (m === null) throw new FormatError('ValueError: Invalid format specifier')
  return {
    fill: m[1] ?? (m[6] && !m[2] ? '0' : ' '),
    align: m[2] ?? (m[6] ? '=' : undefined),
    sign: m[3] ?? '-',
    alt: m[5] !== undefined,
    zero: m[6] !== undefined,
    width: m[7] === undefined ? 0 : Number(m[7]),
    grouping: m[8] ?? '',
    precision: m[9] === undefined ? undefined : Number(m[9]),
    type: m[10] ?? '',
  }
}

function pad(body: string, sign: string, s: Spec, numeric: boolean): string {
  const align = s.align ?? (numeric ? '>' : '<')
  const len = [...body].length + sign.length
  const n = Math.max(0, s.width - len)
  if (align === '=') return sign + s.fill.repeat(n) + body
  if (align === '<') return sign + body + s.fill.repeat(n)
  if (align === '>') return s.fill.repeat(n) + sign + body
  const left = Math.floor(n / 2)
  return s.fill.repeat(left) + sign + body + s.fill.repeat(n - left)
}

function group(digits: string, sep: string, every = 3): string {
  if (sep === '') return digits
  const [intPart, frac] = digits.split('.') as [string, string | undefined]
  let out = ''
  for (let i = 0; i < intPart.length; i++) {
    if (i > 0 && (intPart.length - i) % every === 0) out += sep
    out += intPart[i]
  }
  return frac === undefined ? out : `${out}.${frac}`
}

/** A finite double >= 0 as an exact fraction `num / den`. */
function exact(a: number): [bigint, bigint] {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, a)
  const bits = view.getBigUint64(0)
  const expBits = Number((bits >> 52n) & 0x7ffn)
  const frac = bits & ((1n << 52n) - 1n)
  const m = expBits === 0 ? frac : frac | (1n << 52n)
  const e = (expBits === 0 ? 1 : expBits) - 1075
  return e >= 0 ? [m << BigInt(e), 1n] : [m, 1n << BigInt(-e)]
}

/** `num / den` rounded to an integer, ties to even (CPython's correctly rounded float formatting). */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den
  const twice = 2n * (num % den)
  return twice > den || (twice === den && q % 2n === 1n) ? q + 1n : q
}

/** `a.toFixed(p)` as CPython's `'%.*f'` (exact value, ties to even). */
export function toFixedPy(a: number, p: number): string {
  const [num, den] = exact(a)
  const q = roundHalfEven(num * 10n ** BigInt(p), den)
  const s = q.toString().padStart(p + 1, '0')
  return p === 0 ? s : `${s.slice(0, -p)}.${s.slice(-p)}`
}

/** `a.toExponential(p)` as CPython's `'%.*e'` (exact value, ties to even), two-digit exponent. */
function toExpPy(a: number, p: number): string {
  if (a === 0) return `${p === 0 ? '0' : `0.${'0'.repeat(p)}`}e+00`
  const [num, den] = exact(a)
  let e = Math.floor(Math.log10(a))
  for (let tries = 0; tries < 3; tries++) {
    const shift = p - e
    const q = shift >= 0 ? roundHalfEven(num * 10n ** BigInt(shift), den) : roundHalfEven(num, den * 10n ** BigInt(-shift))
    const digits = q.toString()
    if (digits.length === p + 2) {
      e += 1
      continue
    }
    if (digits.length === p) {
      e -= 1
      continue
    }
    const mant = p === 0 ? digits : `${digits[0]}.${digits.slice(1)}`
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
  }
  return expo(a.toExponential(p))
}

/** Python's `'%e'`-style exponent: at least two digits. */
function expo(text: string): string {
  return text.replace(/e([+-])(\d)$/, 'e$10$2')
}

function formatFloat(v: number, type: string, precision: number | undefined, alt: boolean): string {
  if (!Number.isFinite(v)) {
    const t = Number.isNaN(v) ? 'nan' : 'inf'
    return type === type.toUpperCase() && type !== '' && type !== '%' ? t.toUpperCase() : t
  }
  const a = Math.abs(v)
  switch (type) {
    case 'f':
    case 'F':
      return toFixedPy(a, precision ?? 6) + (alt && precision === 0 ? '.' : '')
    case 'e':
    case 'E': {
      const t = toExpPy(a, precision ?? 6)
      return type === 'E' ? t.toUpperCase() : t
    }
    case '%':
      return `${toFixedPy(a * 100, precision ?? 6)}%`
    case 'g':
    case 'G':
    case '': {
      if (type === '' && precision === undefined) return pyFloat(a)
      let p = precision ?? 6
      if (p === 0) p = 1
      const exp = Number(toExpPy(a, p - 1).split('e')[1])
      let t: string
      if (exp >= -4 && exp < p) {
        t = toFixedPy(a, Math.max(0, p - 1 - exp))
        if (!alt && t.includes('.')) t = t.replace(/0+$/, '').replace(/\.$/, '')
        if (type === '' && !t.includes('.')) t += '.0'
      } else {
        const [m, e] = toExpPy(a, p - 1).split('e') as [string, string]
        const mant = !alt && m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m
        t = `${mant}e${e}`
      }
      return type === 'G' ? t.toUpperCase() : t
    }
    default:
      throw new FormatError(`ValueError: Unknown format code '${type}' for object of type 'float'`)
  }
}

/** `format(v, spec)` as CPython's `__format__` of str, int, bool, float (and `str()` for an empty spec). */
export function formatSpec(ev: Interp, v: PyValue, spec: string): string | undefined {
  if (spec === '') return ev.toStr(v)
  const s = parseSpec(spec)
  if (v.t === 'str' || (v.t !== 'int' && v.t !== 'float' && v.t !== 'bool')) {
    const text = v.t === 'str' ? v.v : v.t === 'none' || v.t === 'list' || v.t === 'tuple' || v.t === 'dict' ? undefined : ev.toStr(v)
    if (v.t !== 'str') {
      if (text === undefined) throw new FormatError(`TypeError: unsupported format string passed to ${pyTypeName(v)}.__format__`)
    }
    if (s.type !== '' && s.type !== 's') throw new FormatError(`ValueError: Unknown format code '${s.type}' for object of type 'str'`)
    if (s.sign !== '-' || s.alt || s.align === '=') throw new FormatError('ValueError: Sign not allowed in string format specifier')
    let body = text ?? ''
    if (s.precision !== undefined) body = [...body].slice(0, s.precision).join('')
    ev.budget.chars(body.length + s.width, 'the formatted text')
    return pad(body, '', s, false)
  }
  ev.budget.chars(s.width + (s.precision ?? 0) + 32, 'the formatted number')
  const isInt = v.t === 'int' || v.t === 'bool'
  if (isInt && 'eEfFgG%'.includes(s.type) && s.type !== '') return formatSpec(ev, {t: 'float', v: Number(v.v)}, spec)
  const neg = isInt ? BigInt(v.v) < 0n : (v as {v: number}).v < 0 || Object.is((v as {v: number}).v, -0)
  const sign = neg ? '-' : s.sign === '+' ? '+' : s.sign === ' ' ? ' ' : ''
  let body: string
  if (isInt) {
    if (s.precision !== undefined) throw new FormatError('ValueError: Precision not allowed in integer format specifier')
    const n = BigInt(v.v)
    const a = n < 0n ? -n : n
    switch (s.type) {
      case '':
      case 'd':
      case 'n':
        body = group(a.toString(), s.grouping)
        break
      case 'b':
      case 'o':
      case 'x':
      case 'X': {
        const base = s.type === 'b' ? 2 : s.type === 'o' ? 8 : 16
        body = group(a.toString(base), s.grouping === '_' ? '_' : '', 4)
        if (s.type === 'X') body = body.toUpperCase()
        if (s.alt) body = `0${s.type}${body}`
        break
      }
      case 'c':
        body = String.fromCodePoint(Number(n))
        break
      default:
        throw new FormatError(`ValueError: Unknown format code '${s.type}' for object of type 'int'`)
    }
  } else {
    body = formatFloat((v as {v: number}).v, s.type, s.precision, s.alt)
    if (s.grouping !== '') body = group(body, s.grouping)
  }
  if (s.zero && s.align === '=' && s.grouping !== '' && s.fill === '0') {
    // `{:010,}`: the zeros are grouped too.
    const digits = body.replace(/[,_]/g, '')
    const width = s.width - sign.length
    let g = group(digits, s.grouping)
    let z = digits
    while ([...g].length < width) {
      z = `0${z}`
      g = group(z, s.grouping)
    }
    return sign + g
  }
  return pad(body, sign, s, true)
}

/** `fmt % args` (printf-style) as CPython's; undefined when a value cannot be printed. */
export function percent(ev: Interp, fmt: string, args: PyValue): string | undefined {
  const items = args.t === 'tuple' ? args.items : [args]
  const mapping = args.t === 'dict' ? args : undefined
  let next = 0
  let out = ''
  const re = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXeEfFgGcrsa%])/gu
  let last = 0
  for (let m = re.exec(fmt); m !== null; m = re.exec(fmt)) {
    out += fmt.slice(last, m.index)
    last = m.index + m[0].length
    const [, key, flags = '', w, p, conv = 's'] = m
    if (conv === '%' && m[0] === '%%') {
      out += '%'
      continue
    }
    const take = (): PyValue => {
      const v = items[next++]
      if (v === undefined) throw new FormatError('TypeError: not enough arguments for format string')
      return v
    }
    const width = w === '*' ? Number((take() as {v: bigint}).v) : w === undefined ? 0 : Number(w)
    const precision = p === '*' ? Number((take() as {v: bigint}).v) : p === undefined ? undefined : Number(p)
    let v: PyValue
    if (key !== undefined) {
      if (mapping === undefined) throw new FormatError('TypeError: format requires a mapping')
      const hit = [...mapping.map.values()].find((e) => e.key.t === 'str' && e.key.v === key)
      if (hit === undefined) throw new FormatError(`KeyError: '${key}'`)
      v = hit.value
    } else v = take()
    let text: string | undefined
    if (conv === 's' || conv === 'r' || conv === 'a') {
      text = conv === 's' ? ev.toStr(v) : ev.toRepr(v)
      if (text !== undefined && precision !== undefined) text = [...text].slice(0, precision).join('')
    } else {
      if (v.t !== 'int' && v.t !== 'bool' && v.t !== 'float') {
        if (v.t === 'opaque') return undefined
        throw new FormatError(`TypeError: %${conv} format: a real number is required, not ${pyTypeName(v)}`)
      }
      const t = conv === 'i' || conv === 'u' ? 'd' : conv
      const num: PyValue = 'diouxXc'.includes(t) && v.t === 'float' ? {t: 'int', v: BigInt(Math.trunc(v.v))} : v
      const spec = `${flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : ''}${flags.includes('#') ? '#' : ''}${precision !== undefined && !'doxXc'.includes(t) ? `.${precision}` : ''}${t}`
      text = formatSpec(ev, num, spec)
      if (text !== undefined && precision !== undefined && 'doxX'.includes(t)) {
        const neg = text.startsWith('-')
        const digits = neg ? text.slice(1) : text
        text = (neg ? '-' : '') + digits.padStart(precision, '0')
      }
      if (text !== undefined && flags.includes('0') && !flags.includes('-') && text.length < width) {
        const signed = /^[-+ ]/.test(text)
        text = signed ? text[0] + text.slice(1).padStart(width - 1, '0') : text.padStart(width, '0')
      }
    }
    if (text === undefined) return undefined
    ev.budget.chars(out.length + text.length + width, 'the formatted text')
    out += flags.includes('-') ? text.padEnd(width) : text.padStart(width)
  }
  if (mapping === undefined && next < items.length) throw new FormatError('TypeError: not all arguments converted during string formatting')
  return out + fmt.slice(last)
}
