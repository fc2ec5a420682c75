import {describe, expect, it} from 'vitest'

import {type Expr, type Param, scanModule, type Stmt} from './scanner.js'

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
    case 'lambda':
      return `(lambda ${e.params.map(showParam).join(', ')}: ${show(e.body)})`
    case 'comp': {
      const gens = e.gens.map((g) => ` for ${show(g.target)} in ${show(g.iter)}${g.ifs.map((x) => ` if ${show(x)}`).join('')}`).join('')
      return `${e.kind}[${e.key ? `${show(e.key)}: ` : ''}${show(e.elt)}${gens}]`
    }
    case 'slice':
      return `${e.lower ? show(e.lower) : ''}:${e.upper ? show(e.upper) : ''}${e.step ? `:${show(e.step)}` : ''}`
  }
}

function showParam(p: Param): string {
  const star = p.kind === 'vararg' ? '*' : p.kind === 'kwarg' ? '**' : ''
  const tag = p.kind === 'kwonly' ? 'kw:' : p.kind === 'posonly' ? 'pos:' : ''
  return `${tag}${star}${p.name}${p.annotation ? `: ${show(p.annotation)}` : ''}${p.default ? `=${show(p.default)}` : ''}`
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
    ['x = [p for p in ps]', 'list[p for p in ps]'],
    ['x = [a + b for a, b in xs if a if b for c in a]', 'list[(a + b) for tuple(a, b) in xs if a if b for c in a]'],
    ['x = {k: v for k, v in d.items()}', 'dict[k: v for tuple(k, v) in d.items()]'],
    ['x = {k for k in d}', 'set[k for k in d]'],
    ['x = (y if c else z for y in ys)', 'gen[(y if c else z) for y in ys]'],
    ['x = sum(y for y in ys)', 'sum(gen[y for y in ys])'],
    ['x = lambda: 1', '(lambda : 1)'],
    ['x = lambda a, b=2, *c, d, **e: a + b', '(lambda a, b=2, *c, kw:d, **e: (a + b))'],
    ['x = sorted(xs, key=lambda p: p[0])', 'sorted(xs, key=(lambda p: p[0]))'],
    ['x = {"f": lambda a, b: a}', '{"f": (lambda a, b: a)}'],
    ['x = f(lambda a, b: a, 3)', 'f((lambda a, b: a), 3)'],
    ['x = lambda a=lambda: 1: a', '(lambda a=(lambda : 1): a)'],
    ['x = a[1:2]', 'a[1:2]'],
    ['x = a[::-1]', 'a[::(- 1)]'],
    ['x = a[i:]', 'a[i:]'],
    ['x = a[:, 1]', 'a[:, 1]'],
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

  it('a lambda default does not split the assignment', () => {
    const s = first('f = lambda x=1: x\n')
    expect(s.kind === 'assign' && s.targets.length === 1 && show(s.value)).toBe('(lambda x=1: x)')
  })

  it('def parameters are structured: kinds, annotations, defaults', () => {
    const s = first('def f(a, /, b: int = 1, *args: str, c, d=2, **kw) -> None:\n    return a, b\n')
    expect(s.kind === 'def' && s.parameters.map(showParam)).toEqual(['pos:a', 'b: int=1', '*args: str', 'kw:c', 'kw:d=2', '**kw'])
    const r = s.body[0]
    expect(r?.kind === 'other' && r.keyword === 'return' && r.value && show(r.value)).toBe('tuple(a, b)')
    const k = first('def g(*, x=lambda: 1):\n    pass\n')
    expect(k.kind === 'def' && k.parameters.map(showParam)).toEqual(['kw:x=(lambda : 1)'])
  })

  it('return without a value and raise with a cause', () => {
    const s = first('def f():\n    return\n')
    const r = s.body[0]
    expect(r?.kind === 'other' && r.keyword === 'return' && r.value).toBe(undefined)
    const e = first('raise ValueError("x") from err\n')
    expect(e.kind === 'other' && e.value && e.cause && [show(e.value), show(e.cause)]).toEqual(['ValueError("x")', 'err'])
  })
})
