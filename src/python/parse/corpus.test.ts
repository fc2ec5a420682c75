/**
 * Every real service module in the shared corpus (../shared/corpus/bentofiles/*.service.py next to the repository)
 * is read with the `service:` of its bentofile: no exceptions, and spot checks of known results. Without the corpus
 * a local run skips this file; CI fails (test/helpers/shared.ts).
 */
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {CORPUS_DIR, sharedPresent} from '../../../test/helpers/shared.js'
import {readService, type ServiceInfo} from '../service/service.js'
import {openApiFor} from '../service/openapi.js'

const DIR = CORPUS_DIR
const hasCorpus = sharedPresent(DIR)

interface Case {
  id: string
  service: string
  info: ServiceInfo
}

function loadCases(): Case[] {
  if (!hasCorpus) return []
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.service.py'))
    .sort()
    .map((f) => {
      const yml = readFileSync(join(DIR, f.replace(/\.service\.py$/, '')), 'utf8')
      const m = /^service:\s*["']?([^"'#\n]*?)["']?\s*(#.*)?$/m.exec(yml)
      const service = (m?.[1] ?? '').trim()
      const importPath = (service === '' ? 'service.py' : service).split(':')[0] ?? ''
      const rel = importPath.endsWith('.py') ? importPath.replace(/^\.\//, '') : `${importPath.split('.').join('/')}.py`
      const files = new Map([[rel, readFileSync(join(DIR, f), 'utf8')]])
      return {id: f.slice(0, 3), service, info: readService({files, service})}
    })
}

describe.runIf(hasCorpus)('corpus service modules', () => {
  const cases = loadCases()
  const byId = (id: string): ServiceInfo => {
    const c = cases.find((x) => x.id === id)
    if (c === undefined) throw new Error(`corpus case ${id} missing`)
    return c.info
  }

  it('reads all of them without throwing, and every diagnostic names a file', () => {
    expect(cases.length).toBeGreaterThan(70)
    for (const c of cases) {
      for (const d of c.info.diagnostics) expect(d.file, `${c.id} ${d.message}`).not.toBe('')
      expect(() => openApiFor(c.info, {bentoName: 'x', version: 'None'})).not.toThrow()
    }
    // most of the corpus is understood
    const known = cases.filter((c) => c.info.kind !== 'unknown')
    expect(known.length).toBeGreaterThan(cases.length * 0.85)
  })

  it('001 quickstart: legacy sklearn iris classifier', () => {
    const info = byId('001')
    expect(info).toMatchObject({kind: 'legacy', name: 'iris_classifier', importString: 'service:svc', modelTags: ['iris_clf:latest']})
    expect(info.runners).toMatchObject([{name: 'iris_clf', runnableType: 'SklearnRunnable'}])
    expect(info.apis).toMatchObject([{name: 'classify', inputType: 'NumpyNdarray', outputType: 'NumpyNdarray'}])
  })

  it('009 service with models=[...] and no runners', () => {
    expect(byId('009')).toMatchObject({name: 'test-bento-service-with-models', modelTags: ['testmodel', 'another'], runners: []})
  })

  it('011 SDK iris classifier with bentoml.models.get class attribute', () => {
    expect(byId('011')).toMatchObject({kind: 'sdk', name: 'IrisClassifier', bentoName: 'iris_classifier', modelTags: ['iris_sklearn:latest']})
    expect(byId('011').apis).toMatchObject([{name: 'classify', route: '/classify'}])
  })

  it('013 model.with_options(...).to_runner() and a triton runner that cannot be read', () => {
    const info = byId('013')
    expect(info.runners).toMatchObject([{name: 'onnx-yolov5', runnableType: 'ONNXRunnable'}])
    expect(info.diagnostics.some((d) => d.message.includes('triton_runner') && d.message.includes('bentoml.triton.Runner'))).toBe(true)
  })

  it('018 two framework runners and File() → BytesIOFile', () => {
    const info = byId('018')
    expect(info.runners.map((r) => r.runnableType)).toEqual(['EasyOCRRunnable', 'Detectron2Runnable'])
    expect(info.apis[0]?.inputType).toBe('BytesIOFile')
  })

  it('021 pre-1.0 load_runner is flagged', () => {
    expect(byId('021').diagnostics.some((d) => d.message.includes('pre-1.0 API'))).toBe(true)
  })

  it('029 SDK name= in the decorator, 073 dynamic f-string tag warning with file:line', () => {
    expect(byId('029').name).toBe('bentovllm-phi-3-mini-4k-instruct-service')
    const w = byId('073').diagnostics.find((d) => d.message.includes('bentoml.mlflow.get'))
    expect(w?.message).toContain('serving/tabular-diabetes-regressor/bento-ml/service.py:14')
    expect(w?.hint).toContain('`models` in bentofile.yaml')
  })

  it('057 dotted module path and custom route; 077 empty service discovers svc', () => {
    expect(byId('057')).toMatchObject({module: 'src.service', importString: 'src.service:rf_service', entryFile: 'src/service.py'})
    expect(byId('057').apis.map((a) => a.route)).toEqual(['login', 'v1/models/rf_classifier/predict'])
    expect(byId('077')).toMatchObject({importString: 'service:svc', name: 'fuel_consumption_ratings_model'})
  })

  it('006 merge-conflict markers and 076 an unimportable service path give diagnostics', () => {
    expect(byId('006').diagnostics.some((d) => d.message.startsWith('could not follow Python syntax'))).toBe(true)
    expect(byId('076').diagnostics[0]).toMatchObject({severity: 'error', key: 'service'})
  })
})
