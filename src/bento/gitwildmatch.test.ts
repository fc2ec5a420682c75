import {describe, expect, it} from 'vitest'

import {ConfigError} from '../errors.js'
import {compileGitWildMatch, GitWildMatchError, PathSpec} from './gitwildmatch.js'

const matching = (pattern: string, paths: string[]): string[] => {
  const {regex} = compileGitWildMatch(pattern)
  return paths.filter((p) => regex?.test(p) ?? false)
}

// Cases ported from pathspec's tests/test_04_gitignore_spec.py (GitIgnoreSpecPattern, which pathspec 1.x
// registers as "gitwildmatch"); expectations checked against pathspec 1.1.1.
describe('compileGitWildMatch: cases from pathspec', () => {
  const cases: Array<{pattern: string; paths: string[]; match: string[]; include?: boolean}> = [
    {
      pattern: '/an/absolute/file/path',
      paths: ['an/absolute/file/path', 'an/absolute/file/path/foo', 'foo/an/absolute/file/path'],
      match: ['an/absolute/file/path', 'an/absolute/file/path/foo'],
    },
    {pattern: '!/foo/build', paths: ['build/file.py', 'foo/build/file.py'], match: ['foo/build/file.py'], include: false},
    {
      pattern: 'spam',
      paths: ['spam', 'spam/', 'foo/spam', 'spam/foo', 'foo/spam/bar', 'spamx', 'xspam'],
      match: ['spam', 'spam/', 'foo/spam', 'spam/foo', 'foo/spam/bar'],
    },
    {pattern: 'foo/spam', paths: ['foo/spam', 'foo/spam/bar', 'bar/foo/spam'], match: ['foo/spam', 'foo/spam/bar']},
    {pattern: '!temp', paths: ['temp/foo'], match: ['temp/foo'], include: false},
    {pattern: 'spam/**', paths: ['spam/bar', 'foo/spam/bar', 'spam'], match: ['spam/bar']},
    {
      pattern: 'left/**/right',
      paths: ['left/right', 'left/bar/right', 'left/foo/bar/right', 'left/bar/right/foo', 'foo/left/bar/right'],
      match: ['left/right', 'left/bar/right', 'left/foo/bar/right', 'left/bar/right/foo'],
    },
    {pattern: '**', paths: ['x', 'y.py', 'A/x', 'A/B/C/y.py'], match: ['x', 'y.py', 'A/x', 'A/B/C/y.py']},
    {pattern: '**/spam', paths: ['spam', 'foo/spam', 'foo/spam/bar'], match: ['spam', 'foo/spam', 'foo/spam/bar']},
    {pattern: '**/', paths: ['x', 'a/x', 'a/b/c'], match: ['a/x', 'a/b/c']},
    {pattern: '*/', paths: ['x', 'a/x', 'a/b/c'], match: ['a/x', 'a/b/c']},
    {
      pattern: 'foo-*-bar',
      paths: ['foo--bar', 'foo-hello-bar', 'a/foo-hello-bar', 'foo-hello-bar/b', 'a/foo-hello-bar/b', 'foo-bar'],
      match: ['foo--bar', 'foo-hello-bar', 'a/foo-hello-bar', 'foo-hello-bar/b', 'a/foo-hello-bar/b'],
    },
    {
      pattern: '~temp-*',
      paths: ['~temp-', '~temp-foo', '~temp-foo/bar', 'foo/~temp-bar', 'foo/~temp-bar/baz', 'temp-x'],
      match: ['~temp-', '~temp-foo', '~temp-foo/bar', 'foo/~temp-bar', 'foo/~temp-bar/baz'],
    },
    {
      pattern: '*.py',
      paths: ['bar.py', 'bar.py/', 'foo/bar.py', 'foo/bar.py/baz', 'bar.pyc', 'barpy'],
      match: ['bar.py', 'bar.py/', 'foo/bar.py', 'foo/bar.py/baz'],
    },
    {pattern: 'dir/', paths: ['dir', 'dir/', 'foo/dir/', 'foo/dir/bar'], match: ['dir/', 'foo/dir/', 'foo/dir/bar']},
    {pattern: 'asteris\\*', paths: ['asteris*', 'asterisk'], match: ['asteris*']},
    {pattern: 'as\\*erisk', paths: ['as*erisk', 'asterisk'], match: ['as*erisk']},
    {pattern: '\\*sterisk', paths: ['*sterisk', 'asterisk'], match: ['*sterisk']},
    {pattern: '\\!mark', paths: ['!mark', 'mark'], match: ['!mark']},
    {pattern: '\\#sign', paths: ['#sign', 'sign'], match: ['#sign']},
    {
      pattern: 'dirG/',
      paths: ['fileA', 'dirD/fileE', 'dirG/dirH/fileI', 'dirG/fileO', 'dirG'],
      match: ['dirG/dirH/fileI', 'dirG/fileO'],
    },
    {pattern: 'dirG/*', paths: ['fileA', 'dirG/dirH/fileI', 'dirG/fileO', 'dirG'], match: ['dirG/dirH/fileI', 'dirG/fileO']},
    {pattern: '*.txt', paths: ['file.txt', 'anydir/file.txt'], match: ['file.txt', 'anydir/file.txt']},
    {pattern: 'a[^b]c', paths: ['agc', 'ayc', 'abc', 'adc/x'], match: ['agc', 'ayc', 'adc/x']},
    {pattern: 'a[!b]c', paths: ['agc', 'ayc', 'abc'], match: ['agc', 'ayc']},
    {pattern: '!libfoo/**', paths: ['libfoo/__init__.py', 'libfoo'], match: ['libfoo/__init__.py'], include: false},
    {pattern: 'foo**', paths: ['foosrodah', 'foo', 'xfoo'], match: ['foosrodah', 'foo']},
    {pattern: 'foo**/bar', paths: ['foobar', 'foosrodah/bar', 'x/foo/bar'], match: ['foosrodah/bar']},
    {pattern: ' foo', paths: ['foo', ' foo', '  foo'], match: [' foo']},
    {pattern: '  foo', paths: ['foo', ' foo', '  foo'], match: ['  foo']},
    {pattern: '[!a-z]', paths: ['a', 'A', '1', 'x/B'], match: ['A', '1', 'x/B']},
  ]
  for (const c of cases) {
    it(`${JSON.stringify(c.pattern)}`, () => {
      expect(matching(c.pattern, c.paths)).toEqual(c.match)
      expect(compileGitWildMatch(c.pattern).include).toBe(c.include ?? true)
    })
  }
})

describe('compileGitWildMatch: no-ops, errors and Python regex semantics', () => {
  it('returns a null regex for blank lines, comments, "/" and invalid range notation', () => {
    for (const p of ['', '   ', '\t\n', '# Cork soakers.', '#', '/', '[', '[!', '[a-z', 'a[!', '[!]', '[^]', 'a[]']) {
      expect(compileGitWildMatch(p).regex, JSON.stringify(p)).toBeNull()
    }
  })

  it('rejects a trailing escape, a lone "!" and a reversed range like pathspec', () => {
    for (const p of ['\\', 'foo\\', '!', 'a[z-a]', 'foo\\ \n']) {
      expect(() => compileGitWildMatch(p), JSON.stringify(p)).toThrow(GitWildMatchError)
    }
  })

  it('strips trailing whitespace (Python isspace set) but keeps an escaped trailing space', () => {
    expect(matching('foo.txt  \t', ['foo.txt', 'foo.txt '])).toEqual(['foo.txt'])
    expect(matching('foo\x1c', ['foo', 'foo\x1c'])).toEqual(['foo']) // \x1c is whitespace for Python
    expect(matching('foo\ufeff', ['foo', 'foo\ufeff'])).toEqual(['foo\ufeff']) // BOM is not
    expect(matching('foo\\ ', ['foo', 'foo '])).toEqual(['foo '])
  })

  it('"[" after "!"/"^" and a leading "]" are literal inside a class', () => {
    expect(matching('[]]x', [']x', 'ax'])).toEqual([']x'])
    expect(matching('[!]]y', [']y', 'ay'])).toEqual(['ay'])
    expect(matching('[]a]', [']', 'a', 'b'])).toEqual([']', 'a'])
    expect(matching('[\\]', ['\\', 'x'])).toEqual(['\\']) // backslashes are literal in a class
    expect(matching('x[[:alpha:]]', ['x:]', 'xa]', 'xa'])).toEqual(['x:]', 'xa]']) // no POSIX classes
  })

  it('a negated class can match "/" (as pathspec does)', () => {
    expect(matching('a[!x]b', ['a/b', 'ayb', 'axb'])).toEqual(['a/b', 'ayb'])
  })

  it('"?" and classes consume one code point; "." never matches a newline; "$" allows one final newline', () => {
    expect(matching('?x', ['😀x', 'ax', 'x'])).toEqual(['😀x', 'ax'])
    expect(matching('**', ['\r', '\n', 'a'])).toEqual(['\r', 'a'])
    expect(matching('*.log', ['a.log\n', 'a.log\nx', 'a.log'])).toEqual(['a.log\n', 'a.log'])
  })
})

describe('PathSpec', () => {
  it('the last matching pattern wins; negations re-include', () => {
    const spec = PathSpec.fromLines(['*.log', '!keep.log', 'sub/keep.log'])
    expect(spec.matchFile('a.log')).toBe(true)
    expect(spec.matchFile('keep.log')).toBe(false)
    expect(spec.matchFile('x/keep.log')).toBe(false)
    expect(spec.matchFile('sub/keep.log')).toBe(true)
    expect(spec.matchFile('a.txt')).toBe(false)
  })

  it('a negation alone matches nothing', () => {
    expect(PathSpec.fromLines(['!a']).matchFile('a')).toBe(false)
  })

  it('normalizes a leading "/" or "./" of the file path, as pathspec.util.normalize_file', () => {
    const spec = PathSpec.fromLines(['/top.py'])
    expect(spec.matchFile('./top.py')).toBe(true)
    expect(spec.matchFile('/top.py')).toBe(true)
    expect(spec.matchFile('x/top.py')).toBe(false)
  })

  it('collects every invalid pattern into one ConfigError, located by describe()', () => {
    let err: unknown
    try {
      PathSpec.fromLines(['ok', 'bad\\', '', '!'], (i) => ({file: '.bentoignore', line: i + 1}))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    const diags = (err as ConfigError).diagnostics
    expect(diags.map((d) => [d.file, d.line, d.severity])).toEqual([
      ['.bentoignore', 2, 'error'],
      ['.bentoignore', 4, 'error'],
    ])
    expect(diags[0]?.message).toContain('bad\\')
  })
})

describe('PathSpec.dirVerdict (used to skip directories)', () => {
  it('proves a directory fully matched or unmatched only when no later pattern can change it', () => {
    expect(PathSpec.fromLines(['data/']).dirVerdict('data')).toBe('all-match')
    expect(PathSpec.fromLines(['data/']).dirVerdict('x/data')).toBe('all-match')
    expect(PathSpec.fromLines(['/data']).dirVerdict('x/data')).toBe('none-match') // anchored elsewhere
    expect(PathSpec.fromLines(['data/', '!keep.csv']).dirVerdict('data')).toBe('mixed')
    expect(PathSpec.fromLines(['data/', '!/other/keep.csv']).dirVerdict('data')).toBe('all-match')
    expect(PathSpec.fromLines(['!data/', 'data/']).dirVerdict('data')).toBe('all-match')
    expect(PathSpec.fromLines(['data/', '!data/']).dirVerdict('data')).toBe('none-match')
    expect(PathSpec.fromLines(['/src/**/*.py']).dirVerdict('tests')).toBe('none-match')
    expect(PathSpec.fromLines(['/src/**/*.py']).dirVerdict('src')).toBe('mixed')
    expect(PathSpec.fromLines(['[!a]rc/x']).dirVerdict('tests')).toBe('mixed') // classes: no proof
    expect(PathSpec.fromLines(['*']).dirVerdict('a/b')).toBe('all-match')
    expect(PathSpec.fromLines([]).dirVerdict('a')).toBe('none-match')
  })

  it('is sound: a decided verdict agrees with matchFile for every path below (randomized)', () => {
    const pats = ['a/', '!a/', '*.py', '!*.py', '/a/b', 'b/**', '!b/**/x', '**/x/', '[!a]/x', 'a/*', '!a/*/b', '*', '?/']
    const names = ['a', 'b', 'x', 'x.py', 'ab']
    const dirs = ['a', 'b', 'a/b', 'b/a', 'x', 'a/x', 'ab/x']
    let seed = 7
    const next = (n: number): number => {
      seed = (seed * 48271) % 2147483647
      return seed % n
    }
    let decided = 0
    for (let t = 0; t < 400; t++) {
      const spec = PathSpec.fromLines(Array.from({length: 1 + next(4)}, () => pats[next(pats.length)] as string))
      for (const dir of dirs) {
        const v = spec.dirVerdict(dir)
        if (v === 'mixed') continue
        decided++
        for (const a of names) {
          for (const b of ['', ...names]) {
            const file = b ? `${dir}/${a}/${b}` : `${dir}/${a}`
            expect(spec.matchFile(file), `${JSON.stringify(spec.patterns.map((p) => p.pattern))} ${file}`).toBe(
              v === 'all-match',
            )
          }
        }
      }
    }
    expect(decided).toBeGreaterThan(100)
  })
})
