/**
 * A statement / expression scanner over `tokenize()` output: blocks, decorators, imports, assignments, calls,
 * attribute chains, literals, operators with Python's precedence, lambdas, comprehensions, slices, `def`
 * parameters and `return`/`raise` values — what service discovery and the bounded interpreter (../eval/) need.
 * What it does not structure (`await`, `yield`, syntax it cannot follow) is kept as opaque `ops` expressions whose
 * sub-expressions are still visited, so calls nested anywhere are found.
 */
import {tokenize, type FStringPart, type Token} from './tokenizer.js'

export type Expr =
  | {k: 'name'; id: string; line: number; col: number}
  /** `unsupported`: an escape bento does not decode (`\N{...}`), kept as written in `value`. */
  | {k: 'str'; value: string | null; parts: FStringPart[] | null; unsupported?: string; line: number; col: number}
  | {k: 'num'; text: string; line: number; col: number}
  | {k: 'const'; id: 'None' | 'True' | 'False' | '...'; line: number; col: number}
  | {k: 'attr'; obj: Expr; attr: string; line: number; col: number}
  | {k: 'call'; fn: Expr; args: Arg[]; line: number; col: number}
  | {k: 'sub'; obj: Expr; index: Expr[]; line: number; col: number}
  | {k: 'seq'; kind: 'list' | 'tuple' | 'set'; items: Expr[]; line: number; col: number}
  /** `{k: v, **other}`: an entry without `key` is a `**value` splat. */
  | {k: 'dict'; entries: Array<{key?: Expr; value: Expr}>; line: number; col: number}
  /** `*value` inside a list/tuple/set display or an assignment target. */
  | {k: 'starred'; value: Expr; line: number; col: number}
  /** Binary operators (`+`, `*`, `|`, `**`, …). */
  | {k: 'bin'; op: string; left: Expr; right: Expr; line: number; col: number}
  /** `not x`, `-x`, `+x`, `~x`. */
  | {k: 'unary'; op: string; operand: Expr; line: number; col: number}
  /** `a and b and c` / `a or b`. */
  | {k: 'bool'; op: 'and' | 'or'; values: Expr[]; line: number; col: number}
  /** Comparison chains: `a < b <= c`, `x not in y`, `x is not None`. */
  | {k: 'cmp'; left: Expr; ops: string[]; rights: Expr[]; line: number; col: number}
  /** `body if test else orelse`. */
  | {k: 'ifexp'; test: Expr; body: Expr; orelse: Expr; line: number; col: number}
  /** `name := value`. */
  | {k: 'walrus'; target: string; value: Expr; line: number; col: number}
  /** `lambda params: body`. */
  | {k: 'lambda'; params: Param[]; body: Expr; line: number; col: number}
  /**
   * `[elt for … if …]` (list), `{elt for …}` (set), `(elt for …)` (gen), `{key: elt for …}` (dict): the `for`
   * clauses in order, each with its `if` filters.
   */
  | {k: 'comp'; kind: 'list' | 'set' | 'gen' | 'dict'; key?: Expr; elt: Expr; gens: Comprehension[]; line: number; col: number}
  /** `lower:upper:step` inside a subscript (`sub.index`). */
  | {k: 'slice'; lower?: Expr; upper?: Expr; step?: Expr; line: number; col: number}
  /**
   * What the scanner does not structure (`await`, `yield`, anything it cannot follow): the operands in order and
   * the operators between them, so nested calls are still visited.
   */
  | {k: 'ops'; parts: Expr[]; ops: string[]; line: number; col: number}

export interface Comprehension {
  target: Expr
  iter: Expr
  ifs: Expr[]
  isAsync: boolean
}

/**
 * A parameter of a `def` or `lambda`, as CPython binds it: `posonly` (before `/`), `pos` (positional or keyword),
 * `vararg` (`*args`), `kwonly` (after `*` or `*args`), `kwarg` (`**kwargs`).
 */
export interface Param {
  name: string
  kind: 'posonly' | 'pos' | 'vararg' | 'kwonly' | 'kwarg'
  default?: Expr
  annotation?: Expr
  line: number
  col: number
}

export interface Arg {
  /** Keyword name for `name=value`. */
  name?: string
  star?: '*' | '**'
  value: Expr
}

interface StmtBase {
  line: number
  col: number
  /** Nested statements of a compound statement (def/class/if/for/with/try/…). */
  body: Stmt[]
}

export type Stmt =
  | (StmtBase & {kind: 'import'; names: Array<{module: string; asName?: string}>})
  | (StmtBase & {
      kind: 'from'
      /** Number of leading dots. */
      level: number
      module: string
      names: Array<{name: string; asName?: string}>
    })
  | (StmtBase & {kind: 'assign'; targets: Expr[]; value: Expr; annotation?: Expr})
  /** `target += value` (any augmented operator; `op` without the `=`). */
  | (StmtBase & {kind: 'augassign'; target: Expr; op: string; value: Expr})
  /** `target: annotation` without a value. */
  | (StmtBase & {kind: 'annotation'; target: Expr; annotation: Expr})
  | (StmtBase & {
      kind: 'def'
      name: string
      decorators: Expr[]
      isAsync: boolean
      /** The parameters as written, one expression each (the service readers' form). */
      params: Expr[]
      /** The parameters as CPython binds them. */
      parameters: Param[]
      returns?: Expr
    })
  | (StmtBase & {kind: 'class'; name: string; decorators: Expr[]; bases: Arg[]})
  /** if / elif / else / for / while / with / try / except / finally / match… : header expressions + body. */
  | (StmtBase & {kind: 'block'; keyword: string; exprs: Expr[]})
  | (StmtBase & {kind: 'expr'; exprs: Expr[]})
  /**
   * `return`, `raise`, `del`, `pass`, `global`, …: the expressions after the keyword; `value` is what `return`
   * returns (a tuple for `return a, b`) or what `raise` raises, `cause` the `from` of a `raise`.
   */
  | (StmtBase & {kind: 'other'; keyword: string; exprs: Expr[]; value?: Expr; cause?: Expr})

export interface ScanProblem {
  line: number
  col: number
  message: string
  /** CPython refuses the module too, or bento cannot read it at all: an error, not a warning. */
  fatal?: boolean
}

/** The largest module the scanner reads (characters): a generous bound on memory and time. */
export const MAX_SOURCE_CHARS = 16 * 1024 * 1024

export interface ScanResult {
  stmts: Stmt[]
  problems: ScanProblem[]
}

const KEYWORD_OPS = new Set([
  'and', 'or', 'not', 'in', 'is', 'if', 'else', 'for', 'async', 'await', 'lambda', 'yield', 'from', 'as',
])
const BLOCK_KEYWORDS = new Set(['if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'match', 'case'])

/** Tokenize and scan a module. Never throws; problems are reported. */
export function scanModule(src: string): ScanResult {
  if (src.length > MAX_SOURCE_CHARS) {
    const mib = (src.length / 1024 / 1024).toFixed(1)
    return {stmts: [], problems: [{line: 1, col: 1, fatal: true, message: `the module is larger than ${MAX_SOURCE_CHARS / 1024 / 1024} MiB (${mib} MiB): bento reads service modules up to that size; move large data to a file the service reads at run time`}]}
  }
  const all = tokenize(src)
  const problems: ScanProblem[] = []
  for (const t of all) if (t.kind === 'error') problems.push({line: t.line, col: t.col, message: t.text, ...(t.fatal ? {fatal: true} : {})})
  const fatal = problems.find((p) => p.fatal)
  if (fatal) return {stmts: [], problems: [fatal]}
  const toks = all.filter((t) => t.kind !== 'comment' && t.kind !== 'error')
  const state = {i: 0}
  try {
    const stmts = parseBlock(toks, state, problems, false)
    return {stmts, problems}
  } catch (e) {
    // Operators nested deeper than the JS stack (`not not … x`, `- - … 1`): an error at the line, not a crash.
    if (!(e instanceof RangeError)) throw e
    const t = toks[state.i] ?? toks[0]
    return {stmts: [], problems: [{line: t?.line ?? 1, col: t?.col ?? 1, fatal: true, message: 'an expression nested too deeply to read (too many nested operators)'}]}
  }
}

function parseBlock(toks: Token[], st: {i: number}, problems: ScanProblem[], nested: boolean): Stmt[] {
  const out: Stmt[] = []
  let decorators: Expr[] = []
  for (;;) {
    const t = toks[st.i]
    if (t === undefined || t.kind === 'end') break
    if (t.kind === 'dedent') {
      st.i++
      if (nested) break
      continue
    }
    if (t.kind === 'newline') {
      st.i++
      continue
    }
    if (t.kind === 'indent') {
      // Unexpected indent: read the block and keep its statements.
      st.i++
      problems.push({line: t.line, col: t.col, message: 'unexpected indent'})
      out.push(...parseBlock(toks, st, problems, true))
      continue
    }
    // One logical line.
    const start = st.i
    while (st.i < toks.length && toks[st.i]?.kind !== 'newline' && toks[st.i]?.kind !== 'end') st.i++
    const line = toks.slice(start, st.i)
    if (toks[st.i]?.kind === 'newline') st.i++
    let body: Stmt[] = []
    if (toks[st.i]?.kind === 'indent') {
      st.i++
      body = parseBlock(toks, st, problems, true)
    }
    for (const piece of splitSemicolons(line)) {
      const stmt = parseSimple(piece, problems)
      if (stmt === undefined) continue
      if (stmt.kind === 'expr' && piece[0]?.text === '@' && piece[0].kind === 'op') {
        decorators.push(...stmt.exprs)
        continue
      }
      if (stmt.kind === 'def' || stmt.kind === 'class') {
        stmt.decorators = decorators
        decorators = []
      } else if (decorators.length > 0) {
        problems.push({line: stmt.line, col: stmt.col, message: 'decorator not followed by def or class'})
        decorators = []
      }
      out.push(stmt)
    }
    const last = out[out.length - 1]
    if (last !== undefined && body.length > 0) last.body = body
  }
  return out
}

function splitSemicolons(line: Token[]): Token[][] {
  const out: Token[][] = []
  let depth = 0
  let cur: Token[] = []
  for (const t of line) {
    if (t.kind === 'op') {
      if (t.text === '(' || t.text === '[' || t.text === '{') depth++
      else if (t.text === ')' || t.text === ']' || t.text === '}') depth--
      else if (t.text === ';' && depth === 0) {
        if (cur.length > 0) out.push(cur)
        cur = []
        continue
      }
    }
    cur.push(t)
  }
  if (cur.length > 0) out.push(cur)
  return out
}

function isOp(t: Token | undefined, text: string): boolean {
  return t !== undefined && t.kind === 'op' && t.text === text
}
function isName(t: Token | undefined, text?: string): boolean {
  return t !== undefined && t.kind === 'name' && (text === undefined || t.text === text)
}

/** Positions of matching brackets in a token list (both directions). Unmatched openers map to `toks.length`. */
function matchBrackets(toks: Token[]): Map<number, number> {
  const m = new Map<number, number>()
  const stack: number[] = []
  toks.forEach((t, i) => {
    if (t.kind !== 'op') return
    if (t.text === '(' || t.text === '[' || t.text === '{') stack.push(i)
    else if (t.text === ')' || t.text === ']' || t.text === '}') {
      const o = stack.pop()
      if (o !== undefined) {
        m.set(o, i)
        m.set(i, o)
      }
    }
  })
  for (const o of stack) m.set(o, toks.length)
  return m
}

/** Split `[from, to)` at top-level occurrences of `sep` (an op). */
function splitTop(toks: Token[], from: number, to: number, match: Map<number, number>, sep: string): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let s = from
  for (let i = from; i < to; i++) {
    const t = toks[i]
    if (t?.kind === 'op' && (t.text === '(' || t.text === '[' || t.text === '{')) {
      i = Math.min(match.get(i) ?? to, to)
      continue
    }
    // A lambda's parameters (defaults, commas) and its colon belong to the lambda.
    if (isName(t, 'lambda')) {
      i = lambdaColon(toks, i, to, match)
      continue
    }
    if (isOp(t, sep)) {
      out.push([s, i])
      s = i + 1
    }
  }
  out.push([s, to])
  return out
}

/** The `:` ending the parameters of the `lambda` at `at` (or `to`). */
function lambdaColon(toks: Token[], at: number, to: number, match: Map<number, number>): number {
  for (let i = at + 1; i < to; i++) {
    const t = toks[i]
    if (t?.kind === 'op' && (t.text === '(' || t.text === '[' || t.text === '{')) {
      i = Math.min(match.get(i) ?? to, to)
      continue
    }
    if (isName(t, 'lambda')) {
      i = lambdaColon(toks, i, to, match)
      continue
    }
    if (isOp(t, ':')) return i
  }
  return to
}

/** Top-level positions of name `kw` in `[from, to)` (brackets and lambda parameters skipped). */
function topKeywords(toks: Token[], from: number, to: number, match: Map<number, number>, kws: readonly string[]): number[] {
  const out: number[] = []
  for (let i = from; i < to; i++) {
    const t = toks[i]
    if (t?.kind === 'op' && (t.text === '(' || t.text === '[' || t.text === '{')) {
      i = Math.min(match.get(i) ?? to, to)
      continue
    }
    if (isName(t, 'lambda')) {
      i = lambdaColon(toks, i, to, match)
      continue
    }
    if (t?.kind === 'name' && kws.includes(t.text)) out.push(i)
  }
  return out
}

const AUG_OPS = new Set(['+=', '-=', '*=', '/=', '//=', '%=', '**=', '>>=', '<<=', '&=', '^=', '|=', '@='])

/** Bracket depth of token `i` (0 = top level of the statement). */
function depthAt(toks: Token[], match: Map<number, number>, i: number): number {
  let d = 0
  for (let j = 0; j < i; j++) {
    const t = toks[j]
    if (t?.kind !== 'op') continue
    if (t.text === '(' || t.text === '[' || t.text === '{') {
      const close = match.get(j) ?? toks.length
      if (close > i) d++
      else j = close
    }
  }
  return d
}

function parseSimple(toks: Token[], problems: ScanProblem[]): Stmt | undefined {
  const first = toks[0]
  if (first === undefined) return undefined
  const match = matchBrackets(toks)
  const p = new ExprParser(toks, match, problems)
  const base = {line: first.line, col: first.col, body: [] as Stmt[]}
  const end = toks.length
  // Drop a trailing block colon ("if x:", "class A:") from the header.
  const headerEnd = (from: number): number => {
    const parts = splitTop(toks, from, end, match, ':')
    if (parts.length === 1) return end
    // header ends at the first top-level ':' that is not inside a lambda/slice (lambdas are rare in headers)
    return parts[0]?.[1] ?? end
  }

  if (first.kind === 'op' && first.text === '@') {
    return {...base, kind: 'expr', exprs: [p.expr(1, end)]}
  }
  if (first.kind === 'name') {
    const kw = first.text
    if (kw === 'import') {
      const names: Array<{module: string; asName?: string}> = []
      for (const [a, b] of splitTop(toks, 1, end, match, ',')) {
        const seg = toks.slice(a, b)
        const asAt = seg.findIndex((t) => isName(t, 'as'))
        const mod = (asAt === -1 ? seg : seg.slice(0, asAt)).map((t) => t.text).join('')
        const asName = asAt === -1 ? undefined : seg[asAt + 1]?.text
        if (mod !== '') names.push(asName === undefined ? {module: mod} : {module: mod, asName})
      }
      return {...base, kind: 'import', names}
    }
    if (kw === 'from' && toks.some((t) => isName(t, 'import'))) {
      let i = 1
      let level = 0
      while (isOp(toks[i], '.') || isOp(toks[i], '...')) {
        level += toks[i]?.text.length ?? 0
        i++
      }
      const impAt = toks.findIndex((t, j) => j >= i && isName(t, 'import'))
      const module = toks
        .slice(i, impAt)
        .map((t) => t.text)
        .join('')
      const names: Array<{name: string; asName?: string}> = []
      const rest = toks.slice(impAt + 1).filter((t) => !isOp(t, '(') && !isOp(t, ')'))
      let cur: Token[] = []
      const flush = (): void => {
        const nm = cur[0]?.text
        if (nm !== undefined) {
          const asName = isName(cur[1], 'as') ? cur[2]?.text : undefined
          names.push(asName === undefined ? {name: nm} : {name: nm, asName})
        }
        cur = []
      }
      for (const t of rest) {
        if (isOp(t, ',')) flush()
        else cur.push(t)
      }
      flush()
      return {...base, kind: 'from', level, module, names}
    }
    let isAsync = false
    let j = 0
    if (kw === 'async' && (isName(toks[1], 'def') || isName(toks[1], 'for') || isName(toks[1], 'with'))) {
      isAsync = true
      j = 1
    }
    const kw2 = toks[j]?.text ?? ''
    if (toks[j]?.kind === 'name' && kw2 === 'def') {
      const name = toks[j + 1]?.text ?? ''
      const open = j + 2
      const close = isOp(toks[open], '(') ? (match.get(open) ?? end) : open
      const params = isOp(toks[open], '(') ? p.list(open + 1, close) : []
      const parameters = isOp(toks[open], '(') ? p.params(open + 1, close, true) : []
      let returns: Expr | undefined
      if (isOp(toks[close + 1], '->')) returns = p.expr(close + 2, headerEnd(close + 2))
      const stmt: Stmt = {...base, kind: 'def', name, decorators: [], isAsync, params, parameters}
      if (returns !== undefined) stmt.returns = returns
      return stmt
    }
    if (kw === 'class') {
      const name = toks[1]?.text ?? ''
      const bases = isOp(toks[2], '(') ? p.args(3, match.get(2) ?? end) : []
      return {...base, kind: 'class', name, decorators: [], bases}
    }
    if (BLOCK_KEYWORDS.has(kw2) && toks[j]?.kind === 'name' && !(kw2 === 'match' || kw2 === 'case') ||
      ((kw2 === 'match' || kw2 === 'case') && isOp(toks[end - 1], ':'))) {
      const he = headerEnd(j + 1)
      const exprs = he > j + 1 ? p.list(j + 1, he) : []
      const stmt: Stmt = {...base, kind: 'block', keyword: kw2, exprs}
      // One-liner compound statement: `if x: y = 1` — keep the tail as a nested statement.
      if (he < end - 1) {
        const tail = parseSimple(toks.slice(he + 1), problems)
        if (tail !== undefined) stmt.body = [tail]
      }
      return stmt
    }
    if (['return', 'del', 'raise', 'assert', 'global', 'nonlocal', 'pass', 'break', 'continue', 'type'].includes(kw) &&
      !isOp(toks[1], '=') && !isOp(toks[1], '.') && !isOp(toks[1], '(')) {
      const stmt: Stmt = {...base, kind: 'other', keyword: kw, exprs: end > 1 ? p.list(1, end) : []}
      if (kw === 'return' && end > 1) stmt.value = p.exprOrTuple(1, end)
      if (kw === 'raise' && end > 1) {
        const from = topKeywords(toks, 1, end, match, ['from'])[0]
        stmt.value = p.expr(1, from ?? end)
        if (from !== undefined) stmt.cause = p.expr(from + 1, end)
      }
      return stmt
    }
  }
  // Augmented assignment: `x += v`.
  const aug = toks.findIndex((t, i) => t.kind === 'op' && AUG_OPS.has(t.text) && depthAt(toks, match, i) === 0)
  if (aug > 0) {
    return {...base, kind: 'augassign', target: p.expr(0, aug), op: (toks[aug] as Token).text.slice(0, -1), value: p.exprOrTuple(aug + 1, end)}
  }
  // Assignment: top-level '=' splits targets from the value.
  const eqParts = splitTop(toks, 0, end, match, '=')
  if (eqParts.length > 1) {
    const last = eqParts[eqParts.length - 1] ?? [0, end]
    const value = p.exprOrTuple(last[0], last[1])
    const targets: Expr[] = []
    let annotation: Expr | undefined
    eqParts.slice(0, -1).forEach(([a, b], idx) => {
      if (idx === 0) {
        const colon = splitTop(toks, a, b, match, ':')
        if (colon.length > 1) {
          const [ta, tb] = colon[0] ?? [a, b]
          targets.push(p.exprOrTuple(ta, tb))
          const [aa, ab] = colon[1] ?? [b, b]
          annotation = p.expr(aa, ab)
          return
        }
      }
      targets.push(p.exprOrTuple(a, b))
    })
    const stmt: Stmt = {...base, kind: 'assign', targets, value}
    if (annotation !== undefined) stmt.annotation = annotation
    return stmt
  }
  // Annotated declaration without a value: `x: int`.
  const colon = splitTop(toks, 0, end, match, ':')
  if (colon.length === 2 && first.kind === 'name') {
    const [[ta, tb], [aa, ab]] = colon as [[number, number], [number, number]]
    if (tb > ta && ab > aa) return {...base, kind: 'annotation', target: p.expr(ta, tb), annotation: p.expr(aa, ab)}
  }
  return {...base, kind: 'expr', exprs: p.list(0, end)}
}

/** Thrown inside the precedence parser for syntax that stays flat (`ops`). */
class Unstructured extends Error {}

interface Cursor {
  i: number
  to: number
}

const CMP_OPS = new Set(['<', '>', '==', '>=', '<=', '!='])
/** Binary operator levels, loosest first (Python's `|`, `^`, `&`, shifts, `+ -`, `* / // % @`). */
const BIN_LEVELS = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%', '@']] as const

class ExprParser {
  constructor(
    private readonly toks: Token[],
    private readonly match: Map<number, number>,
    private readonly problems: ScanProblem[],
  ) {}

  /** Comma-separated expressions in `[from, to)`; empty pieces (trailing commas) dropped. */
  list(from: number, to: number): Expr[] {
    return splitTop(this.toks, from, to, this.match, ',')
      .filter(([a, b]) => b > a)
      .map(([a, b]) => this.expr(a, b))
  }

  /** `a, b` → tuple (`*rest` items starred); `a` → a. */
  exprOrTuple(from: number, to: number): Expr {
    const parts = splitTop(this.toks, from, to, this.match, ',')
    if (parts.length === 1) return this.expr(from, to)
    const t = this.toks[from]
    const items = parts
      .filter(([a, b]) => b > a)
      .map(([a, b]) => {
        const s = this.toks[a] as Token
        return isOp(s, '*') ? ({k: 'starred', value: this.expr(a + 1, b), line: s.line, col: s.col} as Expr) : this.expr(a, b)
      })
    return {k: 'seq', kind: 'tuple', items, line: t?.line ?? 0, col: t?.col ?? 0}
  }

  /** The parameters of a `def` (annotated) or a `lambda` in `[from, to)`. */
  params(from: number, to: number, annotated: boolean): Param[] {
    const out: Param[] = []
    let kind: 'pos' | 'kwonly' = 'pos'
    for (const [a, b] of splitTop(this.toks, from, to, this.match, ',')) {
      if (b <= a) continue
      const t0 = this.toks[a] as Token
      if (isOp(t0, '/') && b === a + 1) {
        for (const q of out) if (q.kind === 'pos') q.kind = 'posonly'
        continue
      }
      if (isOp(t0, '*') && b === a + 1) {
        kind = 'kwonly'
        continue
      }
      let pk: Param['kind'] = kind
      let s = a
      if (isOp(t0, '*')) {
        pk = 'vararg'
        s = a + 1
        kind = 'kwonly'
      } else if (isOp(t0, '**')) {
        pk = 'kwarg'
        s = a + 1
      }
      const nameTok = this.toks[s]
      if (nameTok?.kind !== 'name' || s >= b) {
        this.problems.push({line: t0.line, col: t0.col, message: 'a parameter bento cannot read'})
        continue
      }
      const param: Param = {name: nameTok.text, kind: pk, line: nameTok.line, col: nameTok.col}
      const eq = splitTop(this.toks, s + 1, b, this.match, '=')
      const annEnd = eq[0]?.[1] ?? b
      if (eq.length > 1) param.default = this.expr(eq[1]?.[0] ?? b, b)
      if (annotated && isOp(this.toks[s + 1], ':') && annEnd > s + 2) param.annotation = this.expr(s + 2, annEnd)
      out.push(param)
    }
    return out
  }

  /**
   * A comprehension in `[from, to)` (the inside of its brackets), or undefined when there is no top-level `for`.
   * `kind` 'set' becomes 'dict' when the element is `key: value`.
   */
  comprehension(kind: 'list' | 'set' | 'gen', from: number, to: number, at: {line: number; col: number}): Expr | undefined {
    const fors = topKeywords(this.toks, from, to, this.match, ['for'])
    const first = fors[0]
    if (first === undefined) return undefined
    const clauseStart = (i: number): number => (isName(this.toks[i - 1], 'async') && this.toks[i]?.text === 'for' ? i - 1 : i)
    const eltEnd = clauseStart(first)
    if (eltEnd <= from) throw new Unstructured()
    const marks = topKeywords(this.toks, first, to, this.match, ['for', 'if'])
    const gens: Comprehension[] = []
    marks.forEach((m, n) => {
      const next = marks[n + 1]
      const end = next === undefined ? to : clauseStart(next)
      if (this.toks[m]?.text === 'for') {
        const inAt = topKeywords(this.toks, m + 1, end, this.match, ['in'])[0]
        if (inAt === undefined) throw new Unstructured()
        gens.push({target: this.exprOrTuple(m + 1, inAt), iter: this.expr(inAt + 1, end), ifs: [], isAsync: clauseStart(m) !== m})
      } else {
        const g = gens[gens.length - 1]
        if (g === undefined) throw new Unstructured()
        g.ifs.push(this.expr(m + 1, end))
      }
    })
    const kv = kind === 'set' ? splitTop(this.toks, from, eltEnd, this.match, ':') : []
    if (kv.length > 1) {
      const [ka, kb] = kv[0] as [number, number]
      return {k: 'comp', kind: 'dict', key: this.expr(ka, kb), elt: this.expr(kv[1]?.[0] ?? eltEnd, eltEnd), gens, line: at.line, col: at.col}
    }
    return {k: 'comp', kind, elt: this.expr(from, eltEnd), gens, line: at.line, col: at.col}
  }

  /** A comprehension, or the flat form when the scanner cannot follow it. */
  private compOrFlat(kind: 'list' | 'set' | 'gen', from: number, to: number, at: Token, op: string): Expr {
    try {
      const e = this.comprehension(kind, from, to, at)
      if (e !== undefined) return e
    } catch (e) {
      if (!(e instanceof Unstructured)) throw e
    }
    return {k: 'ops', parts: [this.flat(from, to)], ops: [op], line: at.line, col: at.col}
  }

  /** The items of a subscript `[...]`: expressions and `lower:upper:step` slices. */
  private subscriptItems(from: number, to: number): Expr[] {
    return splitTop(this.toks, from, to, this.match, ',')
      .filter(([a, b]) => b > a)
      .map(([a, b]) => {
        const parts = splitTop(this.toks, a, b, this.match, ':')
        if (parts.length === 1) return this.expr(a, b)
        const t = this.toks[a] as Token
        const part = (k: number): Expr | undefined => {
          const r = parts[k]
          return r === undefined || r[1] <= r[0] ? undefined : this.expr(r[0], r[1])
        }
        const e: Expr = {k: 'slice', line: t.line, col: t.col}
        const lower = part(0)
        const upper = part(1)
        const step = part(2)
        if (lower) e.lower = lower
        if (upper) e.upper = upper
        if (step) e.step = step
        return e
      })
  }

  /** Call arguments in `[from, to)`. */
  args(from: number, to: number): Arg[] {
    const out: Arg[] = []
    for (const [a, b] of splitTop(this.toks, from, to, this.match, ',')) {
      if (b <= a) continue
      const t0 = this.toks[a]
      const t1 = this.toks[a + 1]
      if (!isOp(t0, '*') && !isOp(t0, '**') && topKeywords(this.toks, a, b, this.match, ['for']).length > 0 && !(t0?.kind === 'name' && isOp(t1, '='))) {
        out.push({value: this.compOrFlat('gen', a, b, t0 as Token, '()')})
      } else if (t0?.kind === 'name' && isOp(t1, '=')) {
        out.push({name: t0.text, value: this.expr(a + 2, b)})
      } else if (isOp(t0, '*') || isOp(t0, '**')) {
        out.push({star: t0?.text === '*' ? '*' : '**', value: this.expr(a + 1, b)})
      } else {
        out.push({value: this.expr(a, b)})
      }
    }
    return out
  }

  /** Any expression in `[from, to)`: structured where the scanner knows the syntax, else `ops`. */
  expr(from: number, to: number): Expr {
    if (to <= from) return this.flat(from, to)
    try {
      const c = {i: from, to}
      const e = this.namedExpr(c)
      if (c.i === to) return e
    } catch (e) {
      if (!(e instanceof Unstructured)) throw e
    }
    return this.flat(from, to)
  }

  /** The flat form: operands and operators in order (what the scanner does not structure). */
  flat(from: number, to: number): Expr {
    const parts: Expr[] = []
    const ops: string[] = []
    let i = from
    const t0 = this.toks[from]
    while (i < to) {
      const t = this.toks[i]
      if (t === undefined) break
      if (t.kind === 'name' && KEYWORD_OPS.has(t.text)) {
        ops.push(t.text)
        i++
        continue
      }
      if (t.kind === 'op' && !(t.text === '(' || t.text === '[' || t.text === '{') && t.text !== '...') {
        ops.push(t.text)
        i++
        continue
      }
      const [e, next] = this.primary(i, to)
      parts.push(e)
      i = next
    }
    if (parts.length === 1 && ops.length === 0 && parts[0] !== undefined) return parts[0]
    return {k: 'ops', parts, ops, line: t0?.line ?? 0, col: t0?.col ?? 0}
  }

  // Precedence climbing over [c.i, c.to); throws Unstructured for syntax the scanner leaves flat.
  private peek(c: Cursor): Token | undefined {
    return c.i < c.to ? this.toks[c.i] : undefined
  }

  private namedExpr(c: Cursor): Expr {
    const t = this.peek(c)
    if (t?.kind === 'name' && isOp(this.toks[c.i + 1], ':=') && c.i + 1 < c.to) {
      c.i += 2
      const value = this.test(c)
      return {k: 'walrus', target: t.text, value, line: t.line, col: t.col}
    }
    return this.test(c)
  }

  private test(c: Cursor): Expr {
    const t = this.peek(c)
    if (t === undefined) throw new Unstructured()
    if (isName(t, 'lambda')) {
      const colon = lambdaColon(this.toks, c.i, c.to, this.match)
      if (colon >= c.to) throw new Unstructured()
      const params = this.params(c.i + 1, colon, false)
      c.i = colon + 1
      const body = this.test(c)
      return {k: 'lambda', params, body, line: t.line, col: t.col}
    }
    if (isName(t, 'yield') || isName(t, 'await')) throw new Unstructured()
    const body = this.orTest(c)
    if (isName(this.peek(c), 'if')) {
      c.i++
      const test = this.orTest(c)
      if (!isName(this.peek(c), 'else')) throw new Unstructured()
      c.i++
      const orelse = this.test(c)
      return {k: 'ifexp', test, body, orelse, line: body.line, col: body.col}
    }
    return body
  }

  private orTest(c: Cursor): Expr {
    return this.boolChain(c, 'or', () => this.andTest(c))
  }

  private andTest(c: Cursor): Expr {
    return this.boolChain(c, 'and', () => this.notTest(c))
  }

  private boolChain(c: Cursor, op: 'and' | 'or', next: () => Expr): Expr {
    const first = next()
    const values = [first]
    while (isName(this.peek(c), op)) {
      c.i++
      values.push(next())
    }
    return values.length === 1 ? first : {k: 'bool', op, values, line: first.line, col: first.col}
  }

  private notTest(c: Cursor): Expr {
    const t = this.peek(c)
    if (isName(t, 'not')) {
      c.i++
      const operand = this.notTest(c)
      return {k: 'unary', op: 'not', operand, line: (t as Token).line, col: (t as Token).col}
    }
    return this.comparison(c)
  }

  private comparison(c: Cursor): Expr {
    const left = this.binary(c, 0)
    const ops: string[] = []
    const rights: Expr[] = []
    for (;;) {
      const t = this.peek(c)
      let op: string | undefined
      if (t?.kind === 'op' && CMP_OPS.has(t.text)) {
        op = t.text
        c.i++
      } else if (isName(t, 'in')) {
        op = 'in'
        c.i++
      } else if (isName(t, 'not') && isName(this.toks[c.i + 1], 'in') && c.i + 1 < c.to) {
        op = 'not in'
        c.i += 2
      } else if (isName(t, 'is')) {
        c.i++
        if (isName(this.peek(c), 'not')) {
          c.i++
          op = 'is not'
        } else op = 'is'
      }
      if (op === undefined) break
      ops.push(op)
      rights.push(this.binary(c, 0))
    }
    return ops.length === 0 ? left : {k: 'cmp', left, ops, rights, line: left.line, col: left.col}
  }

  /** Binary operators from `|` (level 0) to `*`-like (level 5); unary and `**` below. */
  private binary(c: Cursor, level: number): Expr {
    if (level >= BIN_LEVELS.length) return this.factor(c)
    let left = this.binary(c, level + 1)
    for (;;) {
      const t = this.peek(c)
      if (t?.kind !== 'op' || !(BIN_LEVELS[level] as readonly string[]).includes(t.text)) return left
      c.i++
      const right = this.binary(c, level + 1)
      left = {k: 'bin', op: t.text, left, right, line: left.line, col: left.col}
    }
  }

  private factor(c: Cursor): Expr {
    const t = this.peek(c)
    if (t?.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~')) {
      c.i++
      const operand = this.factor(c)
      return {k: 'unary', op: t.text, operand, line: t.line, col: t.col}
    }
    return this.power(c)
  }

  private power(c: Cursor): Expr {
    const t = this.peek(c)
    if (t === undefined) throw new Unstructured()
    if (t.kind === 'name' && (KEYWORD_OPS.has(t.text) || t.text === 'lambda')) throw new Unstructured()
    if (t.kind === 'op' && !(t.text === '(' || t.text === '[' || t.text === '{' || t.text === '...')) throw new Unstructured()
    const [base, next] = this.primary(c.i, c.to)
    c.i = next
    if (isOp(this.peek(c), '**')) {
      c.i++
      const exp = this.factor(c)
      return {k: 'bin', op: '**', left: base, right: exp, line: base.line, col: base.col}
    }
    return base
  }

  /** Items of a list/tuple/set display in `[from, to)`: `*x` becomes `starred`; a comprehension stays flat. */
  private displayItems(from: number, to: number): Expr[] | undefined {
    if (topKeywords(this.toks, from, to, this.match, ['for']).length > 0) return undefined
    return splitTop(this.toks, from, to, this.match, ',')
      .filter(([a, b]) => b > a)
      .map(([a, b]) => {
        const t = this.toks[a] as Token
        if (isOp(t, '*')) return {k: 'starred', value: this.expr(a + 1, b), line: t.line, col: t.col} as Expr
        return this.expr(a, b)
      })
  }

  /** An atom followed by `.attr`, `(args)` and `[index]` trailers. */
  private primary(i: number, to: number): [Expr, number] {
    const t = this.toks[i] as Token
    let e: Expr
    let p = i + 1
    if (t.kind === 'name') {
      if (t.text === 'None' || t.text === 'True' || t.text === 'False') {
        e = {k: 'const', id: t.text, line: t.line, col: t.col}
      } else {
        e = {k: 'name', id: t.text, line: t.line, col: t.col}
      }
    } else if (t.kind === 'string') {
      // Implicit concatenation of adjacent literals.
      let value: string | null = t.value ?? null
      const parts: FStringPart[] = [...(t.parts ?? [{lit: t.value ?? ''}])]
      let isF = t.parts !== undefined
      while (this.toks[p]?.kind === 'string' && p < to) {
        const s = this.toks[p] as Token
        value = value === null || s.value === null || s.value === undefined ? null : value + s.value
        parts.push(...(s.parts ?? [{lit: s.value ?? ''}]))
        if (s.parts !== undefined) isF = true
        p++
      }
      const unsupported = t.unsupported ?? this.toks.slice(i + 1, p).find((s) => s.unsupported !== undefined)?.unsupported
      e = {k: 'str', value, parts: isF ? parts : null, ...(unsupported !== undefined ? {unsupported} : {}), line: t.line, col: t.col}
    } else if (t.kind === 'number') {
      e = {k: 'num', text: t.text, line: t.line, col: t.col}
    } else if (t.kind === 'op' && t.text === '...') {
      e = {k: 'const', id: '...', line: t.line, col: t.col}
    } else if (t.kind === 'op' && (t.text === '(' || t.text === '[' || t.text === '{')) {
      const close = Math.min(this.match.get(i) ?? to, to)
      p = close + 1
      if (t.text === '(') {
        const parts = splitTop(this.toks, i + 1, close, this.match, ',')
        if (parts.length === 1 && close > i + 1 && topKeywords(this.toks, i + 1, close, this.match, ['for']).length > 0) {
          e = this.compOrFlat('gen', i + 1, close, t, '()')
        } else if (parts.length === 1 && close > i + 1) {
          const only = this.toks[i + 1]
          e = isOp(only, '*') ? {k: 'ops', parts: [this.expr(i + 2, close)], ops: ['*'], line: t.line, col: t.col} : this.expr(i + 1, close)
        } else {
          const items = this.displayItems(i + 1, close)
          e = items === undefined ? this.flat(i + 1, close) : {k: 'seq', kind: 'tuple', items, line: t.line, col: t.col}
        }
      } else if (t.text === '[') {
        const items = this.displayItems(i + 1, close)
        e = items === undefined ? this.compOrFlat('list', i + 1, close, t, '[]') : {k: 'seq', kind: 'list', items, line: t.line, col: t.col}
      } else {
        const pieces = splitTop(this.toks, i + 1, close, this.match, ',').filter(([a, b]) => b > a)
        const isDict = close === i + 1 || pieces.some(([a, b]) => isOp(this.toks[a], '**') || splitTop(this.toks, a, b, this.match, ':').length > 1)
        const comprehension = this.displayItems(i + 1, close) === undefined
        if (comprehension) e = this.compOrFlat('set', i + 1, close, t, '{}')
        else if (isDict) {
          const entries = pieces.map(([a, b]) => {
            if (isOp(this.toks[a], '**')) return {value: this.expr(a + 1, b)}
            const kv = splitTop(this.toks, a, b, this.match, ':')
            const [ka, kb] = kv[0] ?? [a, b]
            const va = kv[1]?.[0] ?? b
            return {key: this.expr(ka, kb), value: this.expr(va, b)}
          })
          e = {k: 'dict', entries, line: t.line, col: t.col}
        } else {
          e = {k: 'seq', kind: 'set', items: this.displayItems(i + 1, close) ?? [], line: t.line, col: t.col}
        }
      }
    } else {
      this.problems.push({line: t.line, col: t.col, message: `unexpected token '${t.text}'`})
      return [{k: 'ops', parts: [], ops: [t.text], line: t.line, col: t.col}, i + 1]
    }
    // Trailers.
    for (;;) {
      const n = this.toks[p]
      if (n === undefined || p >= to) break
      if (isOp(n, '.') && this.toks[p + 1]?.kind === 'name' && p + 1 < to) {
        const a = this.toks[p + 1] as Token
        e = {k: 'attr', obj: e, attr: a.text, line: a.line, col: a.col}
        p += 2
        continue
      }
      if (isOp(n, '(')) {
        const close = Math.min(this.match.get(p) ?? to, to)
        e = {k: 'call', fn: e, args: this.args(p + 1, close), line: n.line, col: n.col}
        p = close + 1
        continue
      }
      if (isOp(n, '[')) {
        const close = Math.min(this.match.get(p) ?? to, to)
        e = {k: 'sub', obj: e, index: this.subscriptItems(p + 1, close), line: n.line, col: n.col}
        p = close + 1
        continue
      }
      break
    }
    return [e, p]
  }
}

/**
 * Visit `e` and every sub-expression (depth first, parent before children). Iterative: a chain of 2000 `+`
 * is a tree 2000 deep.
 */
export function walkExpr(e: Expr, visit: (e: Expr) => void): void {
  const stack: Expr[] = [e]
  while (stack.length > 0) {
    const x = stack.pop() as Expr
    visit(x)
    const kids = children(x)
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as Expr)
  }
}

function children(e: Expr): Expr[] {
  switch (e.k) {
    case 'attr':
      return [e.obj]
    case 'call':
      return [e.fn, ...e.args.map((a) => a.value)]
    case 'sub':
      return [e.obj, ...e.index]
    case 'seq':
      return e.items
    case 'dict':
      return e.entries.flatMap((x) => (x.key ? [x.key, x.value] : [x.value]))
    case 'starred':
      return [e.value]
    case 'bin':
      return [e.left, e.right]
    case 'unary':
      return [e.operand]
    case 'bool':
      return e.values
    case 'cmp':
      return [e.left, ...e.rights]
    case 'ifexp':
      return [e.test, e.body, e.orelse]
    case 'walrus':
      return [e.value]
    case 'ops':
      return e.parts
    case 'lambda':
      return [...e.params.flatMap((p) => (p.default ? [p.default] : [])), e.body]
    case 'comp':
      return [...(e.key ? [e.key] : []), e.elt, ...e.gens.flatMap((g) => [g.target, g.iter, ...g.ifs])]
    case 'slice':
      return [e.lower, e.upper, e.step].filter((x): x is Expr => x !== undefined)
    default:
      return []
  }
}

/** Every expression directly held by a statement (not its body). */
export function stmtExprs(s: Stmt): Expr[] {
  switch (s.kind) {
    case 'assign':
      return [...s.targets, s.value, ...(s.annotation ? [s.annotation] : [])]
    case 'augassign':
      return [s.target, s.value]
    case 'annotation':
      return [s.target, s.annotation]
    case 'def':
      return [...s.decorators, ...s.params, ...(s.returns ? [s.returns] : [])]
    case 'class':
      return [...s.decorators, ...s.bases.map((a) => a.value)]
    case 'block':
    case 'expr':
    case 'other':
      return s.exprs
    default:
      return []
  }
}

/** `a.b.c` → "a.b.c" for name/attribute chains, else undefined. */
export function dottedName(e: Expr): string | undefined {
  if (e.k === 'name') return e.id
  if (e.k === 'attr') {
    const o = dottedName(e.obj)
    return o === undefined ? undefined : `${o}.${e.attr}`
  }
  return undefined
}
