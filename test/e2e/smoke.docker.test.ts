/**
 * `bento smoke` against a REAL Docker engine, on a legacy image (the iris example, BentoML 1.4.15, model saved by the
 * real bentoml.sklearn, built and containerized by bento) and an SDK image (`@bentoml.service`, built by the REAL
 * `bentoml build` 1.4.40, containerized by bento). Each image is built once; both services have two APIs, `check`
 * first (it raises when asked to) then `classify`, and fetch a URL at start when IRIS_FETCH_AT_START says so. On each
 * image: a passing smoke (offline), and one that needs the network at start (offline: E_SMOKE_EXITED naming
 * `--network bridge`; passes with `--network bridge`, an API's expected refusal passing with --error-contains). On the
 * legacy image also (what bento reads there does not depend on the server): one whose API fails (E_SMOKE_API, the
 * next API still called), one that exits at start (E_SMOKE_EXITED), and Ctrl-C. The "network" is this test's HTTP
 * server on the Docker bridge gateway, never the internet. No container is left after each smoke; images and temp
 * dirs go in afterAll.
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {cp, readFile, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, bridgeGateway, docker, DOCKER_CLI as DOCKER, imagesMadeBy, irisProject, removeDir, removeHomeImages, REPO, requireDocker, run, runBento, saveIrisModel, tempDir} from '../helpers/env.js'

const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const VENV_1440 = process.env.BENTOML_1440_VENV ?? join(TOOLS, 'bentoml-1.4.40-venv')
const RUN_ID = randomBytes(4).toString('hex')

/** Every container (running or not) made from `image`: after a smoke there must be none. */
async function containersOf(image: string): Promise<string[]> {
  return (await docker('ps', '-aq', '--filter', `ancestor=${image}`)).stdout.split('\n').filter(Boolean)
}

/**
 * Removes what a describe made: the containers of its images, the images (and every image its BentoML homes tagged),
 * the temp dirs. Never throws.
 */
async function removeMade(made: {images: string[]; homes: string[]; dirs: string[]}): Promise<void> {
  for (const i of new Set(made.images)) for (const c of await containersOf(i)) await docker('rm', '-f', c)
  for (const i of new Set(made.images)) await docker('rmi', '-f', i)
  for (const h of made.homes) await removeHomeImages(h)
  for (const d of made.dirs) await removeDir(d)
}

interface SmokeJson {
  image: string
  bento?: string
  network: string
  imageSize: number
  user: string
  uid?: number
  healthcheck: boolean
  timeoutMs: number
  timeoutBasis: string
  timeToReadyMs?: number
  probes: {livez?: number; metrics?: number}
  apis: Array<{name: string; route: string; status: number; latencyMs: number; ok: boolean; inputSource: string; failures: string[]}>
  durationMs: number
  ok: boolean
}

interface ErrorJson {
  error: {code: string; exitCode: number; message: string; hint?: string; logs?: string[]; report?: SmokeJson}
}

/**
 * The start-time fetch both services make when IRIS_FETCH_AT_START is set (as a service downloading its model). The
 * server (BentoML's arbiter) and its worker each import the service, so each fetches; the answer comes from this
 * test's thread, which shares a loaded machine with the other Docker file (a start that died once with `No active
 * process found for watcher`, 39 s into the scenario: 60 s, not 10, for the answer).
 */
const FETCH_AT_START = `import os
import urllib.request

if os.environ.get("IRIS_FETCH_AT_START"):
    urllib.request.urlopen(os.environ["IRIS_FETCH_AT_START"], timeout=60).read()
`

const LEGACY_SERVICE = `"""The iris example with a second API (check, first) and an optional fetch at start."""
${FETCH_AT_START}
import numpy as np

import bentoml
from bentoml.io import JSON, NumpyNdarray

CLASSES = np.array(["setosa", "versicolor", "virginica"])

iris_clf_runner = bentoml.sklearn.get("iris_clf:latest").to_runner()

svc = bentoml.Service("clasificador_iris", runners=[iris_clf_runner])


@svc.api(input=JSON(), output=JSON())
def check(body):
    if isinstance(body, dict) and body.get("fail"):
        raise ValueError("check failed on purpose")
    return {"ok": True}


@svc.api(input=NumpyNdarray(), output=NumpyNdarray())
async def classify(input_series: np.ndarray) -> np.ndarray:
    result = await iris_clf_runner.predict.async_run(input_series)
    return CLASSES[np.asarray(result, dtype=int)]
`

const SDK_SERVICE = `"""The SDK iris with a second API (check, first) and an optional fetch at start."""
${FETCH_AT_START}
import numpy as np

import bentoml


@bentoml.service(resources={"cpu": "1"})
class Iris:
    model = bentoml.models.BentoModel("iris_clf:latest")

    def __init__(self) -> None:
        self.clf = bentoml.sklearn.load_model(self.model)

    @bentoml.api
    def check(self, fail: bool = False) -> dict:
        if fail:
            raise ValueError("check failed on purpose")
        return {"ok": True}

    @bentoml.api
    def classify(self, input: np.ndarray) -> np.ndarray:
        return self.clf.predict(input)
`

/** The test's "network": an HTTP server on the Docker bridge gateway; it counts the requests per path. */
let server: Server
let serverUrl: string
const fetched: string[] = []

beforeAll(async () => {
  await requireDocker()
  const gateway = await bridgeGateway(DOCKER)
  server = createServer((req, res) => {
    fetched.push(req.url ?? '')
    res.end('model bytes')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, gateway, resolve)
  })
  const addr = server.address()
  serverUrl = `http://${gateway}:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
})

interface Subject {
  image: string
  home: string
  cwd: string
}

/**
 * The scenarios a service style must pass (`opts.serverIndependent`: those that do not depend on the server too).
 * `subject()` is read when a test runs (after the describe's beforeAll).
 * `classify.body` is a classify request for the style, `classify.expect` what --expect checks in its answer.
 */
function smokeScenarios(
  style: 'legacy' | 'sdk',
  subject: () => Subject,
  classify: {body: string; expect: string},
  opts: {
    /**
     * Also the scenarios whose outcome is bento's own reading of a container, whatever server runs in it (an API
     * answering 5xx → E_SMOKE_API; an exit before /readyz → E_SMOKE_EXITED): once, on the legacy image. The SDK image
     * still answers a refusal (--error-contains) and exits offline in the network scenario. A start is ≈ 5 s of CPU.
     */
    serverIndependent?: boolean
    /** The failing-API smoke targets this Bento tag instead of the image (tagged for it first): one start for both. */
    byBentoTag?: () => Promise<string>
  } = {},
): void {
  const {serverIndependent = false, byBentoTag} = opts
  const smoke = async (args: string[]): Promise<{code: number; stdout: string; stderr: string}> =>
    runBento(['smoke', ...args], {env: {BENTOML_HOME: subject().home}, cwd: subject().cwd, timeoutMs: 600_000})

  beforeAll(async () => {
    await writeFile(join(subject().cwd, 'classify.json'), classify.body)
    await writeFile(join(subject().cwd, 'inputs.json'), `{"classify": ${classify.body}}`)
  })

  it(`${style}: passes offline: ready, /livez and /metrics, both APIs answer; --json and --junit report it`, async () => {
    const {image, cwd} = subject()
    const r = await smoke([image, '--input-file', 'inputs.json', '--expect', `classify=${classify.expect}`, '--expect', 'check=.ok == true', '--junit', 'smoke.xml', '--json'])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const json = JSON.parse(r.stdout) as SmokeJson
    console.log(`smoke (${style} iris, offline): ready in ${json.timeToReadyMs} ms, ${json.apis.map((a) => `${a.name} ${a.latencyMs} ms`).join(', ')}, ${json.durationMs} ms in all`)
    expect(json).toMatchObject({image, network: 'none', user: 'bentoml', uid: 1034, healthcheck: true, ok: true, probes: {livez: 200, metrics: 200}})
    expect(json.imageSize).toBeGreaterThan(0)
    expect(json.timeToReadyMs).toBeGreaterThan(0)
    expect(json.apis).toEqual([
      expect.objectContaining({name: 'check', route: '/check', status: 200, ok: true, inputSource: 'synthesized', failures: []}),
      expect.objectContaining({name: 'classify', route: '/classify', status: 200, ok: true, inputSource: 'given', failures: []}),
    ])
    expect(json.apis[1]!.latencyMs).toBeGreaterThan(0)
    const xml = await readFile(join(cwd, 'smoke.xml'), 'utf8')
    expect(xml).toContain('<testsuites name="bento smoke" tests="5" failures="0"')
    expect(xml).toMatch(/<testcase classname="bento.smoke" name="readyz" time="\d+\.\d{3}"\/>/)
    expect(xml).toContain('name="api check"')
    expect(xml).toContain('name="api classify"')
    expect(await containersOf(image)).toEqual([])
  })

  if (serverIndependent) {
    const byTag = byBentoTag ? ' (by the Bento tag: the image containerize tagged for it, the timeout sized from the model bytes)' : ''
    it(`${style}: an API that fails: E_SMOKE_API (exit 11) names it, the next API is still called${byTag}`, async () => {
      const {image, cwd} = subject()
      const target = byBentoTag ? await byBentoTag() : image
      const failing = ['--input', 'check={"fail": true}', '--input', 'classify=@classify.json']
      const r = await smoke([target, ...failing, '--junit', 'failed.xml', '--json'])
      expect(r.code, r.stderr).toBe(11)
      const e = (JSON.parse(r.stdout) as ErrorJson).error
      expect(e.code).toBe('E_SMOKE_API')
      expect(e.message).toMatch(/^1 of 2 API\(s\) failed: check \(HTTP 5\d\d\)/)
      expect(e.report).toMatchObject({ok: false, timeToReadyMs: expect.any(Number)})
      expect(e.report?.apis).toEqual([
        expect.objectContaining({name: 'check', ok: false, failures: [expect.stringMatching(/^HTTP 5\d\d$/)]}),
        expect.objectContaining({name: 'classify', status: 200, ok: true}),
      ])
      const xml = await readFile(join(cwd, 'failed.xml'), 'utf8')
      expect(xml).toContain('tests="5" failures="1"')
      expect(xml).toMatch(/<testcase classname="bento.smoke" name="api check" time="[\d.]+">\s*<failure message="HTTP 5\d\d"/)
      if (byBentoTag) expect(e.report).toMatchObject({bento: target, timeoutBasis: 'model-bytes'})
      expect(await containersOf(target)).toEqual([])
    })

    it(`${style}: a container that exits at start: E_SMOKE_EXITED with its exit code and last log lines`, async () => {
      const {image} = subject()
      const r = await smoke([image, '--env', 'BENTOML_CONFIG=/nonexistent/bentoml.yaml', '--json'])
      expect(r.code, r.stderr).toBe(11)
      const e = (JSON.parse(r.stdout) as ErrorJson).error
      expect(e.code).toBe('E_SMOKE_EXITED')
      expect(e.message).toMatch(/exited with code [1-9]\d* before it was ready/)
      expect(e.logs?.join('\n')).toContain('nonexistent')
      expect(await containersOf(image)).toEqual([])
    })
  }

  // The second run also expects the refusal of the failing-API test (--error-contains), so that the image starts once
  // for both: a container start is ≈ 10 s of a loaded 2-core machine.
  it(`${style}: a start that needs the network: offline E_SMOKE_EXITED naming --network bridge; passes with --network bridge, and --error-contains turns an API's expected refusal into a pass`, async () => {
    const {image} = subject()
    const url = `${serverUrl}/model-${style}-${RUN_ID}`
    const offline = await smoke([image, '--env', `IRIS_FETCH_AT_START=${url}`, '--json'])
    expect(offline.code, offline.stderr).toBe(11)
    const e = (JSON.parse(offline.stdout) as ErrorJson).error
    expect(e.code).toBe('E_SMOKE_EXITED')
    expect(e.logs?.join('\n')).toMatch(/URLError|Network is unreachable/)
    expect(e.hint).toContain('--network bridge')
    expect(fetched).not.toContain(`/model-${style}-${RUN_ID}`)
    expect(await containersOf(image)).toEqual([])

    // The refusal of the test above, expected: both services answer a user-code error with this text.
    const expectedRefusal = ['--input', 'check={"fail": true}', '--error-contains', 'check=error has occurred']
    const online = await smoke([image, '--env', `IRIS_FETCH_AT_START=${url}`, '--network', 'bridge', '--input', 'classify=@classify.json', ...expectedRefusal, '--json'])
    expect(online.code, online.stderr + online.stdout).toBe(0)
    const json = JSON.parse(online.stdout) as SmokeJson
    expect(json.apis).toEqual([
      expect.objectContaining({name: 'check', ok: true, failures: []}),
      expect.objectContaining({name: 'classify', status: 200, ok: true}),
    ])
    console.log(`smoke (${style} iris, --network bridge, fetching at start): ready in ${json.timeToReadyMs} ms, ${json.durationMs} ms in all`)
    expect(json).toMatchObject({network: 'bridge', ok: true})
    expect(fetched).toContain(`/model-${style}-${RUN_ID}`)
    expect(await containersOf(image)).toEqual([])
  })
}

describe('bento smoke on a real Docker engine: legacy iris (bentoml.io, BentoML 1.4.15), built by bento', () => {
  const made = {images: [] as string[], homes: [] as string[], dirs: [] as string[]}
  const image = `smoke-iris-e2e:${RUN_ID}`
  let home = ''
  let work = ''
  let bentoTag = ''

  beforeAll(async () => {
    made.images.push(image)
    home = await tempDir('bento-home-smoke-')
    work = await tempDir('bento-smoke-work-')
    const project = await irisProject()
    made.homes.push(home)
    made.dirs.push(home, work, project)
    await writeFile(join(project, 'service.py'), LEGACY_SERVICE)
    await saveIrisModel(home)
    const b = await runBento(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(b.code, b.stderr).toBe(0)
    bentoTag = (JSON.parse(b.stdout) as {tag: string}).tag
    const c = await runBento(['containerize', bentoTag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}})
    expect(c.code, c.stderr).toBe(0)
    made.images.push(...imagesMadeBy(JSON.parse(c.stdout)))
  })

  afterAll(async () => {
    await removeMade(made)
  })

  // The failing-API scenario runs by the Bento tag (`bento smoke TAG` finds the image containerize tagged for it).
  smokeScenarios('legacy', () => ({image, home, cwd: work}), {body: '[[5.1, 3.5, 1.4, 0.2]]', expect: '.[0] == "setosa"'}, {
    serverIndependent: true,
    byBentoTag: async () => {
      await docker('tag', image, bentoTag)
      made.images.push(bentoTag)
      return bentoTag
    },
  })

  it('legacy: Ctrl-C while waiting for /readyz: E_INTERRUPTED (130) and the container is removed', async () => {
    const child = spawn(process.execPath, [BIN, 'smoke', image], {env: {...process.env, BENTOML_HOME: home}, cwd: work, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString()
    })
    const code = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        if (stderr.includes('Smoke test of')) {
          clearInterval(poll)
          // The container is created and starting: interrupt the wait.
          setTimeout(() => child.kill('SIGINT'), 1000)
        }
      }, 50)
      child.on('exit', (c) => {
        clearInterval(poll)
        resolve(c)
      })
    })
    expect(code, stderr).toBe(130)
    expect(stderr).toContain('E_INTERRUPTED')
    expect(await containersOf(image)).toEqual([])
  })
})

describe('bento smoke on a real Docker engine: SDK iris (@bentoml.service), built by the real bentoml build 1.4.40', () => {
  const made = {images: [] as string[], homes: [] as string[], dirs: [] as string[]}
  const image = `smoke-sdk-iris-e2e:${RUN_ID}`
  let home = ''
  let project = ''

  beforeAll(async () => {
    made.images.push(image)
    if (!existsSync(join(VENV_1440, 'bin/bentoml'))) throw new Error(`BentoML 1.4.40 venv missing at ${VENV_1440}: run scripts/provision/bentoml-1.4.40-venv.sh`)
    home = await tempDir('bento-home-smoke-sdk-')
    project = await tempDir('bento-smoke-sdk-iris-')
    made.homes.push(home)
    made.dirs.push(home, project)
    await cp(join(REPO, 'test/fixtures/sdk-iris'), project, {recursive: true})
    await writeFile(join(project, 'service.py'), SDK_SERVICE)
    const env = {BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true', PATH: `${join(VENV_1440, 'bin')}:${process.env.PATH ?? ''}`}
    const trained = await run(join(VENV_1440, 'bin/python'), ['train.py'], {cwd: project, env})
    expect(trained.code, trained.stderr).toBe(0)
    await writeFile(join(project, 'bentofile.yaml'), 'service: "service:Iris"\ninclude:\n  - "*.py"\npython:\n  packages:\n    - scikit-learn\n    - numpy\n  lock_packages: false\n')
    const built = await run(join(VENV_1440, 'bin/bentoml'), ['build', '--output', 'tag'], {cwd: project, env})
    expect(built.code, built.stderr + built.stdout).toBe(0)
    const tag = /__tag__:(\S+)/.exec(built.stdout)![1]!
    const c = await runBento(['containerize', tag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}})
    expect(c.code, c.stderr).toBe(0)
    made.images.push(...imagesMadeBy(JSON.parse(c.stdout)))
  })

  afterAll(async () => {
    await removeMade(made)
  })

  smokeScenarios('sdk', () => ({image, home, cwd: project}), {body: JSON.stringify({input: [[5.1, 3.5, 1.4, 0.2]]}), expect: '.[0] == 0'})
})
