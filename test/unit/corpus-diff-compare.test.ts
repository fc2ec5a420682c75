import {describe, expect, it} from 'vitest'

import {compareBentos, diffPaths, requirementNames} from '../../scripts/corpus-diff/compare.js'

describe('corpus-diff compare', () => {
  it('reads requirements by package name (PEP 503), options and comments left out', () => {
    expect(requirementNames('bentoml>=1.3.20\nPillow==11.1.0  # img\n-r other.txt\n--index-url x\n\nzope_interface[x]==1\nbentoml==1.4.40\n')).toEqual(['bentoml', 'pillow', 'zope-interface'])
  })

  it('ignores version and creation times; compares requirements by name, src as a set', () => {
    const base = {name: 'a', version: '1', creation_time: 't1', models: [{tag: 'm:1', creation_time: 'x'}], image: {python_requirements: 'torch==2\nbentoml==1.4.40\n'}}
    const r = compareBentos(
      {info: base, src: ['a.py', 'b.py']},
      {info: {...base, version: '2', creation_time: 't2', models: [{tag: 'm:1', creation_time: 'y'}], image: {python_requirements: 'bentoml==1.4.40\ntorch==2.1\n'}}, src: ['a.py', 'c.py']},
    )
    expect(r.agreeing).toEqual(['name', 'models', 'image'])
    expect(r.differing).toEqual([{key: 'src', paths: ['src: only bentoml ["b.py"], only bento ["c.py"]']}])
  })

  it('names the leaf paths that differ, keys in any order', () => {
    expect(diffPaths({a: {b: 1, c: [1, {d: 2}]}}, {a: {c: [1, {d: 3}], b: 1}})).toEqual(['a.c[1].d: 2 ≠ 3'])
    expect(diffPaths({x: 'en'}, {})).toEqual(['x: "en" ≠ (missing)'])
  })
})
