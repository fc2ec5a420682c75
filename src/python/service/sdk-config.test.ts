import {describe, expect, it} from 'vitest'

import type {ImageFiles} from '../../bentoml/image.js'
import {readSdkConfig, type SdkConfigResult} from './sdk-config.js'

const APT =
  'apt-get update && apt-get install -q -y --no-install-recommends --allow-remove-essential ca-certificates gnupg2 bash build-essential git'
const INSTALL = 'apt-get install -q -y -o Dpkg::Options::=--force-confdef'

function filesOf(texts: Record<string, string>): ImageFiles {
  return {read: (p) => (p in texts ? {rel: p, text: texts[p] as string} : {problem: 'not-found'})}
}

/** Read the service class on `classLine` of service.py (the entry) plus more classes. */
function read(
  src: string,
  opts: {classLines?: number[]; args?: Record<string, unknown>; other?: Record<string, string>; texts?: Record<string, string>} = {},
): SdkConfigResult {
  const files = new Map([['service.py', src], ...Object.entries(opts.other ?? {})])
  const all = src.split('\n')
  const deco = all.findIndex((l) => l.startsWith('@bentoml.service'))
  const lines = opts.classLines ?? [all.findIndex((l, i) => i > deco && l.startsWith('class ')) + 1]
  return readSdkConfig({
    files,
    module: 'service',
    args: opts.args ?? {},
    imageFiles: filesOf(opts.texts ?? {'requirements.txt': 'torch\ntransformers\n'}),
    services: lines.map((line) => ({file: 'service.py', line})),
    cpuCount: 8,
  })
}

const errors = (r: SdkConfigResult): string[] => r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}: ${d.message}`)

describe('readSdkConfig: the forms real code uses', () => {
  it('F1: inline in the decorator, with envs, labels and name', () => {
    const r = read(`import bentoml

@bentoml.service(
    image=bentoml.images.Image(python_version="3.12").system_packages("curl", "git").requirements_file("requirements.txt"),
    envs=[{"name": "HF_TOKEN"}, {"name": "FOO", "value": "bar"}],
    labels={"team": "nlp", "tier": 2},
    name="summarizer",
)
class Summarizer:
    pass
`)
    expect(errors(r)).toEqual([])
    const s = r.services[0]
    expect(s?.name).toBe('summarizer')
    expect(s?.envs).toEqual([
      {name: 'HF_TOKEN', value: '', stage: 'all'},
      {name: 'FOO', value: 'bar', stage: 'all'},
    ])
    expect(s?.labels).toEqual({team: 'nlp', tier: '2'})
    expect(s?.image?.info()).toEqual({
      base_image: 'python:3.12-slim',
      python_version: '3.12',
      commands: [APT, `${INSTALL} curl git`],
      python_requirements: 'torch\ntransformers\n',
      post_commands: [],
      build_include: [],
    })
  })

  it('F2: a module-level chain with backslashes, PythonImage, bentoml.importing(), shared by two services', () => {
    const r = read(
      `import bentoml
from bentoml.images import PythonImage as PI

with bentoml.importing():
    import torch

my_image = PI(python_version="3.11") \\
    .requirements_file("requirements.txt")

@bentoml.service(image=my_image)
class Gemma:
    pass

@bentoml.service(image=my_image, traffic={"timeout": 300})
class Shield:
    gemma = bentoml.depends(Gemma)

my_image.run("echo after")
`,
      {classLines: [15, 11]},
    )
    expect(errors(r)).toEqual([])
    const [entry, dep] = r.services
    expect(entry?.image?.info().post_commands).toEqual(['echo after'])
    expect(entry?.config).toEqual({traffic: {timeout: 300}})
    expect(dep?.config).toEqual({})
    expect(dep?.image).toBeNull() // only the entry service's image is read
  })

  it('F3: re-assignment in if/for over bento_args, walrus, --arg values coerced by the pydantic annotation', () => {
    const src = `import bentoml
import typing as t
from pydantic import BaseModel, Field

class BentoArgs(BaseModel):
    post: list[str] = []
    gpu: bool = False
    model_id: str = "meta/llama"
    workers: int = Field(default=1, description="w")
    extra: t.Optional[str] = None

bento_args = bentoml.use_arguments(BentoArgs)

image = bentoml.images.Image(python_version="3.12").system_packages("curl")
if POST := bento_args.post:
    for cmd in POST:
        image = image.run(cmd)
if bento_args.gpu:
    image = image.python_packages("vllm")
elif bento_args.extra is not None:
    image = image.python_packages(bento_args.extra)
else:
    image = image.python_packages("llama-cpp-python")

@bentoml.service(image=image, workers=bento_args.workers, labels={"model": bento_args.model_id})
class LLM:
    pass
`
    const dflt = read(src)
    expect(errors(dflt)).toEqual([])
    expect(dflt.services[0]?.image?.info().python_requirements).toBe('llama-cpp-python\n')
    expect(dflt.services[0]?.image?.info().commands).toEqual([APT, `${INSTALL} curl`])
    expect(dflt.services[0]?.config).toEqual({workers: 1})

    const given = read(src, {args: {post: ['echo 1', 'echo 2'], gpu: 'true', workers: '4', model_id: 'x/y'}})
    expect(errors(given)).toEqual([])
    const img = given.services[0]?.image?.info()
    expect(img?.commands).toEqual([APT, `${INSTALL} curl`, 'echo 1', 'echo 2'])
    expect(img?.python_requirements).toBe('vllm\n')
    expect(given.services[0]?.config).toEqual({workers: 4})
    expect(given.services[0]?.labels).toEqual({model: 'x/y'})
  })

  it('F3: an argument that does not validate is BentoML\'s argument error', () => {
    const r = read(
      `import bentoml
from pydantic import BaseModel
class A(BaseModel):
    post: list[str] = []
    n: int
args = bentoml.use_arguments(A)
@bentoml.service
class S:
    pass
`,
      {args: {post: '["x"]'}},
    )
    expect(errors(r)).toEqual([
      expect.stringContaining('service.py:6: Argument error. Please provide correct arguments via --arg option: 2 validation errors for A'),
    ])
    expect(r.diagnostics[0]?.message).toContain('post\n  Input should be a valid list')
    expect(r.diagnostics[0]?.message).toContain('n\n  Field required')
  })

  it('F4: in-place calls and attribute writes mutate the one image every name sees', () => {
    const r = read(`import bentoml
image = (bentoml.images.Image(python_version='3.12')
         .system_packages('curl', 'git')
         .requirements_file('requirements.txt'))
alias = image
image.base_image = 'rocm/vllm:rocm6.4.1'
image.lock_python_packages = False
alias.run('uv pip uninstall vllm torch')

@bentoml.service(image=image)
class V:
    pass
`)
    expect(errors(r)).toEqual([])
    const img = r.services[0]?.image
    expect(img?.info().base_image).toBe('rocm/vllm:rocm6.4.1')
    expect(img?.lock_python_packages).toBe(false)
    expect(img?.info().post_commands).toEqual(['uv pip uninstall vllm torch'])
  })

  it('F5: *CONSTANT, f-strings over constants, list +, str methods, len()', () => {
    const r = read(`import bentoml
REQUIREMENTS = ["vllm==0.6.0"] + ["openai"]
EXTRA = []
PY = "3.11"
sys_pkg_cmd = f"apt-get install -y {'libgl1'} && echo {PY.replace('.', '')}"
image = bentoml.images.PythonImage(python_version=PY).requirements_file("requirements.txt")
if len(REQUIREMENTS) > 0:
    image = image.python_packages(*REQUIREMENTS)
if EXTRA:
    image = image.python_packages(*EXTRA)
image = image.run(sys_pkg_cmd)
NAME = "llama"
@bentoml.service(image=image, name=f"{NAME}-svc", envs=[{"name": "MODEL", "value": f"meta/{NAME.upper()}"}])
class S:
    pass
`)
    expect(errors(r)).toEqual([])
    const s = r.services[0]
    expect(s?.name).toBe('llama-svc')
    expect(s?.envs).toEqual([{name: 'MODEL', value: 'meta/LLAMA', stage: 'all'}])
    expect(s?.image?.info().python_requirements).toBe('torch\ntransformers\nvllm==0.6.0\nopenai\n')
    expect(s?.image?.info().post_commands).toEqual(['apt-get install -y libgl1 && echo 311'])
  })

  it('the image may come from a local module (from-import, relative import, package)', () => {
    const r = read(
      `import bentoml
from common.images import IMAGE
import settings

@bentoml.service(image=IMAGE, envs=settings.ENVS)
class S:
    pass
`,
      {
        other: {
          'common/__init__.py': '',
          'common/images.py': 'from bentoml.images import Image\nIMAGE = Image(distro="alpine", python_version="3.12").system_packages("curl")\n',
          'settings.py': 'ENVS = [{"name": "A", "value": "1", "stage": "runtime"}]\n',
        },
      },
    )
    expect(errors(r)).toEqual([])
    expect(r.services[0]?.image?.info().commands).toEqual(['apk add --update bash gcc libc-dev shadow musl-dev build-base linux-headers g++ git', 'apk add --update curl'])
    expect(r.services[0]?.envs).toEqual([{name: 'A', value: '1', stage: 'runtime'}])
  })

  it('records services[].config as BentoML: tasks, cmd → workers, path_prefix → endpoints', () => {
    const r = read(`import bentoml
@bentoml.service(resources={"cpu": "2", "memory": "4Gi"}, traffic={"timeout": 30}, cmd=["python", "serve.py"], path_prefix="/v1/")
class S:
    @bentoml.task
    def t(self) -> str:
        return ""
`)
    expect(errors(r)).toEqual([])
    expect(r.services[0]?.config).toEqual({
      resources: {cpu: '2', memory: '4Gi'},
      traffic: {timeout: 30, external_queue: true, concurrency: 1},
      workers: 4,
      endpoints: {livez: '/v1/livez', readyz: '/v1/readyz'},
    })
    expect(r.services[0]?.cmd).toEqual(['python', 'serve.py'])
  })

  it('envs are copied when the class is decorated (later appends do not count), labels are not', () => {
    const r = read(`import bentoml
ENVS = [{"name": "A"}]
LABELS = {"a": "1"}
@bentoml.service(envs=ENVS, labels=LABELS)
class S:
    pass
ENVS.append({"name": "B"})
LABELS["b"] = "2"
`)
    expect(r.services[0]?.envs.map((e) => e.name)).toEqual(['A'])
    expect(r.services[0]?.labels).toEqual({a: '1', b: '2'})
  })

  it('if __name__ == "__main__" and TYPE_CHECKING blocks do not run', () => {
    const r = read(`import bentoml
from typing import TYPE_CHECKING
image = bentoml.images.Image()
if TYPE_CHECKING:
    image = image.run("typing")
if __name__ == "__main__":
    image = image.run("main")
@bentoml.service(image=image)
class S:
    pass
`)
    expect(errors(r)).toEqual([])
    expect(r.services[0]?.image?.info().commands).toEqual([APT])
  })

  it('BentoML\'s own errors while importing are errors at the line', () => {
    const r = read(`import bentoml
image = bentoml.images.Image().python_packages("a").run("echo post").python_packages("b")
@bentoml.service(image=image)
class S:
    pass
`)
    expect(errors(r)).toEqual(["service.py:2: Can't separate adding python requirements"])
  })

  it('a relative import in the top-level service module fails as in Python', () => {
    const r = read(`import bentoml
from . import settings
@bentoml.service
class S:
    pass
`)
    expect(errors(r)).toEqual(['service.py:2: ImportError: attempted relative import with no known parent package (BentoML fails to import the service here)'])
  })
})

describe('readSdkConfig: refusals name the file and line, what was not understood and what to write', () => {
  const refuse = (src: string, args: Record<string, unknown> = {}): Array<{where: string; message: string; hint: string}> =>
    read(src, {args}).diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => ({where: `${d.file}:${d.line}`, message: d.message, hint: d.hint ?? ''}))

  it('an image made by a function (the interpreter runs it)', () => {
    const r = read(`import bentoml
def make_image():
    return bentoml.images.Image(python_version="3.12")

@bentoml.service(image=make_image())
class S:
    pass
`)
    expect(errors(r)).toEqual([])
    expect(r.services[0]?.image?.info().python_version).toBe('3.12')
  })

  it('an image from a @property of the arguments model (the interpreter runs it)', () => {
    const r = read(`import bentoml
from pydantic import BaseModel
class Args(BaseModel):
    py: str = "3.12"
    @property
    def image(self) -> bentoml.images.Image:
        return bentoml.images.Image(python_version=self.py)

args = bentoml.use_arguments(Args)

@bentoml.service(image=args.image)
class S:
    pass
`, {args: {py: '3.11'}})
    expect(errors(r)).toEqual([])
    expect(r.services[0]?.image?.info().python_version).toBe('3.11')
  })

  it('values from the environment', () => {
    const [e] = refuse(`import os
import bentoml
@bentoml.service(envs=[{"name": "TOKEN", "value": os.environ["TOKEN"]}])
class S:
    pass
`)
    expect(e?.where).toBe('service.py:3')
    expect(e?.message).toContain('a value read from the environment of the build')
    const [g] = refuse(`import os
import bentoml
image = bentoml.images.Image(python_version=os.getenv("PY", "3.11"))
@bentoml.service(image=image)
class S:
    pass
`)
    expect(g?.where).toBe('service.py:3')
  })

  it('values read from files', () => {
    const [e] = refuse(`import bentoml
REQS = open("reqs.txt").read().splitlines()
image = bentoml.images.Image().python_packages(*REQS)
@bentoml.service(image=image)
class S:
    pass
`)
    expect(e?.where).toBe('service.py:2')
    expect(e?.message).toContain('open(...) (file I/O)')
  })

  it('an image handed to code bento does not run', () => {
    const [e] = refuse(`import bentoml
from mylib import tune
image = bentoml.images.Image()
tune(image)
@bentoml.service(image=image)
class S:
    pass
`)
    expect(e?.where).toBe('service.py:4')
    expect(e?.message).toContain('the result of tune(...) from mylib')
  })

  it('an image changed under a condition bento cannot evaluate', () => {
    const [e] = refuse(`import os
import bentoml
image = bentoml.images.Image()
if os.getenv("GPU"):
    image = image.system_packages("nvidia-driver")
@bentoml.service(image=image)
class S:
    pass
`)
    expect(e?.message).toContain('it is set under `if os.getenv(...)` (line 4), a condition bento cannot evaluate')
  })

  it('an in-place call in a while loop, an f-string format spec, a comprehension (the interpreter runs them)', () => {
    const r = read(`import bentoml
V = 3.1
PKGS = [p.upper() for p in ["a", "b"] if p]
image = bentoml.images.Image(python_version=f"{V:.2f}"[:-1]).python_packages(*PKGS)
n = 0
while n < 2:
    image.run(f"echo {n:02d}")
    n += 1
@bentoml.service(image=image)
class S:
    pass
`)
    expect(errors(r)).toEqual([])
    const info = r.services[0]?.image?.info()
    expect(info?.python_version).toBe('3.1')
    expect(info?.python_requirements).toBe('A\nB\n')
    expect(info?.post_commands).toEqual(['echo 00', 'echo 01'])
  })

  it('a value of a package imported inside a property: the line, and write the literal or pass it with --arg', () => {
    const [e] = refuse(`import bentoml
import pydantic
class Args(pydantic.BaseModel):
    tp: int = 1
    @property
    def gpus(self):
        import torch
        return torch.cuda.device_count()
args = bentoml.use_arguments(Args)
@bentoml.service(resources={"gpu": args.gpus})
class S:
    pass
`)
    expect(e?.where).toBe('service.py:8')
    expect(e?.message).toContain('torch.cuda.device_count(...) from torch, which bento does not run')
    expect(e?.hint).toContain('write the literal, or pass it with --arg')
  })

  it('a while loop on a condition bento cannot evaluate', () => {
    const [e] = refuse(`import bentoml
import os
image = bentoml.images.Image()
while os.path.exists("x"):
    image.run("echo")
@bentoml.service(image=image)
class S:
    pass
`)
    expect(e?.message).toContain('while os.path.exists(...)')
  })

  it('a value the build does not need is never an error', () => {
    expect(refuse(`import os
import bentoml
TOKEN = os.environ["TOKEN"]
CACHE = open("x").read()
def helper():
    return 1
@bentoml.service
class S:
    pass
`)).toEqual([])
  })
})
