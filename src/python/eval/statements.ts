/**
 * Compound statements: `if`/`elif`/`else`, `for`/`while` (with `break`, `continue`, `else`), `with`,
 * `try`/`except`/`else`/`finally` (handlers matched by exception type); and what the interpreter does with
 * statements it cannot run (a branch on an unknown condition): the names they bind become unknown, the objects they
 * may change are tainted, and inside a function the call's result becomes unknown when they may return.
 */
import type {Expr, Stmt} from '../parse/index.js'
import {exprLabel, exprText, forHeader, walkCalls} from './ast-text.js'
import {EXCEPTION_BASES, excChain} from './builtins.js'
import type {Runtime} from './context.js'
import {NONE} from './pyops.js'
import {PyRaise, Return, Signal} from './signals.js'
import type {ModuleState, PyValue, Site, Unknown} from './values.js'

function siteOf(mod: ModuleState, x: {line: number; col: number}): Site {
  return {file: mod.file ?? '', line: x.line, col: x.col}
}

/** Whether statements may leave the function (`return`, `raise`) — nested functions and classes aside. */
function exits(stmts: Stmt[]): boolean {
  return stmts.some((s) => s.kind !== 'def' && s.kind !== 'class' && ((s.kind === 'other' && (s.keyword === 'return' || s.keyword === 'raise')) || exits(s.body)))
}

export function execChain(ev: Runtime, chain: Array<Extract<Stmt, {kind: 'block'}>>, mod: ModuleState, env: Map<string, PyValue>, ns: Map<string, PyValue> | null): void {
  const head = chain[0] as Extract<Stmt, {kind: 'block'}>
  const site = siteOf(mod, head)
  switch (head.keyword) {
    case 'if': {
      for (let k = 0; k < chain.length; k++) {
        const b = chain[k] as Extract<Stmt, {kind: 'block'}>
        if (b.keyword === 'else') return ev.execBlock(b.body, mod, ns)
        const testExpr = b.exprs[0]
        const test = testExpr ? ev.eval(testExpr, mod, env) : NONE
        const t = ev.truth(test)
        if (t === undefined) {
          const u = ev.unknownOf(test, siteOf(mod, b))
          const why: Unknown = {why: `it is set under \`${b.keyword} ${exprLabel(testExpr ?? b.exprs[0] as Expr)}\` (line ${b.line}), a condition bento cannot evaluate: ${u.why}`, hint: u.hint, site: u.site}
          for (const rest of chain.slice(k)) skipUnknown(ev, rest.body, mod, env, why)
          return
        }
        if (t) return ev.execBlock(b.body, mod, ns)
      }
      return
    }
    case 'for': {
      const parsed = forHeader(head.exprs)
      const elseBody = chain.find((b) => b.keyword === 'else')?.body ?? []
      if (parsed === undefined) {
        const u: Unknown = {why: `it is set in a for loop at line ${head.line} whose header bento cannot read`, hint: 'loop over a list: for x in [...]', site}
        skipUnknown(ev, [...head.body, ...elseBody], mod, env, u)
        return
      }
      const iterV = ev.eval(parsed.iter, mod, env)
      const items = ev.iterate(iterV)
      if (items === undefined) {
        const u0 = ev.unknownOf(iterV, siteOf(mod, parsed.iter))
        const u: Unknown = {why: `it is set in \`for ... in ${exprLabel(parsed.iter)}\` (line ${head.line}), over values bento cannot list: ${u0.why}`, hint: u0.hint, site: u0.site}
        skipUnknown(ev, [...head.body, ...elseBody], mod, env, u)
        return
      }
      for (const item of [...items]) {
        ev.assign(parsed.target, item, mod, env)
        if (!loopBody(ev, head.body, mod, ns)) return
      }
      ev.execBlock(elseBody, mod, ns)
      return
    }
    case 'while': {
      const elseBody = chain.find((b) => b.keyword === 'else')?.body ?? []
      const testExpr = head.exprs[0]
      for (;;) {
        ev.tick(mod, head)
        const test = testExpr ? ev.eval(testExpr, mod, env) : NONE
        const t = ev.truth(test)
        if (t === undefined) {
          const u0 = ev.unknownOf(test, siteOf(mod, head))
          const u: Unknown = {why: `it is set in \`while ${exprLabel(testExpr as Expr)}\` (line ${head.line}), a condition bento cannot evaluate: ${u0.why}`, hint: u0.hint, site: u0.site}
          skipUnknown(ev, [...head.body, ...elseBody], mod, env, u)
          return
        }
        if (!t) break
        if (!loopBody(ev, head.body, mod, ns)) return
      }
      ev.execBlock(elseBody, mod, ns)
      return
    }
    case 'with': {
      for (const e of head.exprs) {
        const [ctxExpr, target] = e.k === 'ops' && e.ops.length === 1 && e.ops[0] === 'as' && e.parts.length === 2 ? [e.parts[0] as Expr, e.parts[1] as Expr] : [e, undefined]
        const v = ev.eval(ctxExpr, mod, env)
        if (target) {
          const u: Unknown = {why: `the value of \`with ${exprLabel(ctxExpr)} as ...\``, hint: 'use module-level values', site: siteOf(mod, ctxExpr)}
          ev.assign(target, v.t === 'opaque' ? v : {t: 'opaque', u}, mod, env)
        }
      }
      return ev.execBlock(head.body, mod, ns)
    }
    case 'try': {
      const handlers = chain.filter((b) => b.keyword === 'except')
      const elseBody = chain.find((b) => b.keyword === 'else')?.body ?? []
      const finallyBody = chain.find((b) => b.keyword === 'finally')?.body ?? []
      try {
        ev.execBlock(head.body, mod, ns)
        ev.execBlock(elseBody, mod, ns)
      } catch (e) {
        if (!(e instanceof PyRaise)) throw e
        let target: Expr | undefined
        const h = handlers.find((b) => {
          if (b.exprs.length === 0) return true
          const x = b.exprs[0] as Expr
          const [typeExpr, asName] = x.k === 'ops' && x.ops.length === 1 && x.ops[0] === 'as' && x.parts.length === 2 ? [x.parts[0] as Expr, x.parts[1]] : [b.exprs.length > 1 ? {k: 'seq', kind: 'tuple', items: b.exprs, line: x.line, col: x.col} as Expr : x, undefined]
          const hit = handles(ev, ev.eval(typeExpr, mod, env), e)
          if (hit === undefined) {
            // A handler bento cannot read (a type of a package it does not run): it may catch the exception.
            if (/\b(Exception|BaseException)\b/.test(exprText(typeExpr))) return true
            throw e
          }
          if (hit) target = asName
          return hit
        })
        if (h === undefined) throw e
        if (target) ev.assign(target, e.value, mod, env)
        ev.handling.push(e)
        try {
          ev.execBlock(h.body, mod, ns)
        } finally {
          ev.handling.pop()
        }
      } finally {
        ev.execBlock(finallyBody, mod, ns)
      }
      return
    }
    default:
      return
  }
}

/** Whether an `except` clause of type(s) `t` catches `e` (undefined: a type bento cannot tell). */
export function handles(ev: Runtime, t: PyValue, e: PyRaise): boolean | undefined {
  const chain = e.value.t === 'exc' ? e.value.chain : excChain(e.type)
  if (t.t === 'tuple') {
    let unknown = false
    for (const x of t.items) {
      const r = handles(ev, x, e)
      if (r) return true
      if (r === undefined) unknown = true
    }
    return unknown ? undefined : false
  }
  if (t.t === 'builtin' && t.name in EXCEPTION_BASES) return chain.includes(t.name)
  if (t.t === 'class') return chain.includes(t.cls.name)
  if (t.t === 'ext') {
    const last = t.name.slice(t.name.lastIndexOf('.') + 1)
    if (chain.includes(last)) return true
    return undefined
  }
  return undefined
}

/**
 * Statements bento does not run (a branch on an unknown condition, a loop over unknown values): every name they
 * bind becomes unknown, and every object they may change (a call's receiver or arguments, an attribute or item
 * they assign) is tainted — so nothing they might have done is silently lost.
 */
export function skipUnknown(ev: Runtime, stmts: Stmt[], mod: ModuleState, env: Map<string, PyValue>, u: Unknown): void {
  const opaque: PyValue = {t: 'opaque', u}
  // Inside a function, statements bento does not run may return: from here the result is unknown.
  if (ev.frames.length > 0 && exits(stmts)) throw new Return(opaque)
  const bindName = (t: Expr): void => {
    if (t.k === 'name') env.set(t.id, opaque)
    else if (t.k === 'seq') t.items.forEach(bindName)
    else if (t.k === 'starred') bindName(t.value)
    else if (t.k === 'attr' || t.k === 'sub') taintPure(ev, t.k === 'attr' ? t.obj : t.obj, mod, env, u)
  }
  const visitExpr = (e: Expr): void => {
    walkCalls(e, (x) => {
      if (x.k === 'walrus') env.set(x.target, opaque)
      if (x.k === 'call') {
        if (x.fn.k === 'attr') taintPure(ev, x.fn.obj, mod, env, u)
        for (const a of x.args) taintPure(ev, a.value, mod, env, u)
      }
    })
  }
  for (const s of stmts) {
    switch (s.kind) {
      case 'assign':
        s.targets.forEach(bindName)
        visitExpr(s.value)
        break
      case 'augassign': {
        const cur = s.target.k === 'name' ? env.get(s.target.id) ?? mod.env.get(s.target.id) : undefined
        if (cur && (cur.t === 'list' || cur.t === 'dict')) ev.taint(cur, u)
        bindName(s.target)
        visitExpr(s.value)
        break
      }
      case 'expr':
        s.exprs.forEach(visitExpr)
        break
      case 'import':
        for (const n of s.names) env.set(n.asName ?? n.module.split('.')[0] ?? n.module, opaque)
        break
      case 'from':
        for (const n of s.names) if (n.name !== '*') env.set(n.asName ?? n.name, opaque)
        break
      case 'def':
      case 'class':
        env.set(s.name, opaque)
        break
      case 'block':
        s.exprs.forEach(visitExpr)
        if (s.keyword === 'for') {
          const h = forHeader(s.exprs)
          if (h) bindName(h.target)
        }
        if (s.keyword === 'with') for (const e of s.exprs) if (e.k === 'ops' && e.ops[0] === 'as' && e.parts[1]) bindName(e.parts[1])
        skipUnknown(ev, s.body, mod, env, u)
        break
      case 'other':
        if (s.keyword === 'del') s.exprs.forEach(bindName)
        break
      default:
        break
    }
  }
}

/** Taint the object a name/attribute chain refers to, without running anything. */
export function taintPure(ev: Runtime, e: Expr, mod: ModuleState, env: Map<string, PyValue>, u: Unknown): void {
  if (e.k !== 'name' && e.k !== 'attr') {
    walkCalls(e, (x) => {
      if (x.k === 'name') taintPure(ev, x, mod, env, u)
    })
    return
  }
  let v: PyValue | undefined
  if (e.k === 'name') v = env.get(e.id) ?? mod.env.get(e.id)
  else {
    const base = e.obj.k === 'name' ? env.get(e.obj.id) ?? mod.env.get(e.obj.id) : undefined
    if (base?.t === 'module' && base.mod) v = base.mod.env.get(e.attr)
    else if (base !== undefined) v = base
  }
  if (v !== undefined) ev.taint(v, u)
}

/** One pass of a `for`/`while` body: false when it ran `break` (a `continue` just ends the pass). */
function loopBody(ev: Runtime, body: Stmt[], mod: ModuleState, ns: Map<string, PyValue> | null): boolean {
  try {
    ev.execBlock(body, mod, ns)
  } catch (e) {
    if (e instanceof Signal) return e.kind !== 'break'
    throw e
  }
  return true
}
