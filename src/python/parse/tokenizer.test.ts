import {describe, expect, it} from 'vitest'
import {tokenize, type Token} from './tokenizer.js'

const kinds = (ts: Token[]): string[] => ts.map((t) => (t.kind === 'op' || t.kind === 'name' ? t.text : t.kind))
const strings = (src: string): Token[] => tokenize(src).filter((t) => t.kind === 'string')

describe('tokenize', () => {
  it('produces names, ops, newlines with 1-based line/col', () => {
    const ts = tokenize('x = foo.bar(1)\ny')
    expect(kinds(ts)).toEqual(['x', '=', 'foo', '.', 'bar', '(', 'number', ')', 'newline', 'y', 'newline', 'end'])
    const y = ts.find((t) => t.text === 'y')
    expect([y?.line, y?.col]).toEqual([2, 1])
    expect(ts.find((t) => t.text === 'bar')?.col).toBe(9)
  })

  it('emits INDENT/DEDENT and ignores blank and comment-only lines', () => {
    const ts = tokenize('class A:\n    # c\n\n    x = 1\n    def f(self):\n        pass\ny = 2\n')
    expect(kinds(ts).filter((k) => k === 'indent' || k === 'dedent')).toEqual(['indent', 'indent', 'dedent', 'dedent'])
    expect(ts.some((t) => t.kind === 'comment' && t.text === '# c')).toBe(true)
  })

  it('has no NEWLINE inside brackets and joins backslash continuations', () => {
    const ts = tokenize('a = f(\n  1,\n  2)\nb = 1 + \\\n  2\n')
    expect(ts.filter((t) => t.kind === 'newline')).toHaveLength(2)
    expect(ts.filter((t) => t.kind === 'indent')).toHaveLength(0)
  })

  it('decodes plain, raw, bytes and escaped strings', () => {
    const ss = strings(`'a\\tb' r'a\\tb' b'x\\x41' "q\\"q" u'\\u00e9' '\\N{DASH}'`)
    expect(ss.map((s) => s.value)).toEqual(['a\tb', 'a\\tb', 'xA', 'q"q', 'é', '\\N{DASH}'])
    expect(ss.map((s) => s.prefix)).toEqual(['', 'r', 'b', '', 'u', ''])
  })

  it('reads triple-quoted strings across lines and keeps line numbers right', () => {
    const ts = tokenize('"""doc\nstring with \'quotes\' and "x"\n"""\nz = 1\n')
    expect(ts[0]?.kind).toBe('string')
    expect(ts[0]?.value).toBe('doc\nstring with \'quotes\' and "x"\n')
    expect(ts.find((t) => t.text === 'z')?.line).toBe(4)
  })

  it('reads f-strings: literal parts, fields, escaped braces, nested quotes (PEP 701) and format specs', () => {
    const [a, b, c, d] = strings(`f"{NAME}:latest" f'{{x}}' f"{d["k"]!r:>{w}}" rf'\\d{x}'`)
    expect(a?.value).toBeNull()
    expect(a?.parts).toEqual([{expr: 'NAME', line: 1, col: 4}, {lit: ':latest'}])
    expect(b?.value).toBe('{x}')
    expect(c?.parts?.[0]).toMatchObject({expr: 'd["k"]'})
    expect(d?.parts).toEqual([{lit: '\\d'}, {expr: 'x', line: 1, col: 52}])
  })

  it('reports unterminated strings and stray characters as error tokens, never throwing', () => {
    const ts = tokenize('x = "abc\ny = `z`\nz = (1,\n')
    const errors = ts.filter((t) => t.kind === 'error').map((t) => t.text)
    expect(errors).toContain('unterminated string literal')
    expect(errors.some((e) => e.startsWith('invalid character'))).toBe(true)
    expect(errors).toContain("'(' was never closed")
    expect(ts[ts.length - 1]?.kind).toBe('end')
  })

  it('reports an inconsistent dedent', () => {
    const ts = tokenize('if x:\n        a\n    b\n')
    expect(ts.some((t) => t.kind === 'error' && t.text.includes('unindent'))).toBe(true)
  })

  it('handles CRLF, a BOM, numbers and non-ASCII names', () => {
    const ts = tokenize('\uFEFFmodèle = 0x1F + 1_000.5e-3j\r\nb = .5\r\n')
    expect(ts[0]).toMatchObject({kind: 'name', text: 'modèle', line: 1, col: 2})
    expect(ts.filter((t) => t.kind === 'number').map((t) => t.text)).toEqual(['0x1F', '1_000.5e-3j', '.5'])
    expect(ts.find((t) => t.text === 'b')?.line).toBe(2)
  })
})
