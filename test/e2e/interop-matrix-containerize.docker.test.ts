/**
 * The containerize rows of issue 10's interop matrix, on the REAL Docker engine: for the SDK iris and the
 * two-service projects (test/fixtures/interop), `bento containerize` of the Bento `bento build` wrote and of the
 * Bento the real `bentoml build` 1.4.40 wrote (spec 2, locked) for the same project, in the same store; each
 * container answers POST /classify. And spec 1: `bento containerize` of the Bento the real `bentoml build` wrote for
 * the runner-style iris example (1.4.15: install.sh, requirements.lock.txt) and for a `bentoml.legacy.Service` with
 * nested requirements (1.4.40). The spec-2 rows lock against the offline wheelhouse (scripts/provision/wheelhouse.sh:
 * `no_index` + `find_links` in the copied bentofile, for both tools) and install from it (`--wheelhouse`), so no
 * container reaches PyPI; the spec-1 rows install from PyPI, as in BentoML's own image.
 */
import {randomBytes} from 'node:crypto'
import {appendFile, cp} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {bentomlVenv, DOCKER_CLI as DOCKER, imagesMadeBy, postJson, removeContainersAndImages, removeDir, removeHomeImages, REPO, requireDocker, run, runBento, runBentoml, serveImage, tempDir} from '../helpers/env.js'

const RUN_ID = randomBytes(4).toString('hex')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(REPO, '.tools/wheelhouse')

async function docker(...args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return run(DOCKER, args, {timeoutMs: 1_200_000})
}

/** The spec-1 (legacy) servers start one API worker per CPU unless told otherwise: one is enough to answer. */
const ONE_WORKER = ['--env', 'BENTOML_CONFIG_OPTIONS=api_server.workers=1']

/**
 * The SDK iris model (BentoML 1.4.40's train.py), trained once for the file: each spec-2 row copies the model store
 * into its own home.
 */
let trainedModels: Promise<string> | undefined
async function sdkIrisModels(): Promise<string> {
  trainedModels ??= (async () => {
    const modelHome = await tempDir('bento-matrix-docker-models-')
    const trained = await run(bentomlVenv('1.4.40').python, [join(REPO, 'test/fixtures/sdk-iris/train.py')], {
      env: {BENTOML_HOME: modelHome, BENTOML_DO_NOT_TRACK: 'true'},
    })
    expect(trained.code, trained.stderr).toBe(0)
    return modelHome
  })()
  return trainedModels
}

afterAll(async () => {
  if (trainedModels) await removeDir(await trainedModels)
})

const ROWS = [
  {name: 'SDK iris with BentoModel', fixture: 'sdk-iris', answer: [0]},
  {name: 'two services with bentoml.depends', fixture: 'two-services', answer: ['setosa']},
]

for (const row of ROWS) {
  describe(`interop matrix, containerize: ${row.name} (BentoML 1.4.40)`, () => {
    let root: string
    let home: string
    let project: string
    const containers: string[] = []
    const images: string[] = []

    beforeAll(async () => {
      await requireDocker()
      root = await tempDir('bento-matrix-docker-')
      home = join(root, 'home')
      project = join(root, 'project')
      await cp(join(REPO, 'test/fixtures/interop', row.fixture), project, {recursive: true})
      // Both tools lock against the wheelhouse (the fixture's bentofile ends in its python: section).
      await appendFile(join(project, 'bentofile.yaml'), `  no_index: true\n  find_links:\n    - "${WHEELHOUSE}"\n`)
      await cp(join(await sdkIrisModels(), 'models'), join(home, 'models'), {recursive: true})
    }, 300_000)

    afterAll(async () => {
      await removeContainersAndImages(containers, images)
      await removeHomeImages(home)
      await removeDir(root)
    })

    async function containerizeAndAsk(bentoTag: string, image: string): Promise<void> {
      images.push(image)
      const r = await runBento(['containerize', bentoTag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}})
      expect(r.code, r.stderr.slice(-4000)).toBe(0)
      const json = JSON.parse(r.stdout) as {modelImages?: Array<{image: string}>}
      images.push(...imagesMadeBy(json))
      const {id, url} = await serveImage(image, containers)
      expect(await postJson(`${url}/classify`, {input: [[5.1, 3.5, 1.4, 0.2]]})).toEqual({status: 200, json: row.answer})
      const version = await docker('exec', id, '/app/.venv/bin/python', '-c', 'import bentoml; print(bentoml.__version__)')
      expect(version.stdout.trim()).toBe('1.4.40')
    }

    it("bento containerize of bento's Bento: the container answers", async () => {
      const r = await runBento(['build', project, '--json'], {env: {BENTOML_HOME: home}})
      expect(r.code, r.stderr).toBe(0)
      const {tag} = JSON.parse(r.stdout) as {tag: string}
      await containerizeAndAsk(tag, `bento-matrix-${row.fixture}:${RUN_ID}-bento`)
    }, 1_500_000)

    it("bento containerize of the real bentoml build's Bento: the container answers", async () => {
      const b = await runBentoml(['build', '--output', 'tag'], home, {cwd: project, version: '1.4.40'})
      expect(b.code, b.stderr + b.stdout).toBe(0)
      const tag = /__tag__:(\S+)/.exec(b.stdout)?.[1] ?? ''
      await containerizeAndAsk(tag, `bento-matrix-${row.fixture}:${RUN_ID}-bentoml`)
    }, 1_500_000)
  })
}

const SPEC1_ROWS = [
  {
    name: 'runner-style iris',
    source: join(REPO, 'examples/iris'),
    version: '1.4.15' as const,
    train: join(REPO, 'examples/iris/train.py'),
    request: {route: '/classify', body: [[5.1, 3.5, 1.4, 0.2]], answer: ['setosa']},
  },
  {
    name: 'bentoml.legacy.Service with nested requirements',
    source: join(REPO, 'test/fixtures/interop/nested-reqs'),
    version: '1.4.40' as const,
    train: null,
    request: {route: '/total', body: {values: [1, 2, 3.5]}, answer: {total: 6.5}},
  },
]

for (const row of SPEC1_ROWS) {
  describe(`interop matrix, containerize: the real bentoml build's spec-1 Bento of the ${row.name} (BentoML ${row.version})`, () => {
    let root: string
    let home: string
    let project: string
    const containers: string[] = []
    const images: string[] = []

    beforeAll(async () => {
      await requireDocker()
      root = await tempDir('bento-matrix-docker-')
      home = join(root, 'home')
      project = join(root, 'project')
      await cp(row.source, project, {recursive: true})
      if (row.train) {
        const trained = await run(bentomlVenv(row.version).python, [row.train], {env: {BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true'}})
        expect(trained.code, trained.stderr).toBe(0)
      }
    }, 300_000)

    afterAll(async () => {
      await removeContainersAndImages(containers, images)
      await removeHomeImages(home)
      await removeDir(root)
    })

    it('bento containerize of it: the container runs that BentoML and answers', async () => {
      const b = await runBentoml(['build', '--output', 'tag'], home, {cwd: project, version: row.version})
      expect(b.code, b.stderr + b.stdout).toBe(0)
      const tag = /__tag__:(\S+)/.exec(b.stdout)?.[1] ?? ''
      const image = `bento-matrix-spec1-${row.version.replaceAll('.', '-')}:${RUN_ID}`
      images.push(image)
      const r = await runBento(['containerize', tag, '-t', image, '--json'], {env: {BENTOML_HOME: home}})
      expect(r.code, r.stderr.slice(-4000)).toBe(0)
      const json = JSON.parse(r.stdout) as {modelImages?: Array<{image: string}>}
      images.push(...imagesMadeBy(json))
      const {id, url} = await serveImage(image, containers, ONE_WORKER)
      expect(await postJson(`${url}${row.request.route}`, row.request.body)).toEqual({status: 200, json: row.request.answer})
      const version = await docker('exec', id, '/app/.venv/bin/python', '-c', 'import bentoml; print(bentoml.__version__)')
      expect(version.stdout.trim()).toBe(row.version)
    }, 1_500_000)
  })
}
