/**
 * Hugging Face models of `@bentoml.service` classes, through the compiled CLI against a local stand-in of the
 * hub's HTTP API on 127.0.0.1 (`GET /api/models/<id>/revision/<revision>` → `{"sha": …}`, as huggingface_hub's
 * `model_info`): bento.yaml records them as BentoML 1.4.40 does (`registry: huggingface`, the tag from the model
 * id and the md5 of the metadata, the revision resolved to the commit), and a hub that cannot be reached is a clear
 * error (E_HF_HUB, exit 4) with the store unchanged. test/e2e/hf-interop.test.ts checks the record against the
 * real BentoML's `HuggingFaceModel.to_info()`.
 */
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {freePort, tempDir} from '../helpers/env.js'

const SHA = '0123456789abcdef0123456789abcdef01234567'
const SERVICE = `import bentoml
from bentoml.models import HuggingFaceModel

@bentoml.service
class Summarizer:
    model = HuggingFaceModel("Org/Tiny-Model", include=["*.json", "*.safetensors"])
    other = HuggingFaceModel("org/pinned", revision="v1.0")

    @bentoml.api
    def summarize(self, text: str) -> str:
        return text
`

let root: string
let server: Server
let endpoint: string
const requests: Array<{url: string; auth?: string}> = []

beforeAll(async () => {
  root = await tempDir('bento-hf-')
  const port = await freePort()
  server = createServer((req, res) => {
    requests.push({url: req.url ?? '', ...(req.headers.authorization ? {auth: req.headers.authorization} : {})})
    const m = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(req.url ?? '')
    if (m?.[1] === 'Org/Tiny-Model' && m[2] === 'main') {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({id: 'Org/Tiny-Model', sha: SHA}))
    } else if (m?.[1] === 'org/pinned' && m[2] === 'v1.0') {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({id: 'org/pinned', sha: 'f'.repeat(40)}))
    } else {
      res.writeHead(404, {'content-type': 'application/json'})
      res.end('{"error": "Repository not found"}')
    }
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await rm(root, {recursive: true, force: true})
})

async function project(name: string, service = SERVICE): Promise<string> {
  const dir = join(root, name)
  await mkdir(dir, {recursive: true})
  await writeFile(join(dir, 'service.py'), service)
  await writeFile(join(dir, 'bentofile.yaml'), 'service: "service:Summarizer"\ninclude:\n  - "*.py"\n')
  return dir
}

/** BentoML's tag: md5 of `json.dumps(metadata, sort_keys=True, separators=(",", ":"))`. */
function bentomlTag(metadata: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.keys(metadata).sort().map((k) => [k, metadata[k]]))
  const id = String(metadata.model_id)
  return `${id.replace(/\//g, '--')}:${createHash('md5').update(JSON.stringify(sorted)).digest('hex')}`
}

describe('bento build: Hugging Face models (a local stand-in of the hub)', () => {
  it('records them as BentoML does: registry huggingface, <id>--…:<md5 of the metadata>, the commit of the revision', async () => {
    const home = join(root, 'home-ok')
    const dir = await project('ok')
    const r = await runBentoInProcess(['build', dir, '--json'], {env: {BENTOML_HOME: home, HF_ENDPOINT: endpoint, HF_TOKEN: 'hf_secret'}})
    expect(r.code, r.stderr).toBe(0)
    const {path} = JSON.parse(r.stdout) as {path: string}
    const info = parse(await readFile(join(path, 'bento.yaml'), 'utf8')) as {services: Array<{models: Array<Record<string, unknown>>}>; models: unknown[]}
    const tiny = {model_id: 'org/tiny-model', revision: SHA, endpoint, include: ['*.json', '*.safetensors'], exclude: null}
    const pinned = {model_id: 'org/pinned', revision: 'f'.repeat(40), endpoint, include: null, exclude: null}
    // dir() order: `model` before `other`
    expect(info.services[0]?.models).toEqual([
      {tag: bentomlTag(tiny), module: null, creation_time: expect.any(String), registry: 'huggingface', metadata: tiny},
      {tag: bentomlTag(pinned), module: null, creation_time: expect.any(String), registry: 'huggingface', metadata: pinned},
    ])
    expect(info.models).toEqual([])
    // Hugging Face models are not copied into the Bento (BentoML downloads them into hf-models/ when containerizing).
    expect(existsSync(join(path, 'models'))).toBe(false)
    expect(requests).toContainEqual({url: '/api/models/Org/Tiny-Model/revision/main', auth: 'Bearer hf_secret'})
  })

  it('a hub that cannot be reached: E_HF_HUB, exit 4, naming the model and the endpoint, store unchanged', async () => {
    const home = join(root, 'home-down')
    const dir = await project('down')
    const closed = `http://127.0.0.1:${await freePort()}`
    const r = await runBentoInProcess(['build', dir, '--json'], {env: {BENTOML_HOME: home, HF_ENDPOINT: closed}})
    expect(r.code, r.stdout + r.stderr).toBe(4)
    expect(r.stderr).not.toContain('    at ')
    const {error} = JSON.parse(r.stdout) as {error: {code: string; message: string; hint: string}}
    expect(error.code).toBe('E_HF_HUB')
    expect(error.message).toMatch(/Hugging Face model "Org\/Tiny-Model" \(service\.py:6\): cannot resolve revision "main" through http:\/\/127\.0\.0\.1:\d+: the hub cannot be reached/)
    expect(error.hint).toMatch(/HF_ENDPOINT/)
    expect(await readdir(join(home, 'bentos'))).toEqual([])
  })

  it('a model the hub does not have: E_HF_HUB, with what to check', async () => {
    const home = join(root, 'home-404')
    const dir = await project('missing', SERVICE.replace('"org/pinned", revision="v1.0"', '"org/nope"'))
    const r = await runBentoInProcess(['build', dir, '--json'], {env: {BENTOML_HOME: home, HF_ENDPOINT: endpoint}})
    expect(r.code).toBe(4)
    const {error} = JSON.parse(r.stdout) as {error: {code: string; message: string; hint: string}}
    expect(error.message).toMatch(/"org\/nope".*HTTP 404/)
    expect(error.hint).toMatch(/model id and revision/)
  })
})

/** bento.yaml's Hugging Face models of the built Bento (its path from `--json`). */
async function hfModels(stdout: string): Promise<Array<{tag: string; metadata: Record<string, unknown>}>> {
  const {path} = JSON.parse(stdout) as {path: string}
  const info = parse(await readFile(join(path, 'bento.yaml'), 'utf8')) as {services: Array<{models: Array<{tag: string; metadata: Record<string, unknown>}>}>}
  return info.services[0]!.models
}

describe('bento build: Hugging Face models without the network (issue 16 item 10)', () => {
  const COMMIT = 'c'.repeat(8) + '0123456789abcdef0123456789abcdef'
  const PINNED = `import bentoml
from bentoml.models import HuggingFaceModel

@bentoml.service
class Summarizer:
    model = HuggingFaceModel("Org/Tiny-Model", revision="${COMMIT}")

    @bentoml.api
    def summarize(self, text: str) -> str:
        return text
`
  const ONLY_MAIN = `import bentoml
from bentoml.models import HuggingFaceModel

@bentoml.service
class Summarizer:
    model = HuggingFaceModel("Org/Tiny-Model", include=["*.json", "*.safetensors"])

    @bentoml.api
    def summarize(self, text: str) -> str:
        return text
`

  it('a 40-hex revision needs no hub: the same Bento tag online and with HF_ENDPOINT at a closed port', async () => {
    // Online: a stand-in that answers the commit for itself (as the hub does), then closed, at the same address.
    const port = await freePort()
    const hub = createServer((req, res) => {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({id: 'Org/Tiny-Model', sha: COMMIT, url: req.url}))
    })
    await new Promise<void>((resolve) => hub.listen(port, '127.0.0.1', resolve))
    const at = `http://127.0.0.1:${port}`
    const dir = await project('pinned', PINNED)
    const env = {HF_ENDPOINT: at, HF_HUB_OFFLINE: ''}
    const online = await runBentoInProcess(['build', dir, '--json'], {env: {...env, BENTOML_HOME: join(root, 'home-pinned-on')}})
    expect(online.code, online.stdout + online.stderr).toBe(0)
    await new Promise<void>((resolve) => hub.close(() => resolve()))
    const offline = await runBentoInProcess(['build', dir, '--json'], {env: {...env, BENTOML_HOME: join(root, 'home-pinned-off')}})
    expect(offline.code, offline.stdout + offline.stderr).toBe(0)
    const meta = {model_id: 'org/tiny-model', revision: COMMIT, endpoint: at, include: null, exclude: null}
    expect((await hfModels(online.stdout)).map((m) => m.tag)).toEqual([bentomlTag(meta)])
    expect(await hfModels(offline.stdout)).toEqual(await hfModels(online.stdout).then((ms) => ms.map((m) => ({...m, creation_time: expect.any(String)}))))
    expect(JSON.parse(offline.stdout).tag).toBe(JSON.parse(online.stdout).tag)
  })

  it('HF_HUB_OFFLINE=1: a branch resolves from the Hugging Face cache (refs/<revision>), no request, the online tag', async () => {
    const dir = await project('offline-cache', ONLY_MAIN)
    const online = await runBentoInProcess(['build', dir, '--json'], {env: {BENTOML_HOME: join(root, 'home-cache-on'), HF_ENDPOINT: endpoint, HF_HUB_OFFLINE: ''}})
    expect(online.code, online.stderr).toBe(0)
    // huggingface_hub's cache: $HF_HOME/hub/models--<org>--<name>/refs/<revision> holds the commit.
    const hfHome = join(root, 'hf-home')
    await mkdir(join(hfHome, 'hub/models--Org--Tiny-Model/refs'), {recursive: true})
    await writeFile(join(hfHome, 'hub/models--Org--Tiny-Model/refs/main'), SHA)
    const before = requests.length
    const offline = await runBentoInProcess(['build', dir, '--json'], {
      env: {BENTOML_HOME: join(root, 'home-cache-off'), HF_ENDPOINT: endpoint, HF_HUB_OFFLINE: '1', HF_HOME: hfHome, HF_HUB_CACHE: '', HUGGINGFACE_HUB_CACHE: ''},
    })
    expect(offline.code, offline.stdout + offline.stderr).toBe(0)
    expect(requests.length).toBe(before)
    expect((await hfModels(offline.stdout)).map((m) => m.tag)).toEqual((await hfModels(online.stdout)).map((m) => m.tag))
    expect(JSON.parse(offline.stdout).tag).toBe(JSON.parse(online.stdout).tag)
  })

  it('HF_HUB_OFFLINE=1 and no cache entry: E_HF_HUB naming both ways out, no request', async () => {
    const dir = await project('offline-empty', ONLY_MAIN)
    const cache = join(root, 'empty-cache')
    await mkdir(cache, {recursive: true})
    const before = requests.length
    const r = await runBentoInProcess(['build', dir, '--json'], {env: {BENTOML_HOME: join(root, 'home-empty'), HF_ENDPOINT: endpoint, HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache}})
    expect(r.code, r.stdout + r.stderr).toBe(4)
    expect(requests.length).toBe(before)
    const {error} = JSON.parse(r.stdout) as {error: {code: string; message: string; hint: string}}
    expect(error.code).toBe('E_HF_HUB')
    expect(error.message).toContain(join(cache, 'models--Org--Tiny-Model/refs/main'))
    expect(error.hint).toMatch(/40-hex/)
    expect(error.hint).toMatch(/unset HF_HUB_OFFLINE/)
  })

  it('a branch and an unreachable hub: the hint names both ways out (a 40-hex revision, or HF_HUB_OFFLINE=1 with the cache)', async () => {
    const dir = await project('down-branch', ONLY_MAIN)
    const closed = `http://127.0.0.1:${await freePort()}`
    const r = await runBentoInProcess(['build', dir, '--json'], {env: {BENTOML_HOME: join(root, 'home-down2'), HF_ENDPOINT: closed, HF_HUB_OFFLINE: ''}})
    expect(r.code).toBe(4)
    const {error} = JSON.parse(r.stdout) as {error: {code: string; hint: string}}
    expect(error.code).toBe('E_HF_HUB')
    expect(error.hint).toMatch(/40-hex/)
    expect(error.hint).toMatch(/HF_HUB_OFFLINE=1/)
  })
})
