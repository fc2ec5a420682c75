import {describe, expect, it} from 'vitest'

import {TemplateSyntaxError, dockerfileQuote, renderTemplate, shellQuote} from './template.js'

describe('template language', () => {
  it('substitutes, loops and branches; standalone control lines vanish', () => {
    const t = ['A={{ a }}', '{{#if on}}', 'on', '{{else}}', 'off', '{{/if}}', '{{#each xs}}', '- {{ this.n }}{{#if @last}}!{{/if}}', '{{/each}}', 'end', ''].join('\n')
    expect(renderTemplate(t, {a: 1, on: [], xs: [{n: 'x'}, {n: 'y'}]})).toBe('A=1\noff\n- x\n- y!\nend\n')
  })

  it('filters quote for shell, Dockerfile and JSON', () => {
    expect(renderTemplate('{{ v | sh }} {{ v | dq }} {{ v | json }} {{ l | shwords }}', {v: `it's $x "q"`, l: ['a b', 'c']})).toBe(
      `'it'"'"'s $x "q"' "it's \\$x \\"q\\"" "it's $x \\"q\\"" 'a b' c`,
    )
    expect(shellQuote('')).toBe("''")
    expect(shellQuote('plain-1.0')).toBe('plain-1.0')
    expect(() => dockerfileQuote('a\nb')).toThrow(/line break/)
  })

  it('blocks can be overridden with access to the original', () => {
    expect(renderTemplate('{{#block B}}\ninner\n{{/block}}\n', {}, {B: (o) => `before\n${o}after\n`})).toBe('before\ninner\nafter\n')
  })

  it('comments, including ones containing }}', () => {
    expect(renderTemplate('{{! short }}\n{{!-- has {{ x }} inside --}}\nok\n', {})).toBe('ok\n')
  })

  it('reports errors with the line', () => {
    const err = (t: string, d: Record<string, unknown> = {}): TemplateSyntaxError => {
      try {
        renderTemplate(t, d)
      } catch (e) {
        return e as TemplateSyntaxError
      }
      throw new Error('no error')
    }
    expect(err('a\n{{#if x}}\nb\n').line).toBe(2)
    expect(err('a\nb {{ missing }}\n').message).toBe('line 2: "missing" has no value')
    expect(err('{{ x | nope }}', {x: 1}).message).toContain('unknown filter')
    expect(err('{{#loop x}}{{/loop}}').message).toContain('unknown section')
    expect(err('{{/if}}').message).toContain('unexpected')
  })
})
