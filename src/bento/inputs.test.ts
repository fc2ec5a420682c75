import {describe, expect, it} from 'vitest'

import {readServiceInputs} from './inputs.js'

const CONFIG = `from pydantic import BaseModel, Field
import bentoml


class Config(BaseModel):
    model_id: str = "Org/Whisper-Small"
    beam_size: int = 5
    log_level: str = "info"


def get_config() -> Config:
    return Config()


cfg = get_config()
ALIGNER = bentoml.models.HuggingFaceModel(cfg.model_id.lower() + "-aligner", revision="a" * 40)
`

const SERVICE = `import bentoml
from pydantic import BaseModel, Field

from config import ALIGNER, cfg


class Request(BaseModel):
    beam_size: int = Field(default=cfg.beam_size * 2, le=cfg.beam_size * 4)


@bentoml.service(envs=[{"name": "LOG_LEVEL", "value": cfg.log_level.upper()}])
class Speech:
    model = bentoml.models.HuggingFaceModel(cfg.model_id.lower(), revision="b" * 40)
    aligner = ALIGNER

    @bentoml.api
    def transcribe(self, request: Request, language: str = cfg.model_id.split("/")[0]) -> str:
        return ""
`

describe('readServiceInputs: one evaluation per module per build', () => {
  it('the Hugging Face reader, the schema and the decorators share the service module\'s evaluation', async () => {
    const files = new Map([
      ['service.py', SERVICE],
      ['config.py', CONFIG],
    ])
    const {service, sdk, evaluations} = await readServiceInputs({files, service: 'service:Speech', cpuCount: 2, evaluate: {files, args: {}, environ: {}}})
    expect(service.diagnostics).toEqual([])
    // Hugging Face model ids computed in the service module and in the module it imports.
    expect(service.services[0]?.models.map((m) => m.tag)).toEqual(['org/whisper-small-aligner', 'org/whisper-small'])
    // Computed schema defaults and bounds (a pydantic field, an API parameter).
    const input = (service.schema?.routes as Array<{input: Record<string, unknown>}>)[0]?.input as {properties: Record<string, {default?: unknown; properties?: Record<string, unknown>}>}
    expect(input.properties.request?.properties?.beam_size).toEqual({default: 10, maximum: 20, title: 'Beam Size', type: 'integer'})
    expect(input.properties.language?.default).toBe('Org')
    // The decorator's computed envs.
    expect(sdk?.services[0]?.envs).toEqual([{name: 'LOG_LEVEL', value: 'INFO', stage: 'all'}])
    // ... all from ONE evaluation of the service module (config.py evaluated inside it, not again on its own).
    expect(Object.fromEntries(evaluations?.runs ?? [])).toEqual({service: 1})
    expect(sdk?.evaluation).toBe(evaluations?.of('service'))
  })

  it('a runner-style project loads no interpreter and evaluates nothing', async () => {
    const files = new Map([['service.py', 'import bentoml\nr = bentoml.Runner(object)\nsvc = bentoml.Service("svc", runners=[r])\n']])
    const {service, sdk, evaluations} = await readServiceInputs({files, service: 'service:svc', cpuCount: 2, evaluate: {files, args: {}}})
    expect([service.kind, sdk, evaluations]).toEqual(['legacy', undefined, undefined])
  })
})
