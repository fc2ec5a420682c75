/**
 * E6: what bento writes into bento.yaml, the real PyYAML (the BentoML 1.4.40 venv, `yaml.safe_load` as BentoML reads
 * it) reads back as the same string — C1 controls, NEL (a line break to YAML 1.1), the Unicode line and paragraph
 * separators, a BOM — and bento's own reader accepts it (no E_BENTO_CORRUPT).
 */
import {execFileSync} from 'node:child_process'
import {mkdir, mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {dumpYaml} from '../../src/bento/manifest.js'
import {bentomlVenv, runBento} from '../helpers/env.js'

const TRICKY = ['x\x80y', 'x\x85y', 'x\x9fy', 'a\u2028b', 'a\u2029b', '\ufeffz', 'a\x7fb', 'a\x00b\x1bc', 'cr\rlf', 'q"\\\'', 'é 😀 \xa0', 'tab\tx']

/** The values of `keys` in the YAML file, as PyYAML's safe_load reads them (JSON with \\u escapes: bytes-exact). */
function pyyamlRead(file: string, path: string): unknown {
  const script = `import json, sys, yaml\nd = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))\nfor k in sys.argv[2].split('.'): d = d[k]\nprint(json.dumps(d))`
  return JSON.parse(execFileSync(bentomlVenv('1.4.40').python, ['-c', script, file, path], {encoding: 'utf8'})) as unknown
}

describe('bento.yaml strings as PyYAML reads them (E6)', () => {
  it('dumpYaml: every tricky string reads back unchanged in PyYAML', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bento-e6-'))
    const file = join(dir, 'x.yaml')
    const labels = Object.fromEntries(TRICKY.map((v, i) => [`k${i}`, v]))
    await writeFile(file, dumpYaml({labels, envs: TRICKY.map((value, i) => ({name: `V${i}`, value}))}))
    expect(pyyamlRead(file, 'labels')).toEqual(labels)
    expect(pyyamlRead(file, 'envs')).toEqual(TRICKY.map((value, i) => ({name: `V${i}`, value})))
  })

  it('dumpYaml writes them as PyYAML safe_dump does: double-quoted, with its escapes', () => {
    expect(dumpYaml({a: 'x\x80y', b: 'x\x85y', c: 'x\x9fy', d: 'a\u2028b', e: '\ufeffz', f: 'a\x7fb'})).toBe(
      'a: "x\\x80y"\nb: "x\\Ny"\nc: "x\\x9Fy"\nd: "a\\Lb"\ne: "\\uFEFFz"\nf: "a\\x7Fb"\n',
    )
  })

  it('bento build with C1 characters in labels: exit 0, and BentoML reads the labels back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bento-e6-build-'))
    const project = join(dir, 'p')
    await mkdir(project)
    await writeFile(
      join(project, 'service.py'),
      'import bentoml\nimage = bentoml.images.Image(python_version="3.11")\n\n@bentoml.service(image=image)\nclass Svc:\n    @bentoml.api\n    def hello(self, name: str = "x") -> str:\n        return "hi " + name\n',
    )
    await writeFile(join(project, 'bentofile.yaml'), 'service: "service:Svc"\nlabels:\n  a: "x\\x80y"\n  b: "x\\x85y"\n  c: "x\\x9fy"\n  d: "a\\u2028b"\n  e: "\\ufeffz"\n')
    const r = await runBento(['build', project, '--json'], {env: {BENTOML_HOME: join(dir, 'home')}})
    expect(r.stderr).not.toContain('E_BENTO_CORRUPT')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as {path: string}
    expect(pyyamlRead(join(out.path, 'bento.yaml'), 'labels')).toEqual({a: 'x\x80y', b: 'x\x85y', c: 'x\x9fy', d: 'a\u2028b', e: '\ufeffz'})
    expect(await readFile(join(out.path, 'bento.yaml'), 'utf8')).toContain(`a: "x\\x80y"`)
  })
})
