/**
 * Comprehensions (list, set, dict, generator — a generator is computed at once) in their own scope, and f-strings
 * (fields evaluated, conversions and format specs applied).
 */
import {type Expr, scanModule} from '../parse/index.js'
import {exprLabel, relocate} from './ast-text.js'
import type {Runtime} from './context.js'
import {formatField} from './methods.js'
import {isHashable, keyOf, NONE, pyTypeName, str, typeName} from './pyops.js'
import {type ModuleState, type PyValue, Scope, type Site, type Unknown} from './values.js'

function siteOf(mod: ModuleState, x: {line: number; col: number}): Site {
  return {file: mod.file ?? '', line: x.line, col: x.col}
}

/** A list, set, dict or generator comprehension (a generator is computed at once, as a list). */
export function comprehension(ev: Runtime, e: Extract<Expr, {k: 'comp'}>, mod: ModuleState, env: Map<string, PyValue>): PyValue {
  const scope = new Scope(env, new Set(), new Set(), false, true)
  const out: PyValue[] = []
  const keys: PyValue[] = []
  let unknown: Unknown | undefined
  const loop = (g: number): void => {
    const gen = e.gens[g]
    if (gen === undefined) {
      ev.budget.items(out.length + 1, 'the comprehension', 1)
      if (e.key) keys.push(ev.eval(e.key, mod, scope))
      out.push(ev.eval(e.elt, mod, scope))
      return
    }
    // The first iterable is evaluated in the enclosing scope, as CPython does.
    const iterV = ev.eval(gen.iter, mod, g === 0 ? env : scope)
    const items = ev.iterate(iterV)
    if (items === undefined || gen.isAsync) {
      unknown = ev.unknownOf(iterV, siteOf(mod, gen.iter), `the values of ${exprLabel(gen.iter)}`)
      return
    }
    for (const item of [...items]) {
      ev.assign(gen.target, item, mod, scope)
      let keep = true
      for (const cond of gen.ifs) {
        const t = ev.truth(ev.eval(cond, mod, scope))
        if (t === undefined) {
          unknown = ev.unknownOf(ev.eval(cond, mod, scope), siteOf(mod, cond), `the condition ${exprLabel(cond)}`)
          return
        }
        if (!t) {
          keep = false
          break
        }
      }
      if (keep) loop(g + 1)
      if (unknown) return
    }
  }
  loop(0)
  if (unknown) return {t: 'opaque', u: {...unknown, why: `a comprehension over values bento cannot list: ${unknown.why}`}}
  switch (e.kind) {
    case 'dict': {
      const map = new Map<string, {key: PyValue; value: PyValue}>()
      keys.forEach((k, i) => {
        if (!isHashable(k)) throw ev.failure(mod, e, `TypeError: unhashable type: '${pyTypeName(k)}'`, 'use strings, numbers or tuples as keys')
        map.set(keyOf(k, ev.budget), {key: k, value: out[i] as PyValue})
      })
      return {t: 'dict', map}
    }
    case 'set':
      return ev.makeSet(out, mod, e) ?? NONE
    default:
      return {t: 'list', items: out}
  }
}

export function fstring(ev: Runtime, e: Extract<Expr, {k: 'str'}>, mod: ModuleState, env: Map<string, PyValue>): PyValue {
  let out = ''
  const field = (expr: string, line: number, col: number): PyValue | undefined => {
    const sub = scanModule(`(${expr})\n`).stmts[0]
    const ex = sub?.kind === 'expr' && sub.exprs.length === 1 ? sub.exprs[0] : undefined
    return ex === undefined ? undefined : ev.eval(relocate(ex, line, col), mod, env)
  }
  for (const p of e.parts ?? []) {
    if ('lit' in p) {
      out += p.lit
      continue
    }
    const site = {file: mod.file ?? '', line: p.line, col: p.col}
    const tail = p.tail ?? ''
    // `{x!r:>{width}}`: a conversion, then a format spec whose own `{...}` fields are evaluated first.
    const tm = /^(?:=\s*)?(?:!(\w))?(?::(.*))?$/su.exec(tail)
    if (tm === null) return ev.opaque(`the f-string field {${p.expr.trim()}${tail}}`, `write {${p.expr.trim()}} or build the text with +`, site)
    let spec = tm[2] ?? ''
    if (spec.includes('{')) {
      let bad: PyValue | undefined
      spec = spec.replace(/\{([^{}]*)\}/g, (_m, inner: string) => {
        const v = field(inner, p.line, p.col)
        const t = v === undefined ? undefined : ev.toStr(v)
        if (t === undefined) bad ??= v ?? ev.opaque(`the f-string field {${inner}}`, 'use a name', site)
        return t ?? ''
      })
      if (bad) return bad.t === 'opaque' ? bad : {t: 'opaque', u: ev.unknownOf(bad, site)}
    }
    const v = field(p.expr, p.line, p.col)
    if (v === undefined) return ev.opaque(`the f-string field {${p.expr.trim()}}`, 'use a name or a simple expression in the field', site)
    if (v.t === 'opaque') return v
    const c = ev.callCtx(mod, {k: 'name', id: 'f-string', line: p.line, col: p.col})
    const prefix = tail.startsWith('=') ? `${p.expr}=` : ''
    const s = formatField(ev, v, tm[1] ?? (prefix && !tm[2] ? 'r' : undefined), spec, c)
    if (s === undefined) return {t: 'opaque', u: ev.unknownOf(v, site, `the f-string field {${p.expr.trim()}} (a ${typeName(v)})`)}
    ev.budget.chars(out.length + prefix.length + s.length, 'the f-string')
    out += prefix + s
  }
  return str(out)
}
