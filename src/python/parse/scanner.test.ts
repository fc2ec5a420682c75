import {describe, expect, it} from 'vitest'

import {type Expr, scanModule, type Stmt} from './scanner.js'

const first = (src: string): Stmt => scanModule(src).stmts[0] as Stmt
const valueOf = (src: string): Expr => {
  const s = first(src)
  if (s.kind !== 'assign') throw new Error(`not an assignment: ${s.kind}`)
  return s.value
}

/** A compact rendering of an expression tree. */
function show(e: Expr): string {
  switch (e.k) {
    case 'name':
      return e.id
    case 'str':
      return JSON.stringify(e.value)
    case 'num':
      return e.text
    case 'const':
      return e.id
    case 'attr':
      return `${show(e.obj)}.${e.attr}`
    case 'call':
      return `${show(e.fn)}(${e.args.map((a) => `${a.star ?? ''}${a.name ? `${a.name}=` : ''}${show(a.value)}`).join(', ')})`
    case 'sub':
      return `${show(e.obj)}[${e.index.map(show).join(', ')}]`
    case 'seq':
      return `${e.kind}(${e.items.map(show).join(', ')})`
    case 'dict':
      return `{${e.entries.map((x) => (x.key ? `${show(x.key)}: ${show(x.value)}` : `**${show(x.value)}`)).join(', ')}}`
    case 'starred':
      return `*${show(e.value)}`
    case 'bin':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`
    case 'unary':
      return `(${e.op} ${show(e.operand)})`
    case 'bool':
      return `(${e.values.map(show).join(` ${e.op} `)})`
    case 'cmp':
      return `(${show(e.left)} ${e.ops.map((o, i) => `${o} ${show(e.rights[i] as Expr)}`).join(' ')})`
    case 'ifexp':
      return `(${show(e.body)} if ${show(e.test)} else ${show(e.orelse)})`
    case 'walrus':
      return `(${e.target} := ${show(e.value)})`
    case 'ops':
      return `ops[${e.ops.join(' ')}]`
  }
}

describe('scanner expressions', () => {
  it.each([
    ['x = a + b * c - d', '((a + (b * c)) - d)'],
    ['x = -1 ** 2', '(- (1 ** 2))'],
    ['x = not a and b or c', '(((not a) and b) or c)'],
    ['x = a if b else c', '(a if b else c)'],
    ['x = a < b <= c', '(a < b <= c)'],
    ['x = a not in b', '(a not in b)'],
    ['x = a is not None', '(a is not None)'],
    ['x = [*A, "b"]', 'list(*A, "b")'],
    ['x = {"a": 1, **B}', '{"a": 1, **B}'],
    ['x = {}', '{}'],
    ['x = {1, 2}', 'set(1, 2)'],
    ['x = (1,)', 'tuple(1)'],
    ['x = f(*a, k=v, **kw)', 'f(*a, k=v, **kw)'],
    ['x = d | {"a": 1}', '(d | {"a": 1})'],
    ['x = [p for p in ps]', 'ops[[]]'],
    ['x = lambda: 1', 'ops[lambda :]'],
    ['x = a[1:2]', 'a[ops[:]]'],
  ])('%s', (src, want) => {
    expect(show(valueOf(src))).toBe(want)
  })

  it('walrus in an if header', () => {
    const s = first('if POST := args.post:\n    pass\n')
    expect(s.kind === 'block' && show(s.exprs[0] as Expr)).toBe('(POST := args.post)')
  })

  it('augmented assignment and bare annotations are statements of their own', () => {
    const a = first('REQS += ["x"]\n')
    expect(a.kind === 'augassign' && [show(a.target), a.op, show(a.value)]).toEqual(['REQS', '+', 'list("x")'])
    const b = first('name: str\n')
    expect(b.kind === 'annotation' && [show(b.target), show(b.annotation)]).toEqual(['name', 'str'])
  })

  it('for headers keep the target and the iterable', () => {
    const s = first('for k, v in d.items():\n    pass\n')
    expect(s.kind === 'block' && s.exprs.map(show)).toEqual(['k', '(v in d.items())'])
  })
})
