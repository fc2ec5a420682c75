/**
 * `bento smoke --expect`: a small jq-like check of a JSON answer, `PATH [| length] [OP JSON]`. PATH is `.` followed by
 * `.key`, `["key"]` or `[N]` (negative N counts from the end); OP is `==`, `!=`, `<`, `<=`, `>`, `>=`; without an OP
 * the value must exist and be neither null nor false. Pure.
 */
import {UsageError} from '../errors.js'

export type PathStep = string | number

export interface Expectation {
  text: string
  path: PathStep[]
  length: boolean
  op?: '==' | '!=' | '<' | '<=' | '>' | '>='
  value?: unknown
}

const OPS = ['==', '!=', '<=', '>=', '<', '>'] as const

function bad(text: string, why: string): UsageError {
  return new UsageError(`--expect '${text}': ${why}`, {hint: `write PATH OP JSON, e.g. --expect '.[0] == "setosa"' or --expect 'classify=.scores | length == 3'`})
}

export function parseExpectation(text: string): Expectation {
  let i = 0
  const s = text.trim()
  const ws = (): void => {
    while (s[i] === ' ' || s[i] === '\t') i++
  }
  if (s[i] !== '.') throw bad(text, 'the path must start with "."')
  const path: PathStep[] = []
  i++
  for (;;) {
    const c = s[i]
    if (c === '[') {
      const close = s.indexOf(']', i)
      if (close === -1) throw bad(text, 'an unclosed "["')
      const inner = s.slice(i + 1, close).trim()
      if (/^-?\d+$/.test(inner)) path.push(Number(inner))
      else if (/^"(?:[^"\\]|\\.)*"$/.test(inner)) path.push(JSON.parse(inner) as string)
      else throw bad(text, `[${inner}] is neither an index nor a "quoted key"`)
      i = close + 1
    } else if (c === '.' || (path.length === 0 && c !== undefined && /[A-Za-z_]/.test(c))) {
      if (c === '.') i++
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))
      if (!m) throw bad(text, `a key is expected at column ${i + 1}`)
      path.push(m[0])
      i += m[0].length
    } else break
  }
  ws()
  let length = false
  if (s.startsWith('|', i)) {
    i++
    ws()
    if (!s.startsWith('length', i)) throw bad(text, 'only "| length" is supported after the path')
    length = true
    i += 'length'.length
    ws()
  }
  if (i === s.length) return {text, path, length}
  const op = OPS.find((o) => s.startsWith(o, i))
  if (op === undefined) throw bad(text, `an operator (${OPS.join(' ')}) is expected at column ${i + 1}`)
  const rest = s.slice(i + op.length).trim()
  let value: unknown
  try {
    value = JSON.parse(rest)
  } catch {
    throw bad(text, `${rest || 'nothing'} is not a JSON value (quote strings: "setosa")`)
  }
  return {text, path, length, op, value}
}

/** The value at `path`, or `undefined` when a step does not exist. */
export function valueAt(json: unknown, path: PathStep[]): unknown {
  let v = json
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(v)) return undefined
      v = v[step < 0 ? v.length + step : step]
    } else {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, step)) return undefined
      v = (v as Record<string, unknown>)[step]
    }
  }
  return v
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/** `undefined` when the answer passes, else why not (for the report). */
export function checkExpectation(e: Expectation, json: unknown): string | undefined {
  let v = valueAt(json, e.path)
  const shown = (x: unknown): string => (x === undefined ? 'nothing' : JSON.stringify(x))
  if (e.length) {
    if (typeof v === 'string' || Array.isArray(v)) v = v.length
    else if (typeof v === 'object' && v !== null) v = Object.keys(v).length
    else return `${e.text}: ${shown(v)} has no length`
  }
  if (e.op === undefined) return v === undefined || v === null || v === false ? `${e.text}: got ${shown(v)}` : undefined
  let ok: boolean
  switch (e.op) {
    case '==':
      ok = deepEqual(v, e.value)
      break
    case '!=':
      ok = !deepEqual(v, e.value)
      break
    default: {
      const comparable = (typeof v === 'number' && typeof e.value === 'number') || (typeof v === 'string' && typeof e.value === 'string')
      if (!comparable) return `${e.text}: cannot compare ${shown(v)} with ${shown(e.value)}`
      const [x, y] = [v as number | string, e.value as number | string]
      ok = e.op === '<' ? x < y : e.op === '<=' ? x <= y : e.op === '>' ? x > y : x >= y
    }
  }
  return ok ? undefined : `${e.text}: got ${shown(v)}`
}

/** `NAME=VALUE` (NAME an API name) or a bare VALUE (every API). `==` right after a name is no separator. */
export function splitApiPrefix(text: string): {api?: string; value: string} {
  const m = /^([A-Za-z_][A-Za-z0-9_-]*)=(?!=)([\s\S]*)$/.exec(text)
  return m ? {api: m[1], value: m[2] as string} : {value: text}
}
