/**
 * The one rule for "every model a Bento uses": top-level `models` and `services[].models` (BentoML's
 * `all_models`), Hugging Face entries told apart, bytes found inside the Bento or in the store — and the four
 * commands that share it (list's Model Size, export, import, containerize) on a spec-2 Bento as BentoML 1.4.40
 * writes it (its model only in `services[0].models`, only in the store).
 */
import {createReadStream} from 'node:fs'
import {readdir, rm} from 'node:fs/promises'
import path from 'node:path'

import tar from 'tar-stream'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {FakeImageClient} from '../docker/fake-client.js'
import {memoryReporter} from '../reporter.js'
import {containerize} from '../services/containerize.js'
import {exportBentoService} from '../services/export.js'
import {importBentoService} from '../services/import.js'
import {listBentos} from '../services/list.js'
import {bentoFromDocument} from '../store/info.js'
import {tempDir} from '../../test/helpers/env.js'
import {writeTree} from '../../test/helpers/files.js'
import {modelYaml, SPEC2_BENTO_YAML} from '../../test/helpers/store-fixtures.js'
import {exportBento} from './archive/index.js'
import {locateBentoModels, modelsOfBento} from './models-of.js'

describe('modelsOfBento', () => {
  it('merges top-level models and services[].models by tag, in first-seen order, later entries winning', () => {
    const got = modelsOfBento(bentoFromDocument({
      models: [{tag: 'a:1', module: 'm.a', alias: 'first'}, 'legacy:2'],
      services: [
        {name: 'S1', models: [{tag: 'b:1', module: 'm.b'}, {tag: 'a:1', module: 'm.a2'}]},
        {name: 'S2', models: []},
        {name: 'S3', models: [{tag: 'Bert-Base:abc', registry: 'huggingface', metadata: {model_id: 'x/Bert-Base', revision: 'abc'}}]},
        'not a service',
      ],
    }))
    expect(got.map((m) => [m.tag, m.from, m.registry, m.module])).toEqual([
      ['a:1', 'services[0].models[1]', 'bentoml', 'm.a2'],
      ['legacy:2', 'models[1]', 'bentoml', ''],
      ['b:1', 'services[0].models[0]', 'bentoml', 'm.b'],
      ['bert-base:abc', 'services[2].models[0]', 'huggingface', ''],
    ])
    expect(got[3]?.metadata).toEqual({model_id: 'x/Bert-Base', revision: 'abc'})
  })

  it('ignores entries without a name:version tag and bento.yaml files without models', () => {
    expect(modelsOfBento(bentoFromDocument({}))).toEqual([])
    expect(modelsOfBento(bentoFromDocument({models: [{tag: ''}, {tag: 'noversion'}, 3, null], services: null}))).toEqual([])
  })
})

describe('the four commands share the rule (spec-2 Bento, model only in services[].models and only in the store)', () => {
  let home: string
  let out: string
  const bentoDir = (): string => path.join(home, 'bentos/iris/h7xpzohl7ooj6ax4')

  beforeEach(async () => {
    home = await tempDir('bento-models-of-')
    out = await tempDir('bento-models-of-out-')
    await writeTree(home, {
      models: {
        iris_clf: {
          latest: 'hxv3rsxl7oxj6ax4',
          hxv3rsxl7oxj6ax4: {
            'model.yaml': modelYaml('iris_clf', 'hxv3rsxl7oxj6ax4', '2026-11-29T13:46:13.337789+00:00'),
            'saved_model.pkl': 'x'.repeat(5000),
          },
        },
      },
      bentos: {
        iris: {
          latest: 'h7xpzohl7ooj6ax4',
          h7xpzohl7ooj6ax4: {
            'bento.yaml': SPEC2_BENTO_YAML,
            'README.md': '# iris\n',
            src: {'service.py': 'import bentoml\n'},
            env: {python: {'requirements.txt': 'scikit-learn\nbentoml==1.4.40\n'}, docker: {'entrypoint.sh': '#!/bin/sh\n'}},
            apis: {'openapi.yaml': '{}\n'},
          },
        },
      },
    })
  })

  afterEach(async () => {
    await rm(home, {recursive: true, force: true})
    await rm(out, {recursive: true, force: true})
  })

  it('locateBentoModels finds it in the store', () => {
    const [m, ...rest] = locateBentoModels(bentoDir(), bentoFromDocument({services: [{models: [{tag: 'iris_clf:hxv3rsxl7oxj6ax4'}]}]}), home)
    expect(rest).toEqual([])
    expect(m).toMatchObject({tag: 'iris_clf:hxv3rsxl7oxj6ax4', inBento: false, dir: path.join(home, 'models/iris_clf/hxv3rsxl7oxj6ax4')})
  })

  it('list: Model Size counts it', async () => {
    const {bentos, problems} = await listBentos({home})
    expect(problems).toEqual([])
    expect(bentos[0]?.modelSizeBytes).toBeGreaterThan(5000)
  })

  it('export carries it, and import into an empty home installs it', async () => {
    const archive = path.join(out, 'iris.tar')
    await exportBentoService({home, tag: 'iris:latest', out: archive})
    const names: string[] = []
    await new Promise<void>((resolve, reject) => {
      const extract = tar.extract()
      extract.on('entry', (h, stream, next) => {
        names.push(h.name)
        stream.resume()
        stream.on('end', next)
      })
      extract.on('finish', resolve)
      extract.on('error', reject)
      createReadStream(archive).pipe(extract)
    })
    expect(names).toContain('models/iris_clf/hxv3rsxl7oxj6ax4/saved_model.pkl')

    const other = await tempDir('bento-models-of-import-')
    try {
      const r = await importBentoService({home: other, archive})
      expect(r.models).toEqual([{tag: 'iris_clf:hxv3rsxl7oxj6ax4', imported: true}])
      expect(r.missingModels).toEqual([])
      expect(await readdir(path.join(other, 'models/iris_clf'))).toContain('hxv3rsxl7oxj6ax4')
    } finally {
      await rm(other, {recursive: true, force: true})
    }
  })

  it('export refuses when it is nowhere; import reports it missing when the archive lacks it', async () => {
    const bare = path.join(out, 'bare.tar')
    await exportBento({bentoDir: bentoDir(), modelDirs: [], out: bare})
    await rm(path.join(home, 'models/iris_clf'), {recursive: true})
    await expect(exportBentoService({home, tag: 'iris:latest', out: path.join(out, 'x.tar')})).rejects.toMatchObject({
      code: 'E_MODEL_NOT_FOUND',
    })
    const other = await tempDir('bento-models-of-import-')
    try {
      expect((await importBentoService({home: other, archive: bare})).missingModels).toEqual(['iris_clf:hxv3rsxl7oxj6ax4'])
    } finally {
      await rm(other, {recursive: true, force: true})
    }
  })

  it('containerize puts it in the image', async () => {
    const client = new FakeImageClient()
    await containerize({
      home,
      tag: 'iris:latest',
      imageTags: ['iris:test'],
      push: false,
      client,
      dockerConfigDir: out,
      reporter: memoryReporter(),
    })
    const files = client.imports.flatMap((b) => b.files)
    expect(files.some((f) => f.endsWith('iris_clf/hxv3rsxl7oxj6ax4/saved_model.pkl'))).toBe(true)
  })
})
