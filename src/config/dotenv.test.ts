import {describe, expect, it} from 'vitest'

import {parseDotenv, parseDotenvEntries, parsePythonDotenv} from './dotenv.js'

const ENVIRON = {HOME_X: '/home/x', A: 'from-env', EMPTY: ''}

describe('parseDotenv: what BentoML 1.4.15 parse_dotenv returned for the same text and environment', () => {
  // Observed by running bentoml._internal.utils.dotenv.parse_dotenv (1.4.15; 1.4.40 has the same file) with
  // os.environ = ENVIRON.
  it.each([
    ['A=a\nB=${A}-$A\nC=$HOME_X/${HOME_X}\nD=${NOPE}', {A: 'a', B: 'a-a', C: '/home/x//home/x', D: ''}],
    ['A=v\nX=$A$AB', {A: 'v', X: 'vvB'}],
    ['E=\'$A\'\nF="$A"\nG=\\$A\nH="\\$A"', {E: '$A', F: 'from-env', G: '$A', H: '$A'}],
    ['export K1=1\nK2: two\nK3 = three # comment\nK4=\'it\'s\' # c\nK5=\'a#b\' # c\nK6="x\\"y"', {K1: '1', K2: 'two', K3: 'three', K4: "it's", K5: 'a#b', K6: 'x"y'}],
    ['Y=${HOME_X}\r\nZ=$EMPTY!', {Y: '/home/x', Z: '!'}],
    ['# only comment\n\nbad line\n=novalue\nW=', {W: ''}],
  ])('%j', (text, expected) => {
    expect(parseDotenv(text, ENVIRON)).toEqual(expected)
  })

  it('gives each assignment its line', () => {
    expect(parseDotenvEntries('# c\nA=1\n\nB=2\n', {})).toEqual([
      {key: 'A', value: '1', line: 2},
      {key: 'B', value: '2', line: 4},
    ])
  })
})

describe('parsePythonDotenv (load_dotenv of python-dotenv 1.2.1)', () => {
  it('reads the lines as python-dotenv does (observed: DotEnv(stream=…).dict() of the same text)', () => {
    const text = "A=1\n# c\nexport B=\"x y\" # note\nC=plain  # cmt\nD\nE='single q'\nF = spaced \nG=a#b\n  H=indented\nI=\nJ=''\n"
    // python-dotenv: [A 1] [B x y] [C plain] [D None] [E single q] [F spaced] [G a#b] [H indented] [I ''] [J ''];
    // D (no value) sets nothing.
    expect(parsePythonDotenv(text)).toEqual({
      vars: [['A', '1'], ['B', 'x y'], ['C', 'plain'], ['E', 'single q'], ['F', 'spaced'], ['G', 'a#b'], ['H', 'indented'], ['I', ''], ['J', '']],
    })
  })

  it('what it does not model is unsupported, at its line: interpolation, escapes, multi-line values', () => {
    expect(parsePythonDotenv('A=1\nB=${A}\n')).toEqual({unsupported: expect.stringContaining('$'), line: 2})
    expect(parsePythonDotenv('A="a\\nb"\n')).toMatchObject({line: 1})
    expect(parsePythonDotenv('A="multi\nline"\n')).toMatchObject({line: 1})
  })
})
