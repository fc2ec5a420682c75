import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {cleandoc, pyTitle} from './sdk-schema.js'
import {readSdkConfig} from './sdk-config.js'
import {Evaluations} from '../eval/evaluate.js'
import {readService} from './service.js'

/**
 * Golden: test/fixtures/sdk-schema/cases.py read statically must give the `svc.schema()` and `services:` entry the
 * real BentoML 1.4.40 computes for it (expected.json, written by observe.py; test/e2e/sdk-interop re-observes it).
 */
const fixtures = new URL('../../../test/fixtures/sdk-schema/', import.meta.url)
const expected = JSON.parse(readFileSync(new URL('expected.json', fixtures), 'utf8')) as {
  services: Record<string, {schema: {routes: Array<Record<string, unknown>>} & Record<string, unknown>; info: Record<string, unknown>}>
}

function read(file: string, service: string): ReturnType<typeof readService> {
  return readService({files: new Map([[file, readFileSync(new URL(file, fixtures), 'utf8')]]), service})
}

describe('svc.schema() read statically, against BentoML 1.4.40', () => {
  const info = read('cases.py', 'cases:Cases')
  const want = expected.services['cases:Cases']!

  it('reads the service without errors or schema warnings', () => {
    expect(info.diagnostics).toEqual([])
    expect(info.kind).toBe('sdk')
  })

  for (const route of want.schema.routes) {
    it(`route ${String(route.name)}`, () => {
      const got = (info.schema?.routes as Array<Record<string, unknown>>).find((r) => r.name === route.name)
      expect(got).toEqual(route)
    })
  }

  it('the whole schema: routes in dir() order, the class docstring as written, paths', () => {
    expect(info.schema).toEqual(want.schema)
  })

  it('the services entry: config with the task defaults (sdk-config), no models, no dependencies', () => {
    const svc = info.services[0]!
    const cfg = readSdkConfig({
      files: new Map([['cases.py', readFileSync(new URL('cases.py', fixtures), 'utf8')]]),
      module: 'cases',
      args: {},
      services: [{file: svc.file, line: svc.line}],
      cpuCount: 2,
    })
    expect({name: svc.name, config: cfg.services[0]?.config, models: svc.models, dependencies: svc.dependencies}).toEqual({
      name: want.info.name,
      config: want.info.config,
      models: want.info.models,
      dependencies: want.info.dependencies,
    })
  })
})

describe('constraints, Literal and module-level aliases, against BentoML 1.4.40 (constraints.py)', () => {
  const info = read('constraints.py', 'constraints:Constraints')
  const want = expected.services['constraints:Constraints']!

  it('reads the service without errors or schema warnings', () => {
    expect(info.diagnostics).toEqual([])
  })

  const why: Record<string, string> = {
    annotated_types: 'annotated_types Ge/Le/Gt/Lt/MinLen/MaxLen/MultipleOf → minimum/maximum/exclusive*/minLength/maxLength/multipleOf',
    intervals: 'annotated_types Interval/Len (on str and list), pydantic StringConstraints, a repeated Ge (the last wins)',
    field_meta: 'Annotated[T, Field(ge=…, min_length=…, pattern=…, multiple_of=…)], min_length on a list → minItems',
    field_default: 'x: int = Field(..., ge=1, le=10, description=…)',
    literals: 'Literal["a","b"] → enum + type, a single value → const, a Literal alias, Optional[Literal]',
    aliases: 'module-level aliases Vec = list[float], Small = Annotated[int, Ge(1), Le(10)], list[Vec]',
    enums: 'Enum classes (str mixin with a docstring, IntEnum, plain) as pydantic inlines them, a member default (Level.HIGH), Optional[Enum], an Enum output',
    model: 'Field constraints, a Literal field and an Enum field with a member default inside a BaseModel',
  }
  for (const route of want.schema.routes) {
    it(`route ${String(route.name)}: ${why[String(route.name)] ?? ''}`, () => {
      const got = (info.schema?.routes as Array<Record<string, unknown>>).find((r) => r.name === route.name)
      expect(got).toEqual(route)
    })
  }

  it('the whole schema', () => {
    expect(info.schema).toEqual(want.schema)
  })
})

describe('model_config, against BentoML 1.4.40 (model_configs.py: faster-whisper TranscriptionRequest)', () => {
  const info = read('model_configs.py', 'model_configs:ModelConfigs')
  const want = expected.services['model_configs:ModelConfigs']!

  it('extra="forbid"/"allow" (ConfigDict, a dict, class keywords, inherited, overridden) → additionalProperties; a plain string in Annotated is ignored', () => {
    expect(info.diagnostics).toEqual([])
    expect(info.schema).toEqual(want.schema)
  })
})

describe('helpers', () => {
  it("pyTitle is Python's str.title()", () => {
    expect(['input_data', 'x2y', 'camelCase', 'top_k', 'éa b'].map(pyTitle)).toEqual(['Input_Data', 'X2Y', 'Camelcase', 'Top_K', 'Éa B'])
  })
  it('cleandoc is inspect.cleandoc', () => {
    expect(cleandoc('A query.\n\n    More.\n    ')).toBe('A query.\n\nMore.')
    expect(cleandoc('\n    Indented.\n      More.\n')).toBe('Indented.\n  More.')
  })
})

describe('defaults bento cannot read', () => {
  const source = [
    'import bentoml',
    'from pydantic import BaseModel, Field',
    'import somepkg',
    '',
    'class Query(BaseModel):',
    '    a: int = somepkg.DEFAULT_A',
    '    b: int = Field(default=somepkg.DEFAULT_B)',
    '    c: int | None = None',
    '',
    '@bentoml.service',
    'class Svc:',
    '    @bentoml.api',
    '    def one(self, q: Query, top_k: int = somepkg.TOP_K, tag: str | None = None) -> str:',
    '        return ""',
    '',
    '    @bentoml.api',
    '    def two(self, q: Query) -> str:',
    '        return ""',
    '',
  ].join('\n')
  const info = readService({files: new Map([['service.py', source]]), service: 'service:Svc'})
  const routes = info.schema?.routes as Array<{name: string; input: {properties: Record<string, Record<string, unknown>>; required?: string[]}}>

  it('are left out of the schema (never null) and the field is not required; a default that is None stays null', () => {
    const one = routes.find((r) => r.name === 'one')!.input
    expect(one.properties.top_k).toEqual({title: 'Top K', type: 'integer'})
    expect(one.properties.tag).toMatchObject({default: null})
    expect(one.required).toEqual(['q'])
    const query = routes.find((r) => r.name === 'two')!.input.properties.q as {properties: Record<string, unknown>; required?: string[]}
    expect(query.properties.a).toEqual({title: 'A', type: 'integer'})
    expect(query.properties.b).toEqual({title: 'B', type: 'integer'})
    expect(query.properties.c).toMatchObject({default: null})
    expect(query.required).toBeUndefined()
  })

  it('give one warning per site, naming file:line and what the schema lacks, however many APIs use the model', () => {
    const warnings = info.diagnostics.filter((d) => d.severity === 'warning')
    expect(warnings.map((d) => `${d.file}:${d.line}`)).toEqual(['service.py:13', 'service.py:6', 'service.py:7'])
    for (const w of warnings) {
      expect(w.message).toMatch(/default/)
      expect(w.message).toMatch(/leaves the default out/)
      expect(w.message).not.toMatch(/shows \{\}/)
    }
    expect(info.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  })
})

describe('defaults read from module constants by subscript (text2video: `lang: str = sample_input_data["language"]`)', () => {
  const source = [
    'import bentoml',
    '',
    'SAMPLE = {"text": "hello", "language": "en", 1: "one"}',
    'SIZES = [256, 512, 1024]',
    'PAIR = ("a", "b")',
    '',
    '@bentoml.service',
    'class Svc:',
    '    @bentoml.api',
    '    def speak(self, script: str = SAMPLE["text"], lang: str = SAMPLE["language"], size: int = SIZES[-1], first: str = PAIR[0], one: str = SAMPLE[1]) -> str:',
    '        return ""',
    '',
    '    @bentoml.api',
    '    def missing(self, a: str = SAMPLE["nope"], b: int = SIZES[3], c: str = SAMPLE["1"]) -> str:',
    '        return ""',
    '',
  ].join('\n')
  const info = readService({files: new Map([['service.py', source]]), service: 'service:Svc'})
  const routes = info.schema?.routes as Array<{name: string; input: {properties: Record<string, Record<string, unknown>>}}>

  it('are the values CPython computes', () => {
    const p = routes.find((r) => r.name === 'speak')!.input.properties
    expect([p.script?.default, p.lang?.default, p.size?.default, p.first?.default, p.one?.default]).toEqual(['hello', 'en', 1024, 'a', 'one'])
  })

  it('a key or index the constant lacks (KeyError / IndexError in CPython) is not guessed', () => {
    const p = routes.find((r) => r.name === 'missing')!.input.properties
    expect([p.a?.default, p.b?.default, p.c?.default]).toEqual([undefined, undefined, undefined])
  })
})

describe('a constraint after a validator (pydantic writes it as `ge`, or pushes it in, depending on the constraint)', () => {
  it('is left out, with a warning at its line', () => {
    const source = [
      'from typing import Annotated',
      'import bentoml',
      'from annotated_types import Ge',
      'from pydantic import AfterValidator, Field',
      '',
      '@bentoml.service',
      'class Svc:',
      '    @bentoml.api',
      '    def f(self, a: Annotated[int, AfterValidator(int), Ge(1)] = 1, b: Annotated[str, AfterValidator(str), Field(min_length=1, description="d")] = "x") -> str:',
      '        return ""',
      '',
    ].join('\n')
    const info = readService({files: new Map([['service.py', source]]), service: 'service:Svc'})
    const input = (info.schema?.routes as Array<{input: {properties: Record<string, unknown>}}>)[0]!.input
    expect(input.properties).toEqual({a: {default: 1, title: 'A', type: 'integer'}, b: {default: 'x', description: 'd', title: 'B', type: 'string'}})
    expect(info.diagnostics.map((d) => [d.severity, d.line, d.message.split(';')[0]])).toEqual([
      ['warning', 9, 'bento does not follow the constraint `Ge` after a validator'],
      ['warning', 9, 'bento does not follow the constraint `min_length` after a validator'],
    ])
  })
})

describe('type aliases and constants imported from another module of the project (faster-whisper: from .input_models import ModelName)', () => {
  it('are followed to their definition', () => {
    const files = new Map([
      ['kinds.py', 'from typing import Annotated\nfrom annotated_types import Ge\n\nVec = list[float]\nLevel = Annotated[int, Ge(1)]\nDEFAULT_N = 3\nSAMPLE = {"k": "v"}\n'],
      ['service.py', 'import bentoml\nfrom kinds import Vec, Level, DEFAULT_N, SAMPLE\n\n@bentoml.service\nclass Svc:\n    @bentoml.api\n    def f(self, v: Vec, l: Level, n: int = DEFAULT_N, s: str = SAMPLE["k"]) -> Vec:\n        return v\n'],
    ])
    const info = readService({files, service: 'service:Svc'})
    expect(info.diagnostics).toEqual([])
    const route = (info.schema?.routes as Array<{input: unknown; output: unknown}>)[0]!
    expect(route.input).toEqual({
      properties: {
        v: {items: {type: 'number'}, title: 'V', type: 'array'},
        l: {minimum: 1, title: 'L', type: 'integer'},
        n: {default: 3, title: 'N', type: 'integer'},
        s: {default: 'v', title: 'S', type: 'string'},
      },
      required: ['v', 'l'],
      title: 'Input',
      type: 'object',
    })
    expect(route.output).toEqual({items: {type: 'number'}, type: 'array'})
  })
})

describe('mounted ASGI apps declared statically, against BentoML 1.4.40 + FastAPI 0.165 (mounted.py)', () => {
  const want = JSON.parse(readFileSync(new URL('mounted.expected.json', fixtures), 'utf8')) as typeof expected

  it('@bentoml.asgi_app / mount_asgi_app of FastAPI apps: the docs routes, @app.get/post, add_api_route, under the mount path', () => {
    const info = read('mounted.py', 'mounted:Mounted')
    expect(info.schema).toEqual(want.services['mounted:Mounted']!.schema)
  })

  it('include_router: its routes left out (FastAPI 0.165 lists none) with one warning', () => {
    const info = read('mounted.py', 'mounted:Mounted')
    expect(info.diagnostics.map((d) => `${d.severity}: ${d.message}`)).toEqual([expect.stringMatching(/^warning: .*include_router/)])
  })

  it('Starlette(routes=[Route, Mount]) at "/", a FastAPI without docs mounted inside it', () => {
    const info = read('mounted.py', 'mounted:Plain')
    expect(info.schema).toEqual(want.services['mounted:Plain']!.schema)
  })

  it('an app bento cannot read: only the API paths, one warning', () => {
    const src = `import bentoml\nfrom fastapi import FastAPI\n\ndef make():\n    return FastAPI()\n\napp = make()\n\n@bentoml.asgi_app(app, path="/v1")\n@bentoml.service\nclass S:\n    @bentoml.api\n    def f(self, x: int) -> int:\n        return x\n`
    const info = readService({files: new Map([['s.py', src]]), service: 's:S'})
    expect(info.schema?.paths).toEqual({'/f': {mounted: false}})
    expect(info.diagnostics.map((d) => `${d.severity}: ${d.message}`)).toEqual([expect.stringMatching(/^warning: .*mounted/)])
  })
})

describe('defaults, examples and bounds computed by module code, against BentoML 1.4.40 (computed_defaults.py: faster-whisper)', () => {
  const want = JSON.parse(readFileSync(new URL('computed_defaults.expected.json', fixtures), 'utf8')) as typeof expected
  const files = new Map([['computed_defaults.py', readFileSync(new URL('computed_defaults.py', fixtures), 'utf8')]])

  it('are the values the import computes (one evaluation of the module, the interpreter), with no warning', () => {
    const evaluations = new Evaluations({files, args: {}})
    const info = readService({files, service: 'computed_defaults:Computed', computedValue: (module, e, file) => evaluations.classValue(module, e, file)})
    expect(info.diagnostics).toEqual([])
    expect(info.schema).toEqual(want.services['computed_defaults:Computed']!.schema)
    expect([...evaluations.runs]).toEqual([['computed_defaults', 1]])
  })

  it('without the evaluation: left out with a warning per site, never a wrong value', () => {
    const info = readService({files, service: 'computed_defaults:Computed'})
    expect(info.diagnostics.length).toBeGreaterThan(0)
    expect(info.diagnostics.every((d) => d.severity === 'warning')).toBe(true)
    const request = ((info.schema?.routes as Array<{input: {properties: Record<string, {properties: Record<string, Record<string, unknown>>}>}}>)[0]!.input.properties.request!.properties)
    expect(request.beam_size).not.toHaveProperty('default')
  })
})
