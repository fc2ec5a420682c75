/**
 * Issue 9 on the real engine: a 512 MiB model (generated, saved with the real `bentoml.models.create` 1.4.15)
 * never costs twice. build → containerize --push → one-line edit → build → containerize --push:
 * - the second build reads no model byte (bytes read by the process, from /proc/<pid>/io);
 * - the second containerize sends < 1 MiB to the daemon (its own count, and the bytes the process wrote);
 * - the model (512 MiB: above containerize's 256 MiB for committed models) is committed onto the dependency image
 *   once (docker/model-image.ts), not imported as a model image; its layer is the same in both Bento images, right
 *   below the code layers, and the Bento images are built on the committed image;
 * - the second push uploads < 1 MiB (growth of the blobs linked into this test's own repository);
 * - the container answers, with the model where BentoML looks for it.
 * Other Docker files run beside this one (vitest.config.ts): it measures and removes only its own objects — its
 * registry repository, its images, the model-sized build-cache records it made.
 */
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {appendFile, cp, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {bentomlVenv, BIN, DOCKER_CLI as DOCKER, freePort, imagesMadeBy, postJson, removeContainersAndImages, removeDir, removeHomeImages, REPO, requireDocker, run, tempDir, waitForHttp} from '../helpers/env.js'
import {deleteRepository, REGISTRY, REGISTRY_STORAGE, repositoryBlobBytes} from '../helpers/registry.js'

const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const MODEL_BYTES = 512 * 2 ** 20
const MiB = 2 ** 20
const RUN_ID = randomBytes(4).toString('hex')
/** This test's own repository: what its pushes add is measured there, and it is deleted afterwards. */
const REPOSITORY = `big-e2e-${RUN_ID}`

async function docker(...args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return run(DOCKER, args, {timeoutMs: 900_000})
}

/** Run the CLI under a shell that prints its own /proc io counters after reaping it (they include the child's). */
async function bentoMeasured(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{code: number; stdout: string; stderr: string; rchar: number; wchar: number}> {
  const script = 'node "$0" "$@"; rc=$?; cat /proc/$$/io >&2; exit $rc'
  // No V8 code cache: its write (≈ 1.4 MB, once per bundle, Node flags and TMPDIR) is not what is counted here.
  const r = await run('sh', ['-c', script, BIN, ...args], {env: {...env, NODE_DISABLE_COMPILE_CACHE: '1'}, cwd, timeoutMs: 900_000})
  const num = (key: string): number => Number(new RegExp(`^${key}: (\\d+)$`, 'm').exec(r.stderr)?.[1] ?? Number.NaN)
  return {...r, rchar: num('rchar'), wchar: num('wchar')}
}

/** `docker system df` sizes ("537MB", "4.29GB", "0B", decimal units) in bytes. */
function dfBytes(size: string): number {
  const m = /^([\d.]+)\s*([kMGT]?)B$/.exec(size.trim())
  if (!m) return 0
  return Number(m[1]) * 1000 ** ' kMGT'.indexOf(m[2] || ' ')
}

interface CacheRecord {
  id: string
  parent: string
  bytes: number
}

/** The daemon's build cache records: id (the trailing '*' of a record in use dropped), parent and size. */
async function buildCache(): Promise<CacheRecord[]> {
  const r = await docker('system', 'df', '-v', '--format', '{{json .BuildCache}}')
  expect(r.code, r.stderr).toBe(0)
  const records = (JSON.parse(r.stdout || '[]') as Array<{ID: string; Parent?: string; Size: string}> | null) ?? []
  return records.map((c) => ({id: c.ID.replace(/\*$/, ''), parent: (c.Parent ?? '').replace(/\*$/, ''), bytes: dfBytes(c.Size)}))
}

/**
 * The records of `roots` and every record built on them, children before their parents (BuildKit does not prune a
 * record another one still builds on: pruning the model's record alone frees nothing).
 */
function withDescendants(records: CacheRecord[], roots: string[]): string[] {
  const depth = new Map(roots.map((id) => [id, 0]))
  for (let grew = true; grew; ) {
    grew = false
    for (const c of records) {
      const d = depth.get(c.parent)
      if (d !== undefined && !depth.has(c.id)) {
        depth.set(c.id, d + 1)
        grew = true
      }
    }
  }
  return [...depth].sort((a, b) => b[1] - a[1]).map(([id]) => id)
}

interface ContainerizeJson {
  imageId: string
  contextBytes: number
  modelImages: Array<{model: string; image: string; built: boolean; contextBytes: number}>
  wheelhouseImage?: {image: string; built: boolean; contextBytes: number}
  digest?: string
}

describe('a 512 MiB model never costs twice (real daemon, real registry)', () => {
  let home: string
  let project: string
  let cacheBefore = new Set<string>()
  const images: string[] = []
  const containers: string[] = []
  const env = (): NodeJS.ProcessEnv => ({BENTOML_HOME: home})

  const layersOf = async (ref: string): Promise<string[]> => {
    const r = await docker('image', 'inspect', '-f', '{{json .RootFS.Layers}}', ref)
    expect(r.code, r.stderr).toBe(0)
    return JSON.parse(r.stdout) as string[]
  }

  async function build(): Promise<{tag: string; rchar: number}> {
    const r = await bentoMeasured(['build', '--json'], env(), project)
    expect(r.code, r.stderr).toBe(0)
    return {tag: (JSON.parse(r.stdout) as {tag: string}).tag, rchar: r.rchar}
  }

  async function containerize(tag: string, ref: string): Promise<ContainerizeJson & {wchar: number; rchar: number}> {
    images.push(ref)
    const r = await bentoMeasured(['containerize', tag, '-t', ref, '--wheelhouse', WHEELHOUSE, '--push', '--json'], env())
    expect(r.code, r.stderr).toBe(0)
    const json = JSON.parse(r.stdout) as ContainerizeJson
    images.push(...imagesMadeBy(json))
    return {...json, wchar: r.wchar, rchar: r.rchar}
  }

  beforeAll(async () => {
    await requireDocker()
    if (!existsSync(REGISTRY_STORAGE)) throw new Error(`the local registry's storage ${REGISTRY_STORAGE} is missing: run scripts/provision/registry.sh`)
    cacheBefore = new Set((await buildCache()).map((c) => c.id))
    home = await tempDir('bento-home-big-')
    project = await tempDir('bento-big-project-')
    await cp(join(REPO, 'test/fixtures/big-model/service.py'), join(project, 'service.py'))
    const saved = await run(bentomlVenv().python, [join(REPO, 'test/fixtures/big-model/save_model.py'), 'big_model:e2efixedv1', String(MODEL_BYTES)], {
      env: {BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true'},
    })
    expect(saved.code, saved.stderr).toBe(0)
    await writeFile(join(project, 'bentofile.yaml'), 'service: "service:svc"\ninclude:\n  - "*.py"\nmodels:\n  - "big_model:e2efixedv1"\n')
  })

  afterAll(async () => {
    await removeContainersAndImages(containers, images)
    await deleteRepository(REPOSITORY)
    // The build cache records of this test's model: the model-sized ones it made (the Bento images' COPY of the model;
    // other files build beside this one, and a record that is not new or smaller than half the model is not this
    // test's) and the code layers built on them, children first.
    const records = await buildCache()
    const roots = records.filter((c) => !cacheBefore.has(c.id) && c.bytes >= MODEL_BYTES / 2).map((c) => c.id)
    for (const id of withDescendants(records, roots)) await docker('builder', 'prune', '-f', '--filter', `id=${id}`)
    const left = (await buildCache()).filter((c) => roots.includes(c.id))
    if (left.length > 0) console.error(`big-model e2e: build cache records of the model left: ${left.map((c) => c.id).join(', ')}`)
    await removeHomeImages(home)
    await removeDir(home)
    await removeDir(project)
  })

  it('build, containerize, edit, build, containerize: no model byte read or sent again, same model layer, < 1 MiB pushed', async () => {
    const first = await build()
    // The first build of a never-seen model reads it once (and only once).
    expect(first.rchar).toBeGreaterThan(MODEL_BYTES)
    expect(first.rchar).toBeLessThan(MODEL_BYTES + 64 * MiB)

    const ref1 = `${REGISTRY}/${REPOSITORY}:1`
    const c1 = await containerize(first.tag, ref1)
    expect(c1.modelImages).toEqual([{model: 'big_model:e2efixedv1', image: expect.stringMatching(/^bento-model\.invalid\/h[0-9a-f]{16}\/assembled\/models:[0-9a-f]{32}$/), built: true, contextBytes: expect.any(Number)}])
    expect(c1.modelImages[0]!.contextBytes).toBeGreaterThan(MODEL_BYTES)
    expect(c1.contextBytes).toBeLessThan(MiB)
    // The committed image: the dependency image's layers and the model's on top. The Bento image is built on it: its
    // layers, then the 4 code layers (apis, env/docker, src, README.md + bento.yaml).
    const modelImage = c1.modelImages[0]!.image
    const modelImageLayers = await layersOf(modelImage)
    const layers1 = await layersOf(ref1)
    expect(layers1.slice(0, modelImageLayers.length)).toEqual(modelImageLayers)
    expect(layers1).toHaveLength(modelImageLayers.length + 4)
    const modelLayer = layers1[layers1.length - 5]!
    expect(modelLayer).toBe(modelImageLayers.at(-1))
    const history = await docker('history', '--no-trunc', '--format', '{{.CreatedBy}}', ref1)
    // Its history line names the model, right below the first code layer's (newest first).
    const lines = history.stdout.split('\n')
    const at = lines.indexOf('/bin/sh -c #(nop) bento: model big_model:e2efixedv1 in /home/bentoml/bento/models/big_model/e2efixedv1')
    expect(at, history.stdout).toBeGreaterThan(0)
    expect(lines[at - 1], history.stdout).toMatch(/^COPY .*\.\/apis/)

    await appendFile(join(project, 'service.py'), '\n# a one-line edit\n')
    const second = await build()
    expect(second.tag).not.toBe(first.tag)
    // P2b: a build after the edit reads no model byte (node itself reads a few MiB of JavaScript).
    expect(second.rchar).toBeLessThan(32 * MiB)

    const ref2 = `${REGISTRY}/${REPOSITORY}:2`
    const blobsBefore = repositoryBlobBytes(REPOSITORY)
    expect(blobsBefore).toBeGreaterThan(MODEL_BYTES)
    const c2 = await containerize(second.tag, ref2)
    const pushed = repositoryBlobBytes(REPOSITORY) - blobsBefore
    // The committed image is reused: nothing of the model is read or sent to the daemon.
    expect(c2.modelImages[0]).toEqual({model: 'big_model:e2efixedv1', image: modelImage, built: false, contextBytes: 0})
    expect(c2.contextBytes).toBeLessThan(MiB)
    // The wheelhouse image of this home is reused too (built by the first containerize): a rebuild here means something
    // removed it in between (another file's clean-up), and the message says so rather than a bare byte count.
    const said = `second containerize: wheelhouse image ${JSON.stringify(c2.wheelhouseImage)}, first: ${JSON.stringify(c1.wheelhouseImage)}`
    expect(c2.wheelhouseImage?.built, said).toBe(false)
    expect(c2.wchar, said).toBeLessThan(MiB)
    expect(c2.rchar, said).toBeLessThan(32 * MiB)
    // The model layer is the same in both Bento images: only the 4 code layers differ; the committed image is untouched.
    const layers2 = await layersOf(ref2)
    expect(layers2).toHaveLength(layers1.length)
    expect(layers2.slice(0, -4)).toEqual(layers1.slice(0, -4))
    expect(layers2[layers2.length - 5]).toBe(modelLayer)
    expect(await layersOf(modelImage)).toEqual(modelImageLayers)
    // The second push uploaded the code layers only.
    console.error(
      `big-model e2e: build 1 read ${(first.rchar / MiB).toFixed(1)} MiB, build 2 read ${(second.rchar / MiB).toFixed(1)} MiB; ` +
        `containerize 2 sent ${(c2.contextBytes / 1024).toFixed(1)} KiB (process wrote ${(c2.wchar / 1024).toFixed(1)} KiB); ` +
        `push 2 grew its repository by ${(pushed / 1024).toFixed(1)} KiB; model layer ${modelLayer}`,
    )
    expect(pushed).toBeLessThan(MiB)
    expect(c2.digest).toMatch(/^sha256:/)

    const port = await freePort()
    const started = await docker('run', '-d', '--cpus', '1', '-p', `127.0.0.1:${port}:3000`, ref2)
    expect(started.code, started.stderr).toBe(0)
    containers.push(started.stdout.trim())
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, 180_000)
    expect(await postJson(`http://127.0.0.1:${port}/info`, {hello: 1})).toEqual({
      status: 200,
      json: {tag: 'big_model:e2efixedv1', size: MODEL_BYTES, echo: {hello: 1}},
    })

    // bento prune keeps the committed image while a Bento image is built on it, and offers it once none is. (Dry runs:
    // the test's cleanup removes the images.)
    const pruneIds = async (): Promise<string[]> => {
      const r = await run(process.execPath, [BIN, 'prune', '--dry-run', '--only', 'committed-models', '--json'], {env: env()})
      expect(r.code, r.stderr).toBe(0)
      return (JSON.parse(r.stdout) as {found: Array<{id: string}>}).found.map((i) => i.id)
    }
    expect(await pruneIds()).not.toContain(modelImage)
    for (const c of containers.splice(0)) await docker('rm', '-f', c)
    for (const ref of [ref1, ref2]) expect((await docker('rmi', ref)).code).toBe(0)
    expect(await pruneIds()).toContain(modelImage)
  })
})
