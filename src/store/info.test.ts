import {utimes, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {Alias} from 'yaml'
import {describe, expect, it, vi} from 'vitest'

import {StoreError} from '../errors.js'
import {parseBentoYaml, parseIsoDatetime, readBentoInfo, readModelInfo} from './info.js'
import {tempDir} from '../../test/helpers/env.js'
import {writeTree} from '../../test/helpers/files.js'
import {bentoYaml, modelYaml, SPEC2_BENTO_YAML} from '../../test/helpers/store-fixtures.js'

async function modelDir(yaml: string): Promise<string> {
  const dir = await tempDir()
  await writeFile(path.join(dir, 'model.yaml'), yaml)
  return dir
}

async function corruptError(dir: string): Promise<StoreError> {
  const error = await readModelInfo(dir).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(StoreError)
  return error as StoreError
}

describe('parseIsoDatetime', () => {
  it('parses what Python isoformat writes', () => {
    expect(parseIsoDatetime('2025-05-30T10:11:12.123456+00:00')?.toISOString()).toBe('2025-05-30T10:11:12.123Z')
    expect(parseIsoDatetime('2025-05-30T10:11:12+02:00')?.toISOString()).toBe('2025-05-30T08:11:12.000Z')
    expect(parseIsoDatetime('2025-05-30 10:11:12Z')?.toISOString()).toBe('2025-05-30T10:11:12.000Z')
    expect(parseIsoDatetime('2025-05-30T10:11:12-0130')?.toISOString()).toBe('2025-05-30T11:41:12.000Z')
    expect(parseIsoDatetime('2025-05-30T10:11:12')?.getHours()).toBe(10) // naive → local time
  })

  it('rejects what is not a date-time', () => {
    expect(parseIsoDatetime('yesterday')).toBeNull()
    expect(parseIsoDatetime('2025-13-01T00:00:00')).toBeNull()
  })
})

describe('readModelInfo', () => {
  it('reads a model.yaml written by BentoML', async () => {
    const info = await readModelInfo(await modelDir(modelYaml('flower_model', 'zfshqahix2dpoax4', '2025-05-30T10:11:12.123456+00:00')))
    expect(info).toMatchObject({
      name: 'flower_model',
      version: 'zfshqahix2dpoax4',
      module: 'bentoml.keras',
      labels: {},
      options: {partial_kwargs: {}, include_optimizer: false},
      metadata: {},
      context: {
        framework_name: 'keras',
        framework_versions: {tensorflow: '2.15.1'},
        bentoml_version: '1.4.15',
        python_version: '3.11.7',
      },
      signatures: {predict: {batchable: false}},
      api_version: 'v1',
      creation_time: '2025-05-30T10:11:12.123456+00:00',
    })
    expect(info.creationTime.toISOString()).toBe('2025-05-30T10:11:12.123Z')
  })

  it('accepts a YAML timestamp and keeps the raw text', async () => {
    const yaml = modelYaml('m', 'v1', 'X').replace("creation_time: 'X'", 'creation_time: 2025-05-30 10:11:12.5+00:00')
    const info = await readModelInfo(await modelDir(yaml))
    expect(info.creation_time).toBe('2025-05-30 10:11:12.5+00:00')
    expect(info.creationTime.toISOString()).toBe('2025-05-30T10:11:12.500Z')
  })

  it('defaults signatures and ignores unknown keys', async () => {
    const yaml = modelYaml('m', 'v1', '2025-01-01T00:00:00+00:00')
      .replace(/signatures:\n {2}predict:\n {4}batchable: false\n/, '')
      .concat('bentoml_version: 0.13\nsomething_new: 1\n')
    const info = await readModelInfo(await modelDir(yaml))
    expect(info.signatures).toEqual({})
  })

  it.each(['name', 'version', 'module', 'labels', 'options', 'metadata', 'context', 'api_version', 'creation_time'])(
    'names the file and the missing key %s',
    async (key) => {
      const lines = modelYaml('m', 'v1', '2025-01-01T00:00:00+00:00').split('\n')
      const start = lines.findIndex((l) => l.startsWith(`${key}:`))
      let end = start + 1
      while (end < lines.length && lines[end]?.startsWith(' ')) end++
      lines.splice(start, end - start)
      const dir = await modelDir(lines.join('\n'))
      const error = await corruptError(dir)
      expect(error.code).toBe('E_MODEL_CORRUPT')
      expect(error.message).toContain(path.join(dir, 'model.yaml'))
      expect(error.message).toContain(`${key}: missing required key`)
      expect(error.data).toMatchObject({key})
      expect(error.hint).toContain(dir)
    },
  )

  it('names nested keys and lines', async () => {
    const yaml = modelYaml('m', 'v1', '2025-01-01T00:00:00+00:00').replace('  framework_name: keras\n', '')
    const error = await corruptError(await modelDir(yaml))
    expect(error.message).toMatch(/model\.yaml:\d+ context\.framework_name: missing required key/)
  })

  it('rejects a version PyYAML reads as a number, with its line', async () => {
    const yaml = modelYaml('m', 'v1', '2025-01-01T00:00:00+00:00').replace("version: 'v1'", 'version: 1.0')
    const error = await corruptError(await modelDir(yaml))
    expect(error.message).toMatch(/model\.yaml:2 version: expected a string/)
  })

  it('rejects non-string labels and bad creation_time', async () => {
    const labels = modelYaml('m', 'v1', '2025-01-01T00:00:00+00:00').replace('labels: {}', 'labels: {a: yes}')
    expect((await corruptError(await modelDir(labels))).message).toContain('labels: expected a mapping of strings')
    const time = modelYaml('m', 'v1', 'last tuesday')
    expect((await corruptError(await modelDir(time))).message).toMatch(/:19 creation_time: not an ISO 8601/)
  })

  it('reports invalid YAML with a line, and a missing file', async () => {
    const error = await corruptError(await modelDir('name: m\nlabels: [unclosed\n'))
    expect(error.message).toMatch(/model\.yaml:\d+ invalid YAML/)
    // The parser's own "at line 3, column 1:" tail (its code frame is cut off) is dropped: the line is in front.
    expect(error.message).toMatch(/model\.yaml:3 invalid YAML: Flow sequence in block collection must be .* with a \]$/)
    expect(error.message).not.toMatch(/at line|column|:$/)
    const tab = await corruptError(await modelDir('name: m\nlabels:\n\t- x\n'))
    expect(tab.message).toMatch(/model\.yaml:3 invalid YAML: Tabs are not allowed as indentation$/)
    expect(tab.data).toMatchObject({line: 3})
    const missing = await corruptError(await tempDir())
    expect(missing.message).toContain('model.yaml is missing')
    const scalar = await corruptError(await modelDir('just a string\n'))
    expect(scalar.message).toContain('expected a mapping at the top level')
  })
})

describe('readBentoInfo', () => {
  it('reads bento.yaml leniently', async () => {
    const dir = await tempDir()
    await writeTree(dir, {
      'bento.yaml': bentoYaml('iris', 'v1', '2025-05-30T10:20:30.123456+00:00', [
        {tag: 'flower_model:zfshqahix2dpoax4', creationTime: '2025-05-30T10:11:12.123456+00:00'},
      ]).concat('docker:\n  distro: debian\n'),
    })
    const info = await readBentoInfo(dir)
    expect(info).toMatchObject({
      name: 'iris',
      version: 'v1',
      service: 'service:svc',
      bentoml_version: '1.4.15',
      creation_time: '2025-05-30T10:20:30.123456+00:00',
      labels: {},
      models: [
        {tag: 'flower_model:zfshqahix2dpoax4', module: 'bentoml.keras', creation_time: '2025-05-30T10:11:12.123456+00:00'},
      ],
    })
    expect(info.raw.docker).toEqual({distro: 'debian'})
    expect(info.raw.spec).toBe(1)
  })

  it('accepts legacy tag-string models and a missing creation_time (file mtime)', async () => {
    const dir = await tempDir()
    await writeFile(path.join(dir, 'bento.yaml'), "name: a\nversion: '1'\nmodels:\n- m:v1\nlabels: {x: 1}\n")
    const when = new Date('2024-02-03T04:05:06Z')
    await utimes(path.join(dir, 'bento.yaml'), when, when)
    const info = await readBentoInfo(dir)
    expect(info.models).toEqual([{tag: 'm:v1', module: '', creation_time: ''}])
    expect(info.labels).toEqual({x: '1'})
    expect(info.creationTime.toISOString()).toBe(when.toISOString())
    expect(info.creation_time).toBe('')
  })

  it('reads a spec-2 bento.yaml (as BentoML 1.4.40 writes it) into the typed manifest, once', async () => {
    const dir = await tempDir()
    await writeFile(path.join(dir, 'bento.yaml'), SPEC2_BENTO_YAML)
    const info = await readBentoInfo(dir)
    expect(info).toMatchObject({
      spec: 2,
      services: [{name: 'Iris', models: [{tag: 'iris_clf:hxv3rsxl7oxj6ax4', module: 'bentoml.sklearn', creation_time: '2026-11-29T13:46:13.337789+00:00'}]}],
      image: {base_image: 'python:3.11-slim', python_version: '3.11', post_commands: [], build_include: []},
      docker: {base_image: null, python_version: null, distro: null, cuda_version: null, system_packages: [], env: []},
      conda: {environment_yml: null, dependencies: [], pip: []},
      envs: [],
      bentomlProblem: null,
    })
    expect(info.image?.commands).toHaveLength(1)
    // The text parser (what `bento build` reads its own bento.yaml back with) gives the same value.
    expect(parseBentoYaml(SPEC2_BENTO_YAML)).toEqual(info)
  })

  it('spec 1: docker (env as a mapping or K=V list), envs with stage defaulted, conda; what BentoML would refuse', () => {
    const text =
      "service: s:svc\nname: a\nversion: '1'\ncreation_time: '2025-05-30T10:20:30+00:00'\nspec: 1\n" +
      "docker:\n  base_image: null\n  python_version: '3.10'\n  system_packages: [curl, null]\n  env: [A=1, 'B=x=y', bad]\n" +
      'envs:\n- name: M\n  value: 3\n- name: S\n  stage: build\n- value: nameless\nconda:\n  environment_yml: env.yml\n'
    const info = parseBentoYaml(text)
    expect(info.spec).toBe(1)
    expect(info.image).toBeNull()
    expect(info.docker).toEqual({base_image: null, python_version: '3.10', distro: null, cuda_version: null, system_packages: ['curl'], env: [{name: 'A', value: '1'}, {name: 'B', value: 'x=y'}]})
    expect(info.envs).toEqual([{name: 'M', value: '3', stage: 'all'}, {name: 'S', value: '', stage: 'build'}])
    expect(info.conda.environment_yml).toBe('env.yml')
    expect(info.bentomlProblem).toEqual({key: 'envs[2].name', message: 'expected a string'})
    expect(parseBentoYaml(text.replace("+00:00'", "'")).bentomlProblem?.key).toBe('creation_time')
    expect(parseBentoYaml(text.replace('service: s:svc\n', '')).bentomlProblem).toEqual({key: 'service', message: 'missing required key'})
  })

  it('requires name and version', async () => {
    const dir = await tempDir()
    await writeFile(path.join(dir, 'bento.yaml'), 'service: a:b\nname: a\n')
    await expect(readBentoInfo(dir)).rejects.toMatchObject({code: 'E_BENTO_CORRUPT', message: expect.stringContaining('version: missing required key')})
  })

  it.each([
    ['an alias without its anchor', 'x: *nope\n', /alias '\*nope' has no anchor/],
    ['a merge key of a scalar', 'x: {<<: 1}\n', /merge key '<<' needs a mapping/],
    ['a python tag (D10)', "x: !!python/object/apply:os.system ['true']\n", /tag '!!python\/object\/apply:os.system' cannot be read/],
    ['a local tag', 'x: !secret 1\n', /tag '!secret' cannot be read/],
    ['an alias bomb', `l0: &a [${'x,'.repeat(99)}x]\nl1: &b [${'*a,'.repeat(99)}*a]\nl2: &c [${'*b,'.repeat(99)}*b]\nl3: [${'*c,'.repeat(99)}*c]\n`, /alias bomb/],
  ])('refuses %s, as BentoML cannot read it, naming file and line (D2)', async (_what, extra, message) => {
    const base = bentoYaml('iris', 'v1', '2025-05-30T10:20:30.123456+00:00')
    const dir = await tempDir()
    await writeFile(path.join(dir, 'bento.yaml'), base + extra)
    const line = base.split('\n').length
    const error = await readBentoInfo(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({code: 'E_BENTO_CORRUPT', message: expect.stringMatching(message), data: {line: expect.any(Number)}})
    expect((error as StoreError).data?.line).toBeGreaterThanOrEqual(line)
    const mdir = await modelDir(modelYaml('m', 'v1', '2025-05-30T10:11:12.123456+00:00') + extra)
    expect(await corruptError(mdir)).toMatchObject({code: 'E_MODEL_CORRUPT', message: expect.stringMatching(message)})
  })
})

describe('bento.yaml with many aliases', () => {
  // yaml's toJS resolves each alias by a walk of every alias and anchor before it (32,000 aliases: 12.5 s).
  it('is read without resolving the aliases one by one', () => {
    const resolve = vi.spyOn(Alias.prototype, 'resolve')
    try {
      const text = `${SPEC2_BENTO_YAML}x_extra: &e {k: 1}\nx_many: [${Array(1000).fill('*e').join(', ')}]\n`
      expect(parseBentoYaml(text).name).toBe(parseBentoYaml(SPEC2_BENTO_YAML).name)
      expect(resolve).not.toHaveBeenCalled()
    } finally {
      resolve.mockRestore()
    }
  })
})
