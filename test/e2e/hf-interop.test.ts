/**
 * Hugging Face models against the REAL `bentoml build` 1.4.40: both builds resolve the revision through a local
 * stand-in of the hub's HTTP API on 127.0.0.1 (HF_ENDPOINT). BentoML reaches it through huggingface_hub's
 * `HfApi.model_info`; the venv has no huggingface_hub, so a stub of that one call (the same GET the real client
 * sends) is put on PYTHONPATH. `bentoml get -o json` of both Bentos must record the models alike (all but their
 * creation_time, which BentoML sets to the build time).
 */
import {mkdir, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {freePort, removeDir, tempDir} from '../helpers/env.js'
import {type BentomlZygote, startBentomlZygote} from '../helpers/zygote.js'

/** A revision that is already a commit: BentoML asks the hub (which answers the same commit), bento asks nothing. */
const SERVICE = `import bentoml
from bentoml.models import HuggingFaceModel


@bentoml.service
class Summarizer:
    model = HuggingFaceModel("Org/Tiny-Model", include=["*.json", "*.safetensors"])
    other = HuggingFaceModel("org/pinned", revision="v1.0", exclude=["*.bin"])
    commit = HuggingFaceModel("org/commit", revision="${'c'.repeat(40)}")

    @bentoml.api
    def summarize(self, text: str) -> str:
        return text
`

/** The one huggingface_hub call BentoML's HuggingFaceModel.to_info() makes, as the real client makes it. */
const HF_STUB = `import json, os, urllib.parse, urllib.request


class _ModelInfo:
    def __init__(self, sha):
        self.sha = sha


class HfApi:
    def __init__(self, endpoint=None, **kwargs):
        self.endpoint = endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co"

    def model_info(self, repo_id, revision=None, **kwargs):
        url = f"{self.endpoint}/api/models/{repo_id}/revision/{urllib.parse.quote(revision or 'main', safe='')}"
        with urllib.request.urlopen(url) as r:
            return _ModelInfo(json.load(r).get("sha"))
`

describe('Hugging Face models: bento build ⇄ the real bentoml build 1.4.40 (local hub stand-in)', () => {
  let root: string
  let server: Server
  let endpoint: string
  let python: BentomlZygote

  beforeAll(async () => {
    root = await tempDir('bento-hf-interop-')
    const port = await freePort()
    server = createServer((req, res) => {
      const m = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(req.url ?? '')
      const sha = m?.[1] === 'Org/Tiny-Model' ? 'a'.repeat(40) : m?.[1] === 'org/pinned' ? 'b'.repeat(40) : m?.[1] === 'org/commit' ? m[2] : undefined
      res.writeHead(sha ? 200 : 404, {'content-type': 'application/json'})
      res.end(JSON.stringify(sha ? {sha} : {error: 'not found'}))
    })
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    endpoint = `http://127.0.0.1:${port}`
    await mkdir(join(root, 'stub/huggingface_hub'), {recursive: true})
    await writeFile(join(root, 'stub/huggingface_hub/__init__.py'), HF_STUB)
    // One Python for the file's three CLI calls, each a fork (test/helpers/zygote.ts); the stub is on its PYTHONPATH.
    python = startBentomlZygote('1.4.40', {HF_ENDPOINT: endpoint, PYTHONPATH: join(root, 'stub')})
    await mkdir(join(root, 'project'), {recursive: true})
    await writeFile(join(root, 'project/service.py'), SERVICE)
    await writeFile(join(root, 'project/bentofile.yaml'), 'service: "service:Summarizer"\ninclude:\n  - "*.py"\n')
  })

  afterAll(async () => {
    await python.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await removeDir(root)
  })

  it('records the same tags, registry and metadata', async () => {
    const home = join(root, 'home')
    const ours = await runBentoInProcess(['build', join(root, 'project'), '--json'], {env: {BENTOML_HOME: home, HF_ENDPOINT: endpoint}})
    expect(ours.code, ours.stderr).toBe(0)
    const ourTag = (JSON.parse(ours.stdout) as {tag: string}).tag
    const real = await python.bentoml(['build', '--version', 'realbentoml', '--output', 'tag'], home, {
      cwd: join(root, 'project'),
      env: {HF_ENDPOINT: endpoint, PYTHONPATH: join(root, 'stub')},
    })
    expect(real.code, real.stderr + real.stdout).toBe(0)
    const models = async (tag: string): Promise<unknown> => {
      const get = await python.bentoml(['get', tag, '-o', 'json'], home)
      expect(get.code, get.stderr).toBe(0)
      const info = JSON.parse(get.stdout) as {services: Array<{models: Array<Record<string, unknown>>}>}
      return info.services.map((s) => s.models.map(({creation_time: _t, ...rest}) => rest))
    }
    const want = await models('summarizer:realbentoml')
    const hf = expect.objectContaining({registry: 'huggingface'})
    expect(want).toEqual([[hf, hf, hf]])
    expect(await models(ourTag)).toEqual(want)
  }, 600_000)
})
