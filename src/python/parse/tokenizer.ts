/**
 * A small, forgiving Python tokenizer (Python 3.8–3.13 lexical rules, enough for static reading).
 *
 * It never throws: anything it cannot follow becomes an `error` token with a message, and scanning
 * goes on. It tracks brackets (no NEWLINE inside them), backslash continuations, INDENT/DEDENT,
 * string prefixes (r, b, u, f and their combinations, t-strings), triple-quoted strings and
 * f-strings with nested replacement fields (PEP 701 quotes included).
 */

export type TokenKind =
  | 'name'
  | 'number'
  | 'string'
  | 'op'
  | 'comment'
  | 'newline'
  | 'indent'
  | 'dedent'
  | 'error'
  | 'end'

/** One piece of an f-string: literal text, or a replacement field with its expression source. */
export type FStringPart = {lit: string} | {expr: string; line: number; col: number; tail?: string}

export interface Token {
  kind: TokenKind
  /** The source text of the token (for `error`: the message). */
  text: string
  /** 1-based line and column of the first character. */
  line: number
  col: number
  /** Strings only: lowercased prefix (`''`, `'r'`, `'f'`, `'rb'`, …). */
  prefix?: string
  /** Strings only: the decoded value; `null` for f-strings that have replacement fields. */
  value?: string | null
  /** f-strings only: literal pieces and replacement fields in order. */
  parts?: FStringPart[]
  /** Strings only: an escape bento does not decode (`\N{...}`); the value keeps it as written. */
  unsupported?: string
  /** Errors only: CPython refuses the module too (nothing after it can be read). */
  fatal?: boolean
}

/** CPython's tokenizer refuses the 200th level of nested brackets ("too many nested parentheses"). */
export const MAX_BRACKET_DEPTH = 200

const STRING_PREFIXES = new Set(['r', 'u', 'b', 'br', 'rb', 'f', 'fr', 'rf', 't', 'tr', 'rt'])

const OPERATORS = [
  '**=', '//=', '>>=', '<<=', '...', '!=', '->', ':=', '**', '//', '<<', '>>', '<=', '>=', '==', '+=', '-=', '*=',
  '/=', '%=', '&=', '|=', '^=', '@=', '+', '-', '*', '/', '%', '@', '&', '|', '^', '~', '<', '>', '(', ')', '[',
  ']', '{', '}', ',', ':', ';', '.', '=', '!',
]

const NUMBER_RE =
  /(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)/y
const NAME_START_RE = /[\p{L}\p{Nl}_]/u
const NAME_CONT_RE = /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]/u

const OPENERS: Record<string, string> = {'(': ')', '[': ']', '{': '}'}

interface Cursor {
  pos: number
  line: number
  /** Offset of the first character of the current line. */
  lineStart: number
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  const cur: Cursor = {pos: 0, line: 1, lineStart: 0}
  const indents = [0]
  const brackets: string[] = []
  let atLineStart = true
  const n = src.length

  const push = (kind: TokenKind, text: string, pos: number, line = cur.line, lineStart = cur.lineStart): Token => {
    const t: Token = {kind, text, line, col: pos - lineStart + 1}
    tokens.push(t)
    return t
  }
  const lastKind = (): TokenKind | undefined => {
    for (let k = tokens.length - 1; k >= 0; k--) if (tokens[k]?.kind !== 'comment') return tokens[k]?.kind
    return undefined
  }

  if (src.charCodeAt(0) === 0xfeff) cur.pos = 1

  while (cur.pos < n) {
    if (atLineStart && brackets.length === 0) {
      // Measure indentation of a new logical line.
      let width = 0
      let p = cur.pos
      while (p < n) {
        const c = src[p]
        if (c === ' ') width += 1
        else if (c === '\t') width = (Math.floor(width / 8) + 1) * 8
        else if (c === '\f') width = 0
        else break
        p++
      }
      const c = src[p]
      if (p >= n) {
        cur.pos = p
        break
      }
      if (c === '\n' || c === '\r' || c === '#') {
        // Blank or comment-only line: no INDENT/DEDENT.
        cur.pos = p
        if (c === '#') {
          const end = lineEnd(src, p)
          push('comment', src.slice(p, end), p)
          cur.pos = end
        }
        cur.pos = skipNewline(src, cur)
        continue
      }
      if (c === '\\' && (src[p + 1] === '\n' || src[p + 1] === '\r')) {
        // A continuation right after the indentation: treat as part of the same logical line.
        cur.pos = p
      } else {
        cur.pos = p
        const top = indents[indents.length - 1] ?? 0
        if (width > top) {
          indents.push(width)
          push('indent', '', p)
        } else if (width < top) {
          while (indents.length > 1 && width < (indents[indents.length - 1] ?? 0)) {
            indents.pop()
            push('dedent', '', p)
          }
          if (width !== (indents[indents.length - 1] ?? 0)) {
            push('error', 'unindent does not match any outer indentation level', p)
            indents.push(width)
          }
        }
      }
      atLineStart = false
    }

    const start = cur.pos
    const c = src[start] ?? ''

    if (c === ' ' || c === '\t' || c === '\f') {
      cur.pos++
      continue
    }
    if (c === '\\') {
      const next = src[start + 1]
      if (next === '\n' || next === '\r') {
        cur.pos = start + 1
        cur.pos = skipNewline(src, cur)
        continue
      }
      push('error', 'unexpected character after line continuation character', start)
      cur.pos++
      continue
    }
    if (c === '\n' || c === '\r') {
      if (brackets.length === 0) {
        const lk = lastKind()
        if (lk !== undefined && lk !== 'newline' && lk !== 'indent' && lk !== 'dedent') push('newline', '', start)
        atLineStart = true
      }
      cur.pos = skipNewline(src, cur)
      continue
    }
    if (c === '#') {
      const end = lineEnd(src, start)
      push('comment', src.slice(start, end), start)
      cur.pos = end
      continue
    }

    // Names, possibly string prefixes.
    if (NAME_START_RE.test(c)) {
      let p = start + 1
      while (p < n && NAME_CONT_RE.test(src[p] ?? '')) p++
      const word = src.slice(start, p)
      const q = src[p]
      if ((q === '"' || q === "'") && STRING_PREFIXES.has(word.toLowerCase())) {
        tokens.push(scanString(src, cur, start, word.toLowerCase(), p))
        continue
      }
      // Identifiers are NFKC-normalized, as CPython's tokenizer does (`ｉmage` is `image`).
      push('name', /^[\x00-\x7f]*$/.test(word) ? word : word.normalize('NFKC'), start)
      cur.pos = p
      continue
    }
    if (c === '"' || c === "'") {
      tokens.push(scanString(src, cur, start, '', start))
      continue
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[start + 1] ?? ''))) {
      NUMBER_RE.lastIndex = start
      const m = NUMBER_RE.exec(src)
      const text = m?.[0] ?? c
      push('number', text, start)
      cur.pos = start + text.length
      continue
    }
    const op = OPERATORS.find((o) => src.startsWith(o, start))
    if (op !== undefined) {
      if (op in OPENERS) {
        if (brackets.length + 1 >= MAX_BRACKET_DEPTH) {
          push('error', `too many nested parentheses (${MAX_BRACKET_DEPTH} levels: CPython refuses this module too, SyntaxError)`, start).fatal = true
          break
        }
        brackets.push(op)
      } else if (op === ')' || op === ']' || op === '}') {
        const open = brackets[brackets.length - 1]
        if (open !== undefined && OPENERS[open] === op) brackets.pop()
        else {
          push('error', `unmatched '${op}'`, start)
          cur.pos = start + 1
          continue
        }
      }
      push('op', op, start)
      cur.pos = start + op.length
      continue
    }
    push('error', `invalid character '${c}' (U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`, start)
    cur.pos += c.length || 1
  }

  if (brackets.length > 0) push('error', `'${brackets[brackets.length - 1] ?? ''}' was never closed`, cur.pos)
  const lk = lastKind()
  if (lk !== undefined && lk !== 'newline' && lk !== 'indent' && lk !== 'dedent') push('newline', '', cur.pos)
  while (indents.length > 1) {
    indents.pop()
    push('dedent', '', cur.pos)
  }
  push('end', '', cur.pos)
  return tokens
}

function lineEnd(src: string, p: number): number {
  let e = p
  while (e < src.length && src[e] !== '\n' && src[e] !== '\r') e++
  return e
}

/** Consume one line break at `cur.pos` (\n, \r\n or \r) and advance the line counter. */
function skipNewline(src: string, cur: Cursor): number {
  let p = cur.pos
  if (src[p] === '\r' && src[p + 1] === '\n') p += 2
  else if (src[p] === '\n' || src[p] === '\r') p += 1
  else return p
  cur.line++
  cur.lineStart = p
  return p
}

/**
 * Scan a string literal whose prefix starts at `start` and whose opening quote is at `qpos`.
 * Advances `cur` past the literal (also across lines of triple-quoted strings).
 */
function scanString(src: string, cur: Cursor, start: number, prefix: string, qpos: number): Token {
  const line = cur.line
  const col = start - cur.lineStart + 1
  const q = src[qpos] ?? '"'
  const triple = src[qpos + 1] === q && src[qpos + 2] === q
  const quote = triple ? q.repeat(3) : q
  const raw = prefix.includes('r')
  const isF = prefix.includes('f') || prefix.includes('t')
  const isBytes = prefix.includes('b')
  let p = qpos + quote.length
  const n = src.length
  const parts: FStringPart[] = []
  let lit = ''
  let hasFields = false
  let error: string | undefined
  let unsupported: string | undefined

  const newline = (at: number): number => {
    // at points to \r or \n; returns the position after the line break
    let e = at + 1
    if (src[at] === '\r' && src[at + 1] === '\n') e = at + 2
    cur.line++
    cur.lineStart = e
    return e
  }

  for (;;) {
    if (p >= n) {
      error = 'unterminated string literal'
      break
    }
    if (src.startsWith(quote, p)) {
      p += quote.length
      break
    }
    const c = src[p] ?? ''
    if (c === '\\') {
      const next = src[p + 1]
      if (next === undefined) {
        p++
        continue
      }
      if (next === '\n' || next === '\r') {
        if (raw) lit += src.slice(p, next === '\r' && src[p + 2] === '\n' ? p + 3 : p + 2)
        p = newline(p + 1)
        continue
      }
      if (raw) {
        lit += c + next
        p += 2
        continue
      }
      const [decoded, len] = decodeEscape(src, p, isBytes)
      if (!isBytes && decoded.startsWith('\\N{')) unsupported ??= decoded
      lit += decoded
      p += len
      continue
    }
    if (c === '\n' || c === '\r') {
      if (!triple) {
        error = 'unterminated string literal'
        break
      }
      lit += '\n'
      p = newline(p)
      continue
    }
    if (isF && (c === '{' || c === '}')) {
      if (src[p + 1] === c) {
        lit += c
        p += 2
        continue
      }
      if (c === '}') {
        // A single '}' is a syntax error in Python; keep it literally.
        lit += c
        p++
        continue
      }
      // Replacement field.
      if (lit !== '') parts.push({lit})
      lit = ''
      hasFields = true
      const fieldLine = cur.line
      const fieldCol = p + 1 - cur.lineStart + 1
      const r = scanField(src, cur, p + 1, quote)
      parts.push(r.tail === undefined ? {expr: r.expr, line: fieldLine, col: fieldCol} : {expr: r.expr, line: fieldLine, col: fieldCol, tail: r.tail})
      p = r.end
      if (r.error) {
        error = r.error
        break
      }
      continue
    }
    lit += c
    p++
  }
  if (lit !== '' || parts.length === 0) parts.push({lit})
  cur.pos = p
  const text = src.slice(start, p)
  if (error !== undefined) {
    return {kind: 'error', text: error, line, col, prefix}
  }
  const tok: Token = {kind: 'string', text, line, col, prefix}
  if (unsupported !== undefined) tok.unsupported = unsupported
  if (isF) {
    tok.parts = parts
    tok.value = hasFields ? null : parts.map((x) => ('lit' in x ? x.lit : '')).join('')
  } else {
    tok.value = parts.map((x) => ('lit' in x ? x.lit : '')).join('')
  }
  return tok
}

/**
 * Scan an f-string replacement field starting after its `{`. Returns the expression source and
 * the position after the closing `}`. Nested strings, brackets and format specs with nested
 * fields are followed.
 */
function scanField(
  src: string,
  cur: Cursor,
  from: number,
  outerQuote: string,
): {expr: string; end: number; error?: string; tail?: string} {
  let p = from
  let depth = 0
  let exprEnd = -1
  const n = src.length
  for (;;) {
    if (p >= n) return {expr: src.slice(from, p), end: p, error: 'unterminated f-string replacement field'}
    const c = src[p] ?? ''
    if (c === '\n' || c === '\r') {
      let e = p + 1
      if (c === '\r' && src[p + 1] === '\n') e = p + 2
      cur.line++
      cur.lineStart = e
      p = e
      continue
    }
    if (exprEnd === -1 && (c === '"' || c === "'")) {
      if (src.startsWith(outerQuote, p) && outerQuote.length === 3) {
        return {expr: src.slice(from, p), end: p, error: 'unterminated f-string replacement field'}
      }
      // Nested string literal (any prefix letters were already consumed as names).
      let k = p - 1
      let pre = ''
      while (k >= from && /[a-zA-Z]/.test(src[k] ?? '')) {
        pre = (src[k] ?? '') + pre
        k--
      }
      const sub = scanString(src, cur, p, STRING_PREFIXES.has(pre.toLowerCase()) ? pre.toLowerCase() : '', p)
      p = cur.pos
      if (sub.kind === 'error') return {expr: src.slice(from, p), end: p, error: sub.text}
      continue
    }
    if (exprEnd === -1 && c === '#') {
      return {expr: src.slice(from, p), end: p, error: "f-string expression part cannot include '#'"}
    }
    if (c === '(' || c === '[' || c === '{') {
      if (c === '{' && exprEnd !== -1) {
        // nested field inside the format spec
        depth++
        p++
        continue
      }
      depth++
      p++
      continue
    }
    if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) {
        if (c !== '}') return {expr: src.slice(from, p), end: p + 1, error: `f-string: unmatched '${c}'`}
        if (exprEnd === -1) return {expr: src.slice(from, p), end: p + 1}
        // `=`, `!conv` and `:spec`, as written
        return {expr: src.slice(from, exprEnd), end: p + 1, tail: src.slice(exprEnd, p)}
      }
      depth--
      p++
      continue
    }
    if (depth === 0 && exprEnd === -1) {
      if (c === '!' && src[p + 1] !== '=') {
        exprEnd = p
        p++
        continue
      }
      if (c === ':' && src[p + 1] !== '=') {
        exprEnd = p
        p++
        continue
      }
      if (c === '=' && src[p + 1] !== '=' && !/[=!<>]/.test(src[p - 1] ?? '')) {
        // self-documenting `{x=}`
        exprEnd = p
        p++
        continue
      }
    }
    p++
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
}

/** Decode one escape sequence at `p` (a backslash). Returns the text and the number of source characters used. */
function decodeEscape(src: string, p: number, isBytes: boolean): [string, number] {
  const e = src[p + 1] ?? ''
  const simple = SIMPLE_ESCAPES[e]
  if (simple !== undefined) return [simple, 2]
  if (/[0-7]/.test(e)) {
    const m = /^[0-7]{1,3}/.exec(src.slice(p + 1, p + 4))
    const digits = m?.[0] ?? e
    return [String.fromCharCode(parseInt(digits, 8)), 1 + digits.length]
  }
  if (e === 'x') {
    const h = src.slice(p + 2, p + 4)
    if (/^[0-9a-fA-F]{2}$/.test(h)) return [String.fromCharCode(parseInt(h, 16)), 4]
  }
  if (!isBytes && (e === 'u' || e === 'U')) {
    const len = e === 'u' ? 4 : 8
    const h = src.slice(p + 2, p + 2 + len)
    if (new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) {
      const cp = parseInt(h, 16)
      if (cp <= 0x10ffff) return [String.fromCodePoint(cp), 2 + len]
    }
  }
  if (!isBytes && e === 'N' && src[p + 2] === '{') {
    const close = src.indexOf('}', p + 3)
    if (close !== -1) return [src.slice(p, close + 1), close + 1 - p]
  }
  // Unknown escape: Python keeps the backslash.
  return ['\\' + e, 2]
}
