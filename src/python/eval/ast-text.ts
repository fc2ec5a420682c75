/**
 * Reading the scanner's expressions for the evaluator's messages and headers: a source-like label of an
 * expression, the `for` header's target and iterable, f-string fields moved to their place in the file.
 */
import {type Expr, walkExpr} from '../parse/index.js'

/** Move an expression parsed from `(<field>)` to the f-string field's position (for messages). */
export function relocate(e: Expr, line: number, col: number): Expr {
  const move = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(move)
    if (x === null || typeof x !== 'object') return x
    const o = x as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(o)) out[k] = k === 'line' || k === 'col' ? v : move(v)
    if (typeof o.line === 'number' && typeof o.col === 'number') {
      out.line = line + o.line - 1
      out.col = o.line === 1 ? col + o.col - 2 : o.col
    }
    return out
  }
  return move(e) as Expr
}

/** A short, source-like rendering of an expression for messages (`if GPU_COUNT > 0`, `for cmd in args.post`). */
export function exprLabel(e: Expr, depth = 0): string {
  if (depth > 12) return '…'
  const sub = (x: Expr): string => exprLabel(x, depth + 1)
  switch (e.k) {
    case 'name':
      return e.id
    case 'attr':
      return `${sub(e.obj)}.${e.attr}`
    case 'call':
      return `${sub(e.fn)}(...)`
    case 'str':
      return e.value === null ? 'f"..."' : JSON.stringify(e.value.length > 20 ? `${e.value.slice(0, 20)}…` : e.value)
    case 'num':
      return e.text
    case 'const':
      return e.id
    case 'sub':
      return `${sub(e.obj)}[${e.index.map(sub).join(', ')}]`
    case 'bin':
      return `${sub(e.left)} ${e.op} ${sub(e.right)}`
    case 'unary':
      return e.op === 'not' ? `not ${sub(e.operand)}` : `${e.op}${sub(e.operand)}`
    case 'bool':
      return e.values.map(sub).join(` ${e.op} `)
    case 'cmp':
      return `${sub(e.left)} ${e.ops.map((o, i) => `${o} ${sub(e.rights[i] as Expr)}`).join(' ')}`
    case 'walrus':
      return `${e.target} := ${sub(e.value)}`
    case 'seq':
      return e.kind === 'list' ? '[...]' : '(...)'
    case 'dict':
      return '{...}'
    default:
      return 'expression'
  }
}

export function describeOps(e: Extract<Expr, {k: 'ops'}>): string {
  if (e.ops.includes('lambda')) return 'a lambda'
  if (e.ops.includes('for') || e.parts.some((p) => p.k === 'ops' && p.ops.includes('for'))) return 'a comprehension'
  if (e.ops.includes('await')) return 'an await expression'
  if (e.ops.includes('yield')) return 'a yield expression'
  if (e.ops.includes(':')) return 'a slice'
  return `the expression with ${e.ops.filter((o) => o !== '').join(' ')}`
}

/** `for <targets> in <iter>` from the scanner's header expressions. */
export function forHeader(exprs: Expr[]): {target: Expr; iter: Expr} | undefined {
  const at = exprs.findIndex((e) => e.k === 'cmp' && e.ops[0] === 'in')
  if (at === -1) return undefined
  const cmp = exprs[at] as Extract<Expr, {k: 'cmp'}>
  if (cmp.ops.length !== 1) return undefined
  const targets = [...exprs.slice(0, at), cmp.left]
  const rest = exprs.slice(at + 1)
  const first = cmp.rights[0] as Expr
  const target: Expr = targets.length === 1 ? (targets[0] as Expr) : {k: 'seq', kind: 'tuple', items: targets, line: cmp.line, col: cmp.col}
  const iter: Expr = rest.length === 0 ? first : {k: 'seq', kind: 'tuple', items: [first, ...rest], line: first.line, col: first.col}
  return {target, iter}
}

/** Visit an expression and its sub-expressions (walrus and call nodes included). */
export function walkCalls(e: Expr, visit: (e: Expr) => void): void {
  walkExpr(e, visit)
}

export function exprText(e: Expr): string {
  const parts: string[] = []
  walkExpr(e, (x) => {
    if (x.k === 'name') parts.push(x.id)
  })
  return parts.join(' ')
}
