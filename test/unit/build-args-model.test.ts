/**
 * `bentoml.use_arguments(Model)` with a pydantic model whose `@property`s build the image, the envs and the labels,
 * and a Hugging Face model whose id and `exclude` come from the arguments — the configuration style of BentoML's
 * own vLLM examples — built through the compiled CLI by the bounded interpreter (issue 16, item 2). The revision is
 * a commit, so no hub is asked.
 */
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {runBento, tempDir} from '../helpers/env.js'

const COMMIT = '0123456789abcdef0123456789abcdef01234567'
const SERVICE = `import json
import os
import typing

import bentoml
import pydantic


class BentoArgs(pydantic.BaseModel):
    name: str = "llm"
    model_id: str = "Org/Tiny-Model"
    revision: str = "${COMMIT}"
    tp: int = 1
    post: list[str] = pydantic.Field(default_factory=list)
    exclude: list[str] = pydantic.Field(default_factory=lambda: ["*.pth", "original/**/*"])
    gen: dict[str, typing.Any] = pydantic.Field(default_factory=lambda: {"temperature": 0.6})

    @pydantic.field_validator("post", "exclude", mode="before")
    @classmethod
    def _csv(cls, v):
        if isinstance(v, str):
            try:
                return json.loads(v)
            except json.JSONDecodeError:
                return [item.strip() for item in v.split(",") if item.strip()]
        return v

    @property
    def additional_cli_args(self) -> list[str]:
        import torch  # only when the service runs

        return ["-tp", str(torch.cuda.device_count())]

    @property
    def runtime_envs(self) -> list[dict[str, str]]:
        envs = [{"name": "UV_NO_PROGRESS", "value": "1"}]
        if self.tp > 1:
            envs.append({"name": "NCCL", "value": str(self.tp)})
        return envs

    @property
    def labels(self) -> dict[str, str]:
        return {"gen": json.dumps(self.gen), "tp": f"{self.tp:02d}"}

    @property
    def image(self) -> bentoml.images.Image:
        image = bentoml.images.Image(python_version="3.11").python_packages("vllm")
        for cmd in self.post:
            image = image.run(cmd)
        return image


bento_args = bentoml.use_arguments(BentoArgs)


@bentoml.service(name=bento_args.name, envs=bento_args.runtime_envs, image=bento_args.image, labels={"owner": "me", **bento_args.labels}, resources={"gpu": bento_args.tp})
class LLM:
    hf = bentoml.models.HuggingFaceModel(bento_args.model_id.lower(), revision=bento_args.revision, exclude=bento_args.exclude)

    def __command__(self) -> list[str]:
        return ["vllm", "serve", self.hf, *bento_args.additional_cli_args]
`

let root: string
beforeAll(async () => {
  root = await tempDir('bento-args-model-')
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

describe('bento build: a pydantic argument model with properties (the vLLM examples)', () => {
  it('builds: name, envs, labels, image and the Hugging Face model from the arguments and their properties', async () => {
    const dir = join(root, 'p')
    await mkdir(dir, {recursive: true})
    await writeFile(join(dir, 'service.py'), SERVICE)
    await writeFile(join(dir, 'bentofile.yaml'), 'service: "service:LLM"\ninclude:\n  - "*.py"\nargs:\n  name: tiny\n  tp: 2\n')
    const r = await runBento(['build', dir, '--json', '--arg', 'post=echo a, echo b', '--arg', 'model_id=Org/Other'], {
      env: {BENTOML_HOME: join(root, 'home'), HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_OFFLINE: ''},
    })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const {path} = JSON.parse(r.stdout) as {path: string}
    const info = parse(await readFile(join(path, 'bento.yaml'), 'utf8')) as Record<string, unknown> & {
      services: Array<{models: Array<{metadata: Record<string, unknown>}>; config: Record<string, unknown>}>
      image: {post_commands: string[]; python_requirements: string}
    }
    expect(info.name).toBe('tiny')
    // The schema is named after the service, as the decorator names it (`name=bento_args.name`).
    expect((info.schema as {name: string}).name).toBe('tiny')
    expect(info.labels).toEqual({owner: 'me', gen: '{"temperature": 0.6}', tp: '02'})
    expect(info.envs).toEqual([expect.objectContaining({name: 'UV_NO_PROGRESS', value: '1'}), expect.objectContaining({name: 'NCCL', value: '2'})])
    expect(info.services[0]?.config.resources).toEqual({gpu: 2})
    expect(info.image.post_commands).toEqual(['echo a', 'echo b'])
    expect(info.services[0]?.models.map((m) => m.metadata)).toEqual([
      {model_id: 'org/other', revision: COMMIT, endpoint: 'http://127.0.0.1:9', include: null, exclude: ['*.pth', 'original/**/*']},
    ])
  })
})
