import {mkdtemp, mkdir, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {modelsOfBento} from '../bento/models-of.js'
import {readBentoInfo} from './info.js'
import {SPEC2_BENTO_YAML} from '../../test/helpers/store-fixtures.js'
import {dirSizes, readBentoSummary, scanBentoYaml} from './summary.js'

// As PyYAML (BentoML) writes it: indentless sequences, unquoted scalars where it can.
const PYYAML = `service: service:svc
name: clasificador_iris
version: qv5kx3hix2dpoax4
bentoml_version: 1.4.15
creation_time: '2025-05-30T10:20:30.123456+00:00'
labels:
  owner: bentoml-team
models:
- tag: flower_model:zfshqahix2dpoax4
  module: bentoml.keras
  creation_time: '2025-05-30T10:11:12.123456+00:00'
entry_service: clasificador_iris
runners:
- name: flower_model
  models:
  - flower_model:zfshqahix2dpoax4
`
// As bento writes it: every string quoted.
const BENTO = `service: 'service:svc'
name: 'iris'
version: '1234'
bentoml_version: '1.4.15'
creation_time: '2026-11-25T11:26:32.646000+00:00'
labels: {}
models:
- tag: 'iris_clf:bv6q2hxiyojuiax4'
  module: 'bentoml.sklearn'
  creation_time: '2026-11-25T11:26:26.776699+00:00'
- tag: 'other:v1'
  module: 'bentoml.sklearn'
  creation_time: '2026-11-25T11:26:26+00:00'
  registry: 'bentoml'
envs: []
`

describe('scanBentoYaml', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'summary-'))
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it.each([
    ['pyyaml', PYYAML],
    ['bento', BENTO],
    ['spec2', SPEC2_BENTO_YAML],
  ])('agrees with the full reader on %s output', async (_name, text) => {
    const d = path.join(dir, _name)
    await mkdir(d, {recursive: true})
    await writeFile(path.join(d, 'bento.yaml'), text)
    const fast = scanBentoYaml(text)
    const full = await readBentoInfo(d)
    expect(fast).not.toBeNull()
    expect(fast!.name).toBe(full.name)
    expect(fast!.version).toBe(full.version)
    expect(fast!.creationTime.getTime()).toBe(full.creationTime.getTime())
    expect(fast!.models.map((m) => [m.tag, m.module, m.registry])).toEqual(full.models.map((m) => [m.tag, m.module, m.registry]))
    // Every model the Bento uses (services[].models included) is seen the same way by both readers.
    expect(modelsOfBento(fast!)).toEqual(modelsOfBento(full))
  })

  it('a Hugging Face entry (nested metadata) goes to the full reader', () => {
    const hf = BENTO.replace(
      "  registry: 'bentoml'\n",
      "  registry: huggingface\n  metadata:\n    model_id: org/m\n    revision: abc\n",
    )
    expect(scanBentoYaml(hf)).toBeNull()
  })

  it('falls back (null) on what it does not understand', () => {
    expect(scanBentoYaml(BENTO.replace(/models:\n[\s\S]*?envs/, "models: [{tag: 'a:b'}]\nenvs"))).toBeNull()
    expect(scanBentoYaml(BENTO.replace("name: 'iris'\n", ''))).toBeNull()
    expect(scanBentoYaml(BENTO.replace("version: '1234'", 'version: &v x'))).toBeNull()
    expect(scanBentoYaml(BENTO.replace("creation_time: '2026-11-25T11:26:32.646000+00:00'", 'creation_time: |\n  x'))).toBeNull()
  })

  it('readBentoSummary reads a corrupt file through the full reader (its error)', async () => {
    const d = path.join(dir, 'corrupt')
    await mkdir(d, {recursive: true})
    await writeFile(path.join(d, 'bento.yaml'), 'name: [\n')
    await expect(readBentoSummary(d)).rejects.toMatchObject({code: 'E_BENTO_CORRUPT'})
  })
})

describe('dirSizes', () => {
  it('adds up the whole tree and each models/<name>/<version>, following symlinks and skipping broken ones', async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'sizes-'))
    try {
      await mkdir(path.join(d, 'models/m/v1/sub'), {recursive: true})
      await writeFile(path.join(d, 'models/m/v1/a'), 'x'.repeat(10))
      await writeFile(path.join(d, 'models/m/v1/sub/b'), 'x'.repeat(5))
      await writeFile(path.join(d, 'models/m/latest'), 'v1')
      await writeFile(path.join(d, 'bento.yaml'), 'x'.repeat(100))
      await symlink('bento.yaml', path.join(d, 'link'))
      await symlink('missing', path.join(d, 'broken'))
      const s = dirSizes(d)
      expect(s.total).toBe(10 + 5 + 2 + 100 + 100)
      expect(s.models.get('m:v1')).toBe(15)
    } finally {
      await rm(d, {recursive: true, force: true})
    }
  })
})
