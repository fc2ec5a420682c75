/**
 * `bento containerize --platform` against a REAL Docker engine: the iris example for linux/amd64 and linux/arm64 (the
 * arm64 RUN steps under QEMU: scripts/provision/platform-arm64.sh installs qemu-user-static, builds the arm64 stand-in
 * of python:3.11-slim and downloads the iris example's arm64 wheels), pushed to the local registry on 127.0.0.1:5000
 * as one OCI image index; the model layer is one blob for both (imported model image, and committed onto each
 * platform's dependency image); the arm64 image, pulled by platform, classifies under QEMU: its Python loads the Bento
 * with the image's BentoML, runs the runner and the `classify` API in one process, and imports the HTTP server's
 * compiled modules (ARM64_CHECK). Not `bentoml serve`: its three processes under QEMU cost ≈ 28 CPU-s against ≈ 4 on
 * amd64, where the production server of the same Bento is served and called in containerize, smoke, push and
 * k8s-play; what is arm64's own here is the userland, the wheels and the model.
 */
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {docker, imagesMadeBy, inspectImage, irisProject, removeContainersAndImages, removeDir, removeHomeImages, REPO, requireDocker, run, runBento, saveIrisModel, tempDir} from '../helpers/env.js'
import {deleteRepository, REGISTRY} from '../helpers/registry.js'

const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(REPO, '.tools/wheelhouse')
/** scripts/provision/platform-arm64.sh: the iris example's arm64 wheels, and the arm64 stand-in of python:3.11-slim. */
const WHEELHOUSE_ARM64 = process.env.BENTO_WHEELHOUSE_ARM64 ?? join(process.env.BENTO_TOOLS ?? join(REPO, '.tools'), 'wheelhouse-arm64')
const BASE_ARM64 = 'python:3.11-slim-linux-arm64'
/**
 * Run by the image's own Python (/app/.venv): the Bento loaded by the real BentoML, its runner local, `classify`
 * called, the server's compiled dependencies imported. Prints one JSON line.
 */
const ARM64_CHECK = `import asyncio, importlib, json, platform
import numpy as np
import bentoml
svc = bentoml.load("/home/bentoml/bento")
for runner in svc.runners:
    runner.init_local(quiet=True)
out = svc.apis["classify"].func(np.array([[6.7, 3.0, 5.2, 2.3]]))
if asyncio.iscoroutine(out):
    out = asyncio.run(out)
native = [m for m in ("uvicorn", "httptools", "uvloop", "aiohttp", "yarl", "multidict") if importlib.util.find_spec(m)]
for m in native:
    importlib.import_module(m)
print(json.dumps({"machine": platform.machine(), "answer": [str(x) for x in out], "imported": native}))
`
const RUN_ID = randomBytes(4).toString('hex')
/** This file's own registry repository, deleted afterwards. */
const REPOSITORY = `iris-platform-e2e-${RUN_ID}`

interface ContainerizeJson {
  digest?: string
  modelImages?: Array<{image: string; built: boolean}>
}

describe('bento containerize --platform on a real Docker engine (QEMU for arm64)', () => {
  let home: string
  let project: string
  let bentoTag: string
  const images: string[] = []

  beforeAll(async () => {
    await requireDocker()
    home = await tempDir('bento-home-platform-')
    project = await irisProject()
    await saveIrisModel(home)
    const r = await runBento(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(r.code, r.stderr).toBe(0)
    bentoTag = (JSON.parse(r.stdout) as {tag: string}).tag
  })

  afterAll(async () => {
    // `docker run --rm`: no container is left to remove.
    await removeContainersAndImages([], images)
    await deleteRepository(REPOSITORY)
    await removeHomeImages(home)
    await removeDir(home)
    await removeDir(project)
  })

  it('--platform linux/amd64,linux/arm64 --push: an OCI index of both, the model layer one blob, and the arm64 image pulled by platform classifies under QEMU', async () => {
    const ref = `${REGISTRY}/${REPOSITORY}:multi`
    const r = await runBento(
      ['containerize', bentoTag, '-t', ref, '--platform', 'linux/amd64,linux/arm64', '--base-image', `linux/arm64=${BASE_ARM64}`,
        '--wheelhouse', WHEELHOUSE, '--wheelhouse', `linux/arm64=${WHEELHOUSE_ARM64}`, '--push', '--json'],
      {env: {BENTOML_HOME: home}},
    )
    const json = JSON.parse(r.stdout || '{}') as ContainerizeJson & {
      platforms?: Array<{platform: string; imageId: string; tags: string[]}>
      index?: Array<{tag: string; digest: string; manifests: Array<{platform: string; digest: string; layers: Array<{id: string; action: string}>}>}>
    }
    images.push(...(json.platforms ?? []).flatMap((p) => p.tags), ...imagesMadeBy(json))
    expect(r.code, r.stderr).toBe(0)
    expect(json.platforms!.map((p) => [p.platform, p.tags])).toEqual([
      ['linux/amd64', [`${ref}-linux-amd64`]],
      ['linux/arm64', [`${ref}-linux-arm64`]],
    ])
    expect(await inspectImage<string>(`${ref}-linux-arm64`, '.Architecture')).toBe('arm64')
    expect(await inspectImage<string>(`${ref}-linux-amd64`, '.Architecture')).toBe('amd64')

    // The tag is an OCI image index naming both platform manifests (skopeo reads it as any client does).
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])
    expect(raw.code, raw.stderr).toBe(0)
    const index = JSON.parse(raw.stdout) as {mediaType: string; manifests: Array<{digest: string; platform: {architecture: string; os: string}}>}
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64'])
    expect(json.digest).toBe(json.index![0]!.digest)

    // The model layer (`COPY --from=bento-model-0 / /`) is the same blob in both images, and went up once: the
    // engine's push of the arm64 image found it in the registry (its id there: the diff id's first 12 digits).
    const modelLayer = async (digest: string): Promise<{digest: string; at: number}> => {
      const base = `http://${REGISTRY}/v2/${REPOSITORY}`
      const manifest = (await (await fetch(`${base}/manifests/${digest}`, {headers: {accept: 'application/vnd.oci.image.manifest.v1+json'}})).json()) as {config: {digest: string}; layers: Array<{digest: string}>}
      const config = (await (await fetch(`${base}/blobs/${manifest.config.digest}`)).json()) as {history: Array<{created_by?: string; empty_layer?: boolean}>}
      const withLayers = config.history.filter((h) => h.empty_layer !== true)
      const at = withLayers.findIndex((h) => /^COPY \/ \/ # buildkit$/.test(h.created_by ?? ''))
      expect(at, JSON.stringify(withLayers.map((h) => h.created_by))).toBeGreaterThan(-1)
      return {digest: manifest.layers[at]!.digest, at}
    }
    const [amdLayer, armLayer] = [await modelLayer(index.manifests[0]!.digest), await modelLayer(index.manifests[1]!.digest)]
    expect(armLayer.digest).toBe(amdLayer.digest)
    const armDiffIds = await inspectImage<string[]>(`${ref}-linux-arm64`, '.RootFS.Layers')
    const armPush = json.index![0]!.manifests[1]!
    expect(armPush.layers.find((l) => l.id === armDiffIds[armLayer.at]!.slice(7, 19))?.action, JSON.stringify(armPush.layers)).toBe('existing')

    // Pulled by platform from the index: the arm64 image (same id), which runs under QEMU and classifies.
    const pulled = await docker('pull', '--platform', 'linux/arm64', ref)
    expect(pulled.code, pulled.stderr).toBe(0)
    images.push(ref)
    expect(await inspectImage<string>(ref, '.Id')).toBe(json.platforms![1]!.imageId)
    const checked = await docker('run', '--rm', '--platform', 'linux/arm64', '--network', 'none', '--entrypoint', '/app/.venv/bin/python', ref, '-c', ARM64_CHECK)
    expect(checked.code, checked.stderr).toBe(0)
    const result = JSON.parse(checked.stdout.trim().split('\n').at(-1)!) as {machine: string; answer: string[]; imported: string[]}
    expect(result).toMatchObject({machine: 'aarch64', answer: ['virginica']})
    expect(result.imported).toEqual(expect.arrayContaining(['uvicorn', 'aiohttp']))
  })

  it('committed model layers (BENTO_COMMIT_MODELS_FROM=0): each platform commits the model onto its own dependency image, and the layer is still one blob for both', async () => {
    // The dependency stages are the first test's (cached); the model is committed onto each platform's.
    const ref = `${REGISTRY}/${REPOSITORY}:committed`
    const r = await runBento(
      ['containerize', bentoTag, '-t', ref, '--platform', 'linux/amd64,linux/arm64', '--base-image', `linux/arm64=${BASE_ARM64}`,
        '--wheelhouse', WHEELHOUSE, '--wheelhouse', `linux/arm64=${WHEELHOUSE_ARM64}`, '--push', '--json'],
      {env: {BENTOML_HOME: home, BENTO_COMMIT_MODELS_FROM: '0'}},
    )
    const json = JSON.parse(r.stdout || '{}') as ContainerizeJson & {
      platforms?: Array<{platform: string; imageId: string; tags: string[]}>
      index?: Array<{tag: string; digest: string; manifests: Array<{platform: string; digest: string; layers: Array<{id: string; action: string}>}>}>
    }
    images.push(...(json.platforms ?? []).flatMap((p) => p.tags), ...imagesMadeBy(json))
    expect(r.code, r.stderr).toBe(0)
    // One committed image per platform (the key names the dependency image), none imported: the result's modelImages
    // are the first platform's; the home's committed-model repository holds both.
    const first = (json.modelImages ?? [])[0]?.image ?? ''
    expect(first).toMatch(/^bento-model\.invalid\/h[0-9a-f]{16}\/assembled\/models:[0-9a-f]{32}$/)
    const listed = await docker('images', '--format', '{{.Repository}}:{{.Tag}}', first.split(':')[0]!)
    const committed = listed.stdout.trim().split('\n').sort()
    expect(committed).toHaveLength(2)
    images.push(...committed)
    expect((await Promise.all(committed.map((c) => inspectImage<string>(c, '.Architecture')))).sort()).toEqual(['amd64', 'arm64'])
    const [amd, arm] = [await inspectImage<string[]>(`${ref}-linux-amd64`, '.RootFS.Layers'), await inspectImage<string[]>(`${ref}-linux-arm64`, '.RootFS.Layers')]
    // deps, model, 4 code layers: the model's is the 5th from the top in both, and the same diff ID.
    const [amdModel, armModel] = [amd[amd.length - 5]!, arm[arm.length - 5]!]
    expect(amdModel).toBe((await inspectImage<string[]>(first, '.RootFS.Layers')).at(-1))
    expect(armModel).toBe(amdModel)
    // Pushed once: the arm64 image's push found it in the registry.
    const armPush = json.index![0]!.manifests[1]!
    expect(armPush.layers.find((l) => l.id === armModel.slice(7, 19))?.action, JSON.stringify(armPush.layers)).toBe('existing')
  })

  it('--platform linux/arm64 without an arm64 base image is E_PLATFORM_BASE_IMAGE (exit 8) naming --base-image; an unknown platform is exit 2', async () => {
    const r = await runBento(['containerize', bentoTag, '-t', `iris-e2e:${RUN_ID}-arm`, '--platform', 'linux/arm64', '--wheelhouse', `linux/arm64=${WHEELHOUSE_ARM64}`, '--json'], {env: {BENTOML_HOME: home}})
    const e = (JSON.parse(r.stdout) as {error: {code: string; hint: string}}).error
    expect([r.code, e.code]).toEqual([8, 'E_PLATFORM_BASE_IMAGE'])
    expect(e.hint).toMatch(/--base-image linux\/arm64=REF/)
    const bad = await runBento(['containerize', bentoTag, '--platform', 'linux/s390x', '--json'], {env: {BENTOML_HOME: home}})
    expect(bad.code).toBe(2)
    expect((JSON.parse(bad.stdout) as {error: {hint: string}}).error.hint).toMatch(/linux\/amd64, linux\/arm64/)
  })
})
