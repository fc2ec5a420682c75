/**
 * Python's `str()` of a YAML/TOML scalar, which is what BentoML (cattrs) stores when a string field
 * receives another type: `true` → `True`, `null` → `None`, `3.0` → `3.0`, `1e-5` → `1e-05`.
 */
export function pyStr(value: unknown, source?: string): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return 'None'
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number') return pyNumber(value, source)
  if (value instanceof Date) return source?.trim() ?? value.toISOString()
  return String(value)
}

/** The Python type name used in messages: `str`, `int`, `float`, `bool`, `NoneType`, `list`, `dict`, `date`. */
export function pyType(value: unknown, source?: string): string {
  if (typeof value === 'string') return 'str'
  if (value === null || value === undefined) return 'NoneType'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'bigint') return 'int'
  if (typeof value === 'number') return isFloatLiteral(value, source) ? 'float' : 'int'
  if (value instanceof Date) return 'date'
  if (Array.isArray(value)) return 'list'
  return 'dict'
}

function isFloatLiteral(n: number, source?: string): boolean {
  if (!Number.isInteger(n)) return true
  if (source === undefined) return false
  const s = source.trim().toLowerCase()
  if (s.startsWith('0x') || s.startsWith('-0x') || s.startsWith('+0x')) return false
  return /[.e]/.test(s) || s.includes('inf') || s.includes('nan')
}

function pyNumber(n: number, source?: string): string {
  if (Number.isNaN(n)) return 'nan'
  if (n === Infinity) return 'inf'
  if (n === -Infinity) return '-inf'
  if (!isFloatLiteral(n, source)) return String(n)
  const abs = Math.abs(n)
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    const [mantissa = '', exp = '0'] = n.toExponential().split('e')
    const sign = exp.startsWith('-') ? '-' : '+'
    const digits = exp.replace(/^[-+]/, '').padStart(2, '0')
    return `${mantissa}e${sign}${digits}`
  }
  const s = String(n)
  return Number.isInteger(n) ? `${s}.0` : s
}
