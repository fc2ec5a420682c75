import {describe, expect, it} from 'vitest'
import {readService, type ReadServiceOptions} from './service.js'
import {runnableTypeForModule, toSnakeCase} from '../../bentoml/names.js'

const SEED = `import bentoml
from bentoml.io import NumpyNdarray

iris_clf_runner = bentoml.keras.get("flower_model:latest").to_runner()

svc = bentoml.Service("clasificador_iris", runners=[iris_clf_runner])


@svc.api(input=NumpyNdarray(), output=NumpyNdarray())
async def classify(input_series):
    return await iris_clf_runner.async_run(input_series)
`

const read = (files: Record<string, string>, service: string, extra: Partial<ReadServiceOptions> = {}) =>
  readService({files: new Map(Object.entries(files)), service, ...extra})

describe('readService: legacy services', () => {
  it('reads the seed keras service', () => {
    const info = read({'service.py': SEED}, 'service:svc')
    expect(info).toMatchObject({
      module: 'service',
      attr: 'svc',
      importString: 'service:svc',
      kind: 'legacy',
      name: 'clasificador_iris',
      bentoName: 'clasificador_iris',
      entryFile: 'service.py',
      scannedFiles: ['service.py'],
      modelTags: ['flower_model:latest'],
    })
    expect(info.runners).toEqual([
      {name: 'flower_model', runnableType: 'KerasRunnable', modelTag: 'flower_model:latest', models: ['flower_model:latest'], embedded: false, file: 'service.py', line: 4},
    ])
    expect(info.apis).toHaveLength(1)
    expect(info.apis[0]).toMatchObject({name: 'classify', route: 'classify', inputType: 'NumpyNdarray', outputType: 'NumpyNdarray', method: 'POST'})
    expect(info.models).toEqual([
      expect.objectContaining({tag: 'flower_model:latest', registry: 'bentoml', framework: 'keras', via: 'bentoml.keras.get', usage: 'runner', line: 4}),
    ])
    expect(info.diagnostics).toEqual([])
  })

  it('accepts the file form and the empty service (service.py discovery)', () => {
    expect(read({'service.py': SEED}, 'service.py:svc').importString).toBe('service:svc')
    const found = read({'service.py': SEED}, '')
    expect(found.importString).toBe('service:svc')
    expect(found.kind).toBe('legacy')
  })

  it('reads a sklearn service with a custom name, route, doc, embedded runner and models=[]', () => {
    const src = `import bentoml
from bentoml.io import JSON, PandasDataFrame, File
scaler = bentoml.models.get("scaler:v1")
clf = bentoml.sklearn.get('Fraud_Clf:latest')
runner = clf.to_runner(name="clf_runner", embedded=True)
svc = bentoml.Service(name="Fraud", runners=[runner], models=[scaler])

@svc.api(input=PandasDataFrame(orient="records"), output=JSON(), route="/v1/predict", name="predict_v1")
def predict(df):
    """Predict fraud."""
    return {}

@svc.api(File(), bentoml.io.Text())
def upload(f): ...
`
    const info = read({'fraud.py': src}, 'fraud:svc')
    expect(info.name).toBe('fraud')
    expect(info.diagnostics.map((d) => d.message)).toEqual(['BentoML converts service name "Fraud" to lowercase: "fraud"'])
    expect(info.runners).toMatchObject([{name: 'clf_runner', runnableType: 'SklearnRunnable', modelTag: 'Fraud_Clf:latest', embedded: true}])
    expect(info.modelTags).toEqual(['scaler:v1', 'Fraud_Clf:latest'])
    expect(info.apis).toMatchObject([
      {name: 'predict_v1', route: '/v1/predict', inputType: 'PandasDataFrame', outputType: 'JSON', doc: 'Predict fraud.', input: {type: 'PandasDataFrame', args: {orient: 'records'}}},
      {name: 'upload', route: 'upload', inputType: 'BytesIOFile', outputType: 'Text', doc: null},
    ])
  })

  it('follows import aliases', () => {
    const src = `import bentoml as bm
from bentoml import keras as k, Service
from bentoml.io import NumpyNdarray as ND
import bentoml.io as bio
r1 = k.get("a:1").to_runner()
r2 = bm.pytorch.get("b:2").to_runner()
svc = Service("s", runners=[r1, r2])
@svc.api(input=ND(dtype="float32"), output=bio.JSON())
def f(x): ...
`
    const info = read({'service.py': src}, 'service:svc')
    expect(info.runners.map((r) => [r.name, r.runnableType])).toEqual([['a', 'KerasRunnable'], ['b', 'NewClass']])
    expect(info.apis[0]).toMatchObject({inputType: 'NumpyNdarray', outputType: 'JSON', input: {args: {dtype: 'float32'}}})
  })

  it('follows module constants, concatenation and f-strings of constants', () => {
    const src = `import bentoml
NAME = "iris"
MODEL_TAG = NAME + ":latest"
OTHER = f"{NAME}_scaler:v2"
r = bentoml.sklearn.get(MODEL_TAG).to_runner()
m = bentoml.models.get(tag=OTHER)
svc = bentoml.Service(NAME, runners=[r], models=[m])
`
    const info = read({'service.py': src}, 'service:svc')
    expect(info.modelTags).toEqual(['iris_scaler:v2', 'iris:latest'])
    expect(info.name).toBe('iris')
  })

  it('reads runners, constants and the service from other local modules', () => {
    const files = {
      'app/__init__.py': '',
      'app/config.py': 'MODEL = "xgb_model:latest"\n',
      'app/runners.py': 'import bentoml\nfrom .config import MODEL\nrunner = bentoml.xgboost.get(MODEL).to_runner()\n',
      'app/service.py': `import bentoml
from bentoml.io import JSON
from app.runners import runner
from . import config
svc = bentoml.Service("multi", runners=[runner])
extra = bentoml.models.get(config.MODEL)
@svc.api(input=JSON(), output=JSON())
def go(x): ...
`,
      'unrelated.py': 'import bentoml\nbentoml.models.get("never:read")\n',
    }
    const info = read(files, 'app.service:svc')
    expect(info.scannedFiles).toEqual(['app/service.py', 'app/__init__.py', 'app/runners.py', 'app/config.py'])
    expect(info.runners).toMatchObject([{name: 'xgb_model', runnableType: 'XGBoostRunnable', modelTag: 'xgb_model:latest', file: 'app/runners.py'}])
    expect(info.models.map((m) => m.tag)).not.toContain('never:read')
    // file form inside a package gives the dotted module name
    expect(read(files, 'app/service.py:svc').importString).toBe('app.service:svc')
  })

  it('reads bentoml.Runner(CustomRunnable) runners', () => {
    const src = `import bentoml
class MyRunnable(bentoml.Runnable):
    pass
m = bentoml.models.get("emb:latest")
r = bentoml.Runner(MyRunnable, name="Emb", models=[m])
r2 = bentoml.Runner(MyRunnable)
svc = bentoml.Service("x", runners=[r, r2])
`
    const info = read({'service.py': src}, 'service:svc')
    expect(info.runners).toMatchObject([
      {name: 'emb', runnableType: 'MyRunnable', modelTag: 'emb:latest', models: ['emb:latest']},
      {name: 'myrunnable', runnableType: 'MyRunnable', modelTag: '', models: []},
    ])
    expect(info.modelTags).toEqual(['emb:latest'])
  })

  it('warns with file:line for dynamic tags and for models BentoML will not pack', () => {
    const src = `import os, bentoml
tag = os.environ["TAG"]
r = bentoml.sklearn.get(tag).to_runner()
loaded = bentoml.sklearn.load_model("side:1")
svc = bentoml.Service("x", runners=[r])
def later(t):
    return bentoml.models.get(f"{t}:latest")
`
    const info = read({'service.py': src}, 'service:svc')
    const warnings = info.diagnostics.filter((d) => d.severity === 'warning')
    expect(warnings.some((d) => d.line === 3 && d.message.includes('service.py:3') && d.hint?.includes('`models` in bentofile.yaml'))).toBe(true)
    expect(warnings.some((d) => d.line === 7 && d.message.includes('service.py:7'))).toBe(true)
    expect(warnings.some((d) => d.line === 4 && d.message.includes('"side:1"') && d.message.includes('does not pack'))).toBe(true)
    expect(info.runners).toEqual([])
    // a tag declared in bentofile.yaml silences the "not packed" warning
    const declared = read({'service.py': src}, 'service:svc', {declaredModels: ['side:1']})
    expect(declared.diagnostics.some((d) => d.message.includes('"side:1"'))).toBe(false)
  })

  it('reports invalid and duplicate API names as errors', () => {
    const src = `import bentoml
from bentoml.io import Text
svc = bentoml.Service("x")
@svc.api(input=Text(), output=Text())
def metrics(x): ...
@svc.api(input=Text(), output=Text(), name="a")
def f(x): ...
@svc.api(input=Text(), output=Text(), name="a")
def g(x): ...
`
    const errors = read({'service.py': src}, 'service:svc').diagnostics.filter((d) => d.severity === 'error')
    expect(errors.map((d) => d.message)).toEqual([
      'API name "metrics" is reserved for infrastructure endpoints',
      'invalid API route "metrics"',
      'API a is already defined in service x',
    ])
  })
})

describe('readService: new SDK services', () => {
  const SDK = `import bentoml
from bentoml.models import BentoModel, HuggingFaceModel

MODEL_ID = "meta-llama/Llama-3"

@bentoml.service(resources={"cpu": "1"})
class Embedder:
    model = BentoModel("emb:latest")
    @bentoml.api
    def embed(self, x: str) -> list: ...

@bentoml.service(name="llm-gateway")
class LLMGateway:
    z_model = HuggingFaceModel(MODEL_ID)
    a_model = bentoml.models.get("gate:v1")
    embedder = bentoml.depends(Embedder)
    remote = bentoml.depends(url="http://x")

    @bentoml.api(route="/v1/chat")
    async def chat(self, q: str) -> str:
        """Chat."""
        ...

    @bentoml.task
    def batch(self, q: str) -> str: ...

    def helper(self): ...
`

  it('reads the class, its models, dependencies and APIs', () => {
    const info = read({'service.py': SDK}, 'service:LLMGateway')
    expect(info).toMatchObject({kind: 'sdk', name: 'llm-gateway', bentoName: 'llm-gateway', importString: 'service:LLMGateway'})
    expect(info.apis).toMatchObject([
      {name: 'batch', route: '/batch', method: 'POST'},
      {name: 'chat', route: '/v1/chat', doc: 'Chat.'},
    ])
    expect(info.services).toEqual([
      expect.objectContaining({
        name: 'llm-gateway',
        className: 'LLMGateway',
        models: [
          {tag: 'gate:v1', registry: 'bentoml', line: 15},
          {tag: 'meta-llama/Llama-3', registry: 'huggingface', hf: {revision: 'main', endpoint: null, include: null, exclude: null}, line: 14},
        ],
        dependencies: [
          {attr: 'embedder', on: 'Embedder'},
          {attr: 'remote', on: null, url: 'http://x'},
        ],
      }),
      expect.objectContaining({name: 'Embedder', models: [{tag: 'emb:latest', registry: 'bentoml', line: expect.any(Number)}]}),
    ])
    expect(info.modelTags).toEqual(['gate:v1', 'emb:latest'])
    expect(info.runners).toEqual([])
  })

  it('discovers the entry service when the attribute is omitted (dependencies excluded)', () => {
    const info = read({'service.py': SDK}, 'service')
    expect(info.attr).toBe('LLMGateway')
    expect(info.importString).toBe('service:LLMGateway')
  })

  it('names the bento with to_snake_case of the class name', () => {
    const info = read({'service.py': 'import bentoml\n@bentoml.service\nclass IrisClassifier:\n    pass\n'}, 'service.py:IrisClassifier')
    expect(info.bentoName).toBe('iris_classifier')
    expect(info.name).toBe('IrisClassifier')
  })

  it('a HuggingFaceModel repository id from an installed package: an error at its line whose fix works (not bentofile models:)', () => {
    const src = 'import bentoml\nimport pkg.loaders\n\n@bentoml.service\nclass Svc:\n    model = bentoml.models.HuggingFaceModel(pkg.loaders.DEFAULT_REPO)\n'
    for (const declaredModels of [[], ['iris:latest']]) {
      const info = read({'service.py': src}, 'service:Svc', {declaredModels})
      const errors = info.diagnostics.filter((d) => d.severity === 'error')
      expect(errors).toHaveLength(1)
      const [d] = errors
      expect(`${d!.file}:${d!.line}`).toBe('service.py:6')
      expect(d!.message).toMatch(/HuggingFaceModel\(\) at service\.py:6/)
      expect(d!.message).toMatch(/repository id/)
      expect(d!.message).toMatch(/pkg\.loaders\.DEFAULT_REPO/)
      expect(d!.hint).toMatch(/write the repository id as a literal string/)
      expect(d!.hint).not.toMatch(/list the model under/)
    }
  })
})

describe('readService: module resolution errors', () => {
  it('names the expected file when the module is missing', () => {
    const info = read({'other.py': ''}, 'service:svc')
    expect(info.kind).toBe('unknown')
    expect(info.diagnostics).toEqual([
      expect.objectContaining({severity: 'error', key: 'service', file: 'bentofile.yaml', message: expect.stringContaining('service.py or service/__init__.py')}),
    ])
    expect(read({}, 'pkg.mod:svc').diagnostics[0]?.message).toContain('pkg/mod.py')
    expect(read({}, 'svc.py:svc').diagnostics[0]?.message).toContain('"svc.py" not found')
  })

  it('rejects a slash path without .py; a nested file outside a package is a namespace-package module, as BentoML 1.4.40 imports it', () => {
    const files = {'src/service.py': SEED}
    expect(read(files, 'src/service:svc').diagnostics[0]?.hint).toContain('src.service:svc')
    expect(read(files, 'src/service.py:svc')).toMatchObject({importString: 'src.service:svc', diagnostics: []})
  })

  it('reports a missing attribute and an ambiguous module', () => {
    expect(read({'service.py': SEED}, 'service:nope').diagnostics[0]?.message).toContain('attribute "nope" not found')
    const two = `import bentoml\na = bentoml.Service("a")\nb = bentoml.Service("b")\n`
    expect(read({'service.py': two}, '').diagnostics[0]?.message).toContain('multiple services')
  })

  it('counts a bentoml.Service(...) without runners= beside an @bentoml.service class, as BentoML 1.4.40 (an SDK Service there: bml-static-http)', () => {
    const both = 'import bentoml\n\nA = bentoml.Service("A", cmd=["python", "-m", "http.server"])\n\n@bentoml.service\nclass B:\n    pass\n'
    const r = read({'service.py': both}, '')
    expect(r.diagnostics[0]?.message).toContain('multiple services found in module "service" (A, B)')
    expect(read({'service.py': both}, 'service:B')).toMatchObject({diagnostics: [], attr: 'B'})
    // With runners= it is a runner-style service (BentoML ≤ 1.4.15, where the SDK class is found first).
    const runner = 'import bentoml\n\nr = bentoml.Runner(object)\nA = bentoml.Service("A", runners=[r])\n\n@bentoml.service\nclass B:\n    pass\n'
    expect(read({'service.py': runner}, '')).toMatchObject({diagnostics: [], attr: 'B'})
  })

  it('reads bentoml.Service("Name", cmd=[...], config={...}) as the SDK service BentoML 1.4.40 builds (spec 2, no APIs), not a runner-style one', () => {
    const src = 'import sys\nimport bentoml\n\nS = bentoml.Service(\n    "StaticHTTP1",\n    cmd=[sys.executable, "-m", "http.server"],\n    config={"endpoints": {"livez": "/"}},\n)\n'
    expect(read({'service.py': src}, 'service:S')).toMatchObject({
      kind: 'sdk',
      legacyStyle: null,
      name: 'StaticHTTP1',
      bentoName: 'static_htt_p1',
      at: {file: 'service.py', line: 4},
      apis: [],
      runners: [],
      services: [{name: 'StaticHTTP1', className: 'StaticHTTP1', file: 'service.py', line: 4, models: [], dependencies: []}],
      schema: {name: 'StaticHTTP1', type: 'service', routes: [], paths: {}},
      diagnostics: [],
    })
    // The only service of its module: discovery finds it.
    expect(read({'service.py': src}, '')).toMatchObject({kind: 'sdk', attr: 'S', diagnostics: []})
    // Without an SDK-only keyword it stays what it was (runner-style; 1.4.16+ reads it as an empty SDK service too).
    expect(read({'service.py': 'import bentoml\nsvc = bentoml.Service("svc")\n'}, 'service:svc')).toMatchObject({kind: 'legacy', legacyStyle: 'runner'})
    const computed = read({'service.py': 'import bentoml\nS = bentoml.Service(NAME, cmd=["x"])\n'}, 'service:S')
    expect(computed.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining('the name of bentoml.Service(...) at service.py:2')])
  })

  it('never throws on broken or hostile input', () => {
    const inputs = ['', 'def (:\n  )))\n', '"""', 'x = f"{', '@svc.api(\nclass', '\t\t  \n\x00\u2028', 'a = a\nsvc = a\n', 'import .\nfrom import x']
    for (const src of inputs) {
      expect(() => read({'service.py': src}, 'service:svc')).not.toThrow()
      expect(() => read({'service.py': src}, '')).not.toThrow()
    }
    const cyc = read({'service.py': 'a = b\nb = a\nsvc = a\n'}, 'service:svc')
    expect(cyc.kind).toBe('unknown')
  })
})

describe('names', () => {
  it('toSnakeCase matches BentoML', () => {
    expect(toSnakeCase('IrisClassifier')).toBe('iris_classifier')
    expect(toSnakeCase('LLMService')).toBe('llm_service')
    expect(toSnakeCase('SD3Medium')).toBe('s_d3_medium')
    expect(toSnakeCase('VLLM')).toBe('VLLM')
    expect(toSnakeCase('already_snake')).toBe('already_snake')
    expect(toSnakeCase('MobileNetV2Classifier')).toBe('mobile_net_v2_classifier')
  })

  it('runnableTypeForModule maps model.yaml modules', () => {
    expect(runnableTypeForModule('bentoml.keras')).toBe('KerasRunnable')
    expect(runnableTypeForModule('bentoml.sklearn')).toBe('SklearnRunnable')
    expect(runnableTypeForModule('bentoml.unknown')).toBeUndefined()
  })
})

describe('readService: the right warnings (issue 10 item 8)', () => {
  it('no "cannot tell which model" for load_model(self.model) when the class attribute is a BentoModel', () => {
    const src = `import bentoml
import numpy as np

@bentoml.service(resources={"cpu": "1"})
class Iris:
    model = bentoml.models.BentoModel("iris_clf:latest")

    def __init__(self) -> None:
        self.clf = bentoml.sklearn.load_model(self.model)

    @bentoml.api
    def classify(self, input: np.ndarray) -> np.ndarray:
        return self.clf.predict(input)
`
    const info = readService({files: new Map([['service.py', src]]), service: 'service:Iris'})
    expect(info.diagnostics).toEqual([])
    expect(info.modelTags).toEqual(['iris_clf:latest'])
  })

  it('still warns for a model read from something it cannot follow', () => {
    const src = `import bentoml
import os

@bentoml.service
class S:
    def __init__(self) -> None:
        self.m = bentoml.sklearn.load_model(os.environ["MODEL"])
`
    const info = readService({files: new Map([['service.py', src]]), service: 'service:S'})
    expect(info.diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(/cannot tell which model bentoml\.sklearn\.load_model\(\) at service\.py:7 loads/)])
  })
})
