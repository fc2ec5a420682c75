import {describe, expect, it} from 'vitest'
import {inlineRequirements, normalizePackageName, packageNamed, parseRequirements} from './requirements.js'

const TEXT = `# comment
scikit-learn==1.4.2  # pinned
Pandas[performance]>=2 ; python_version >= "3.9"
tensorflow \\
  ==2.15.1

-r other.txt
-e git+https://github.com/x/y.git#egg=y
--index-url https://example.com/simple
my_pkg.Name @ https://example.com/my_pkg-1.0-py3-none-any.whl
https://example.com/pkg-1.0.tar.gz
./local/pkg
bentoml>=1.4,<1.5
ruamel.yaml
`

describe('parseRequirements', () => {
  const reqs = parseRequirements(TEXT)

  it('names every requirement line, PEP 503 normalized, with its starting line', () => {
    expect(reqs.map((r) => [r.name, r.line])).toEqual([
      ['scikit-learn', 2],
      ['pandas', 3],
      ['tensorflow', 4],
      [null, 7],
      [null, 8],
      [null, 9],
      ['my-pkg-name', 10],
      [null, 11],
      [null, 12],
      ['bentoml', 13],
      ['ruamel-yaml', 14],
    ])
  })

  it('keeps the raw text without comments, continuations joined', () => {
    expect(reqs[0]?.raw).toBe('scikit-learn==1.4.2')
    expect(reqs[2]?.raw).toBe('tensorflow   ==2.15.1')
    expect(reqs[3]?.raw).toBe('-r other.txt')
  })

  it('splits a named requirement into specifier, extras and direct reference', () => {
    const parts = (text: string): unknown => {
      const [r] = parseRequirements(text)
      return r === undefined ? undefined : {specifier: r.specifier, extras: r.extras, url: r.url}
    }
    expect(parts('bentoml[io, grpc] >= 1.4.22 , <1.5 ; python_version >= "3.9"')).toEqual({specifier: '>=1.4.22,<1.5', extras: ['io', 'grpc'], url: false})
    expect(parts('bentoml')).toEqual({specifier: '', extras: [], url: false})
    expect(parts('bentoml (==1.4.40)')).toEqual({specifier: '==1.4.40', extras: [], url: false})
    expect(parts('bentoml[io] @ git+https://github.com/bentoml/BentoML@main')).toEqual({specifier: '', extras: ['io'], url: true})
    expect(parts('-r other.txt')).toEqual({specifier: '', extras: [], url: false})
  })

  it('packageNamed compares normalized names', () => {
    expect(packageNamed(reqs, 'Scikit_Learn')?.line).toBe(2)
    expect(packageNamed(reqs, 'TensorFlow')?.raw).toContain('2.15.1')
    expect(packageNamed(reqs, 'keras')).toBeUndefined()
    expect(normalizePackageName('A.b__C')).toBe('a-b-c')
  })

  it('handles empty and comment-only input', () => {
    expect(parseRequirements('')).toEqual([])
    expect(parseRequirements('# only\n\n   \n')).toEqual([])
  })
})

describe('inlineRequirements', () => {
  const tree: Record<string, string> = {
    'requirements.txt': 'numpy\n-r extra/base.txt\n--constraint=extra/cons.txt  # pins\nbentoml[io]>=1.4.22\n',
    'extra/base.txt': 'scikit-learn\n-r more.txt\n',
    'extra/more.txt': 'pandas<3\n',
    'extra/cons.txt': 'scipy<2\n',
  }
  const read = (p: string): string | undefined => tree[p]

  it('inlines -r and -c files where they are named, relative to the file naming them (as BentoML)', () => {
    const r = inlineRequirements('requirements.txt', read)
    expect(r.problems).toEqual([])
    expect(r.text).toBe('numpy\nscikit-learn\npandas<3\nscipy<2\nbentoml[io]>=1.4.22\n')
    expect(r.files).toEqual(['requirements.txt', 'extra/base.txt', 'extra/more.txt', 'extra/cons.txt'])
  })

  it('names the line of a missing nested file, and of a cycle', () => {
    const r = inlineRequirements('r.txt', (p) => ({'r.txt': 'a\n-r sub/missing.txt\n-r b.txt\n', 'b.txt': '-r r.txt\n'})[p])
    expect(r.problems).toEqual([
      {file: 'r.txt', line: 2, message: '"-r sub/missing.txt" names requirements file sub/missing.txt, which does not exist', hint: 'paths in r.txt are relative to the directory of r.txt'},
      {file: 'b.txt', line: 1, message: '"-r r.txt" includes r.txt, which includes b.txt again', hint: 'remove the cycle'},
    ])
  })

  it('keeps other option lines and accepts -rfile and paths above the file', () => {
    const r = inlineRequirements('a/r.txt', (p) => ({'a/r.txt': '--index-url https://x/simple\n-r../common.txt\n', 'common.txt': 'requests\n'})[p])
    expect(r.text).toBe('--index-url https://x/simple\nrequests\n')
  })
})
