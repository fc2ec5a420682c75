/**
 * The containerize service against the in-memory FakeImageClient: what reaches the daemon (tags, labels,
 * Dockerfile, context files), model lookup, push and failures — fast, no Docker. The real engine is
 * exercised by test/e2e/containerize.docker.test.ts.
 */
import {cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {CleanupList} from '../cleanup.js'
import {DockerBuildError, DockerUnavailableError} from '../errors.js'
import {FAKE_LAYER_BYTES, FakeImageClient} from '../docker/fake-client.js'
import type {BuildSecret} from '../docker/image-client.js'
import {memoryReporter} from '../reporter.js'
import {build} from './build.js'
import {containerize, type ContainerizeOptions} from './containerize.js'
import {prune} from './prune.js'
import {modelDigest} from '../bento/model-digest.js'
import {containerizeOptions, makeStoredBento, storedBentoYaml} from '../../test/helpers/stored-bento.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))


/** The secrets (with their values or files) each build of `client` is given, in order. */
function secretsOfBuilds(client: FakeImageClient): BuildSecret[][] {
  const seen: BuildSecret[][] = []
  const build = client.build.bind(client)
  client.build = async (o) => {
    seen.push(o.secrets ?? [])
    return build(o)
  }
  return seen
}

describe('containerize service (fake image client)', () => {
  let home: string
  let bento: string

  const write = async (rel: string, content: string): Promise<void> => {
    await mkdir(join(rel, '..'), {recursive: true})
    await writeFile(rel, content)
  }

  beforeEach(async () => {
    ;({home, bento} = await makeStoredBento('bento-cz-', {readme: '# Iris\n\nClassifies flowers.\n'}))
  })

  afterEach(async () => {
    await rm(home, {recursive: true, force: true})
  })

  const opts = (client: FakeImageClient, over: Partial<ContainerizeOptions> = {}): ContainerizeOptions =>
    containerizeOptions(home, client, over)

  it('tags the image NAME:VERSION by default, labels it, and takes each model from its own model image', async () => {
    const client = new FakeImageClient()
    const r = await containerize(opts(client))
    expect(r.tags).toEqual(['iris:v1'])
    expect(r.bento).toBe('iris:v1')
    expect(client.builds).toHaveLength(1)
    // First the model image: imported, one layer at the runtime contract's place, from the global store's copy.
    expect(client.imports).toHaveLength(1)
    const model = client.imports[0]!
    expect(model.tag).toBe('bento-model.invalid/h0123456789abcdef/iris_clf:m1')
    expect(model.labels).toMatchObject({'dev.bento.kind': 'model', 'dev.bento.model.tag': 'iris_clf:m1'})
    expect(model.files).toContain('home/bentoml/bento/models/iris_clf/m1/saved_model.pkl')
    expect(model.files.every((f) => f.startsWith('home'))).toBe(true)
    expect(r.modelImages).toEqual([{model: 'iris_clf:m1', image: 'bento-model.invalid/h0123456789abcdef/iris_clf:m1', built: true, contextBytes: expect.any(Number)}])

    // Then the Bento image, from a context without a single model byte.
    const b = client.builds[0]!
    expect(b.tags).toEqual(['iris:v1'])
    expect(b.labels).toMatchObject({
      'dev.bento.tag': 'iris:v1',
      'dev.bento.models': 'iris_clf:m1',
      'dev.bento.labels.owner': 'me',
      'org.opencontainers.image.description': 'Classifies flowers.',
    })
    expect(b.files.filter((f) => f.startsWith('models'))).toEqual([])
    expect(b.files).toContain('src/service.py')
    expect(b.dockerfile).toBe('env/docker/Dockerfile')
    const dockerfile = b.contents['env/docker/Dockerfile']!
    expect(dockerfile).toMatch(/^FROM python:3\.11-slim AS base-container$/m)
    expect(dockerfile).toMatch(/ENV MODE=/)
    expect(dockerfile).not.toMatch(/build-essential/)
    // deps, then models, then code: the model layer survives code edits, a model change keeps the deps
    expect(dockerfile).toContain('COPY --from=bento-model.invalid/h0123456789abcdef/iris_clf:m1 / /\n')
    expect(dockerfile.indexOf('install.sh')).toBeLessThan(dockerfile.indexOf('COPY --from=bento-model'))
    expect(dockerfile.indexOf('COPY --from=bento-model')).toBeLessThan(dockerfile.indexOf('./src'))
    expect(r.contextBytes).toBeGreaterThan(0)
  })

  it('reuses an up-to-date model image (no model byte sent again); --no-cache and a changed model rebuild it', async () => {
    const client = new FakeImageClient()
    await containerize(opts(client))
    const again = await containerize(opts(client))
    expect(client.builds).toHaveLength(2)
    expect(client.imports).toHaveLength(1)
    expect(again.modelImages).toEqual([{model: 'iris_clf:m1', image: 'bento-model.invalid/h0123456789abcdef/iris_clf:m1', built: false, contextBytes: 0}])
    expect(client.builds[1]!.tags).toEqual(['iris:v1'])

    const fresh = await containerize(opts(client, {noCache: true}))
    expect(fresh.modelImages[0]?.built).toBe(true)
    expect(client.imports).toHaveLength(2)
    expect(client.builds).toHaveLength(3)

    await writeFile(join(home, 'models/iris_clf/m1/saved_model.pkl'), 'pickle, edited by hand')
    const edited = await containerize(opts(client))
    expect(edited.modelImages[0]?.built).toBe(true)
  })

  it('E12: a prune while the Bento image builds keeps the model image the build copies from (lease); the lease ends with the run', async () => {
    const client = new FakeImageClient()
    const spy = client.build.bind(client)
    let during: {found: string[]; lease: string[]} | undefined
    client.build = async (o) => {
      const r = await prune({home, client: () => client, reporter: memoryReporter(), only: ['model-images']})
      during = {found: r.found.map((i) => i.id), lease: await readdir(join(home, '.bento/image-leases'))}
      return spy(o)
    }
    await containerize(opts(client))
    expect(during?.found).toEqual([])
    expect(during?.lease).toHaveLength(1)
    expect(await readdir(join(home, '.bento/image-leases'))).toEqual([])
    expect(await client.inspect('bento-model.invalid/h0123456789abcdef/iris_clf:m1')).not.toBeNull()
  })

  it("E12: another home reuses this home's model image by tagging it under its own name (no byte sent); each home's prune removes only its tag", async () => {
    // Both homes know the model's content digest, as after a `bento build` of it in each (copies differ in mtimes).
    const model = (h: string): {name: string; version: string; dir: string} => ({name: 'iris_clf', version: 'm1', dir: join(h, 'models/iris_clf/m1')})
    await modelDigest(home, model(home), memoryReporter())
    const client = new FakeImageClient()
    await containerize(opts(client))
    const other = await mkdtemp(join(tmpdir(), 'bento-cz-other-'))
    try {
      await cp(home, other, {recursive: true})
      await writeFile(join(other, '.bento/home-id'), 'fedcba9876543210\n')
      await modelDigest(other, model(other), memoryReporter())
      const r = await containerize(opts(client, {home: other, imageTags: ['iris:other']}))
      expect(r.modelImages).toEqual([{model: 'iris_clf:m1', image: 'bento-model.invalid/hfedcba9876543210/iris_clf:m1', built: false, contextBytes: 0}])
      expect(client.imports).toHaveLength(1)
      const shared = await client.inspect('bento-model.invalid/h0123456789abcdef/iris_clf:m1')
      expect(shared?.repoTags.sort()).toEqual(['bento-model.invalid/h0123456789abcdef/iris_clf:m1', 'bento-model.invalid/hfedcba9876543210/iris_clf:m1'])
      // With both Bento images gone, each home's prune takes its own tag; the image goes with the last one.
      await client.remove('iris:v1')
      await client.remove('iris:other')
      const a = await prune({home, client: () => client, reporter: memoryReporter(), only: ['model-images']})
      expect(a.removed.map((i) => i.id)).toEqual(['bento-model.invalid/h0123456789abcdef/iris_clf:m1'])
      expect(await client.inspect('bento-model.invalid/hfedcba9876543210/iris_clf:m1')).not.toBeNull()
      const b = await prune({home: other, client: () => client, reporter: memoryReporter(), only: ['model-images']})
      expect(b.removed.map((i) => i.id)).toEqual(['bento-model.invalid/hfedcba9876543210/iris_clf:m1'])
      expect(await client.list({label: ['dev.bento.kind=model']})).toEqual([])
    } finally {
      await rm(other, {recursive: true, force: true})
    }
  })

  it('offline: the wheelhouse becomes an image mounted into the install step (not in the context); pip gets --no-index', async () => {
    const wheels = join(home, 'wheels')
    await write(join(wheels, 'x-1.0-py3-none-any.whl'), 'whl')
    const client = new FakeImageClient()
    const r = await containerize(opts(client, {wheelhouse: wheels, compilers: true}))
    const [wheelhouse, b] = client.builds
    expect(wheelhouse!.tags).toEqual([r.wheelhouseImage!.image])
    expect(wheelhouse!.files).toContain('wheels/x-1.0-py3-none-any.whl')
    expect(wheelhouse!.labels['dev.bento.kind']).toBe('wheelhouse')
    expect(b!.files.some((f) => f.includes('.whl'))).toBe(false)
    const dockerfile = b!.contents['env/docker/Dockerfile']!
    expect(dockerfile).toContain(`--mount=type=bind,from=${r.wheelhouseImage!.image},source=/wheels,target=/tmp/bento-wheelhouse`)
    expect(dockerfile).toMatch(/BENTO_PIP_OFFLINE=1/)
    expect(dockerfile).toMatch(/build-essential/)
    // Reused while the directory does not change.
    const again = await containerize(opts(client, {wheelhouse: wheels}))
    expect(again.wheelhouseImage).toMatchObject({built: false, contextBytes: 0})
  })

  it('a model neither in the Bento nor in the store is E_MODEL_NOT_FOUND before any build', async () => {
    await rm(join(home, 'models'), {recursive: true})
    const client = new FakeImageClient()
    await expect(containerize(opts(client))).rejects.toMatchObject({code: 'E_MODEL_NOT_FOUND', exitCode: 4})
    expect(client.builds).toHaveLength(0)
    expect(client.imports).toHaveLength(0)
  })

  it('rejects invalid image references and --push without a registry', async () => {
    const client = new FakeImageClient()
    await expect(containerize(opts(client, {imageTags: ['Iris:Dev']}))).rejects.toMatchObject({code: 'E_USAGE'})
    await expect(containerize(opts(client, {imageTags: ['iris:dev'], push: true}))).rejects.toMatchObject({code: 'E_USAGE'})
    expect(client.builds).toHaveLength(0)
  })

  it('refuses distros and conda environments it cannot build, before any build', async () => {
    await writeFile(join(bento, 'bento.yaml'), storedBentoYaml().replace("distro: 'debian'", "distro: 'alpine'"))
    const client = new FakeImageClient()
    await expect(containerize(opts(client))).rejects.toMatchObject({code: 'E_USAGE', message: expect.stringMatching(/alpine/)})
    await writeFile(join(bento, 'bento.yaml'), `${storedBentoYaml()}conda:\n  environment_yml: null\n  channels: null\n  dependencies:\n  - 'numpy'\n  pip: null\n`)
    await expect(containerize(opts(client))).rejects.toMatchObject({code: 'E_USAGE', message: expect.stringMatching(/conda/)})
    expect(client.builds).toHaveLength(0)
  })

  it('pushes registry tags and reports the digest', async () => {
    const client = new FakeImageClient()
    const r = await containerize(opts(client, {imageTags: ['127.0.0.1:5000/iris:dev'], push: true}))
    expect(client.pushes.map((p) => p.ref)).toEqual(['127.0.0.1:5000/iris:dev'])
    expect(r.digest).toMatch(/^sha256:/)
    expect(r.pushed).toEqual([{tag: '127.0.0.1:5000/iris:dev', digest: r.digest, uploadedBytes: FAKE_LAYER_BYTES, layersPushed: 1, layersExisting: 0}])
    expect(r.uploadedBytes).toBe(FAKE_LAYER_BYTES)
  })

  it('uploadedBytes sums the pushes: a second tag of the same repository uploads nothing', async () => {
    const client = new FakeImageClient()
    const r = await containerize(opts(client, {imageTags: ['127.0.0.1:5000/iris:dev', '127.0.0.1:5000/iris:v2'], push: true}))
    expect(r.pushed.map((p) => [p.tag, p.uploadedBytes, p.layersExisting])).toEqual([
      ['127.0.0.1:5000/iris:dev', FAKE_LAYER_BYTES, 0],
      ['127.0.0.1:5000/iris:v2', 0, 1],
    ])
    expect(r.uploadedBytes).toBe(FAKE_LAYER_BYTES)
    const local = await containerize(opts(new FakeImageClient(), {imageTags: ['127.0.0.1:5000/iris:dev']}))
    expect(local.uploadedBytes).toBeUndefined()
  })

  it('--platform: one image per platform, built for it; model and wheelhouse images taken as build-platform stages; several are tagged by platform', async () => {
    const wheels = join(home, 'wheels')
    const arm = join(home, 'wheels-arm64')
    await write(join(wheels, 'x-1.0-py3-none-any.whl'), 'whl')
    await write(join(arm, 'x-1.0-cp311-cp311-manylinux2014_aarch64.whl'), 'arm whl')
    const client = new FakeImageClient()
    // DOCKER_HOST elsewhere: QEMU is the remote host's business (not checked on this one).
    const r = await containerize(
      opts(client, {
        imageTags: ['iris:dev'],
        platforms: ['linux/amd64,linux/arm64'],
        wheelhouse: wheels,
        platformWheelhouses: [`linux/arm64=${arm}`],
        baseImages: ['linux/arm64=python:3.11-slim-linux-arm64'],
        env: {DOCKER_HOST: 'tcp://builder:2376'},
      }),
    )
    const builds = client.builds.filter((b) => b.labels['dev.bento.kind'] !== 'wheelhouse')
    expect(builds.map((b) => [b.platform, b.tags])).toEqual([
      ['linux/amd64', ['iris:dev-linux-amd64']],
      ['linux/arm64', ['iris:dev-linux-arm64']],
    ])
    const [amd, armDockerfile] = builds.map((b) => b.contents['env/docker/Dockerfile']!)
    expect(amd).toMatch(/^FROM python:3\.11-slim AS base-container$/m)
    expect(armDockerfile).toMatch(/^FROM python:3\.11-slim-linux-arm64 AS base-container$/m)
    for (const d of [amd!, armDockerfile!]) {
      expect(d).toContain('FROM --platform=$BUILDPLATFORM bento-model.invalid/h0123456789abcdef/iris_clf:m1 AS bento-model-0\n')
      expect(d).toContain('COPY --from=bento-model-0 / /\n')
    }
    // Each platform installs from its own wheelhouse image; the model is imported once.
    const wheelhouses = client.builds.filter((b) => b.labels['dev.bento.kind'] === 'wheelhouse')
    expect(wheelhouses.map((w) => w.files.filter((f) => f.endsWith('.whl')))).toEqual([['wheels/x-1.0-py3-none-any.whl'], ['wheels/x-1.0-cp311-cp311-manylinux2014_aarch64.whl']])
    expect(client.imports).toHaveLength(1)
    expect(r.tags).toEqual(['iris:dev-linux-amd64', 'iris:dev-linux-arm64'])
    expect(r.platforms!.map((p) => [p.platform, p.baseImage, p.tags])).toEqual([
      ['linux/amd64', 'python:3.11-slim', ['iris:dev-linux-amd64']],
      ['linux/arm64', 'python:3.11-slim-linux-arm64', ['iris:dev-linux-arm64']],
    ])
    expect(new Set(r.platforms!.map((p) => p.imageId)).size).toBe(2)
    expect(r.index).toBeUndefined()

    // One platform: built for it, tagged as asked.
    const one = await containerize(opts(client, {imageTags: ['iris:arm'], platforms: ['linux/arm64'], env: {DOCKER_HOST: 'tcp://builder:2376'}}))
    expect(one.tags).toEqual(['iris:arm'])
    expect(client.builds.at(-1)!.platform).toBe('linux/arm64')
  })

  it('--platform: an unknown platform, a --base-image of a platform not built, or the classic builder are E_USAGE before anything is read', async () => {
    const client = new FakeImageClient()
    await expect(containerize(opts(client, {tag: 'nope:1', platforms: ['linux/s390x']}))).rejects.toMatchObject({
      code: 'E_USAGE',
      exitCode: 2,
      message: expect.stringMatching(/"linux\/s390x" is not a platform/),
      hint: expect.stringMatching(/linux\/amd64, linux\/arm64/),
    })
    await expect(containerize(opts(client, {platforms: ['linux/amd64'], baseImages: ['linux/arm64=x:1']}))).rejects.toMatchObject({code: 'E_USAGE'})
    await expect(containerize(opts(new FakeImageClient({buildkit: false}), {platforms: ['linux/arm64']}))).rejects.toMatchObject({code: 'E_USAGE', message: expect.stringMatching(/BuildKit/)})
    // --output writes one image: several platforms would write over each other.
    await expect(containerize(opts(client, {platforms: ['linux/amd64,linux/arm64'], output: {kind: 'oci', path: '/nonexistent/out'}}))).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringMatching(/^--output writes one image; --platform asks for 2 \(linux\/amd64, linux\/arm64\)/),
    })
    expect(client.builds).toHaveLength(0)
  })

  it('--platform: a local daemon on a host without QEMU for arm64 is E_PLATFORM_EMULATION before any build; the native platform needs none', async () => {
    const binfmtDir = join(home, 'binfmt_misc') // not mounted
    const client = new FakeImageClient()
    await expect(containerize(opts(client, {platforms: ['linux/amd64,linux/arm64'], binfmtDir, env: {}}))).rejects.toMatchObject({
      code: 'E_PLATFORM_EMULATION',
      exitCode: 8,
      hint: expect.stringMatching(/platform-arm64\.sh/),
    })
    expect(client.builds).toHaveLength(0)
    await containerize(opts(client, {platforms: ['linux/amd64'], binfmtDir, env: {}}))
    expect(client.builds.at(-1)!.platform).toBe('linux/amd64')
  })

  it('--platform: a base image the build cannot find for that platform is E_PLATFORM_BASE_IMAGE naming --base-image and the provisioning script', async () => {
    const client = new FakeImageClient({
      failures: {build: (b) => ((b as {platform?: string}).platform === 'linux/arm64' ? new DockerBuildError('The base image python:3.11-slim is not available: no such host', {code: 'E_DOCKER_BASE_IMAGE', data: {image: 'docker.io/library/python:3.11-slim'}}) : undefined)},
    })
    await expect(containerize(opts(client, {platforms: ['linux/amd64,linux/arm64'], env: {DOCKER_HOST: 'tcp://builder:2376'}}))).rejects.toMatchObject({
      code: 'E_PLATFORM_BASE_IMAGE',
      exitCode: 8,
      hint: expect.stringMatching(/--base-image linux\/arm64=REF.*platform-arm64\.sh/),
    })
  })

  it('passes daemon and build failures through as typed errors', async () => {
    const down = new FakeImageClient({failures: {ping: new DockerUnavailableError('no daemon')}})
    await expect(containerize(opts(down))).rejects.toMatchObject({code: 'E_DOCKER_UNAVAILABLE', exitCode: 7})
    const failing = new FakeImageClient({
      failures: {build: new DockerBuildError('RUN failed', {code: 'E_DOCKER_BUILD_STEP', data: {step: 'RUN x'}})},
    })
    await expect(containerize(opts(failing))).rejects.toMatchObject({code: 'E_DOCKER_BUILD_STEP', exitCode: 8})
  })

  it('Ctrl-C during the build (the signal aborted): E_INTERRUPTED, exit 130, no image tagged, nothing left in tmp/', async () => {
    const controller = new AbortController()
    const client = new FakeImageClient({
      failures: {
        // The first Ctrl-C arrives while the daemon builds the Bento image (model images are built first).
        build: (arg) => {
          if ((arg as {tags: string[]}).tags.includes('iris:v1')) controller.abort(new Error('interrupted by SIGINT'))
          return undefined
        },
      },
    })
    await mkdir(join(home, 'tmp'), {recursive: true})
    await expect(containerize(opts(client, {signal: controller.signal}))).rejects.toMatchObject({code: 'E_INTERRUPTED', exitCode: 130})
    expect(await client.inspect('iris:v1')).toBeNull()
    expect(await readdir(join(home, 'tmp'))).toEqual([])
  })

  it('a second Ctrl-C during the build: the run registered what it was writing (its reader mark), so the forced exit removes it', async () => {
    const cleanup = new CleanupList()
    let removed: string[] = []
    const client = new FakeImageClient({
      failures: {
        // The forced exit (src/interrupt.ts) removes what is registered, synchronously, while the daemon builds.
        build: (arg) => {
          if ((arg as {tags: string[]}).tags.includes('iris:v1')) removed = cleanup.removeAllSync()
          return undefined
        },
      },
    })
    await containerize(opts(client, {cleanup}))
    expect(removed.map((p) => basename(p))).toEqual([expect.stringMatching(/^bento-.*-read-/)])
    expect(cleanup.size).toBe(0)
  })

  it('reports which steps came from the cache', async () => {
    const client = new FakeImageClient({
      buildEvents: [
        {type: 'step', step: '[2/9] RUN install.sh'},
        {type: 'cached', step: '[2/9] RUN install.sh'},
        {type: 'step', step: '[9/9] COPY ./src ./src/'},
      ],
    })
    const r = await containerize(opts(client))
    expect(r.steps).toEqual([
      {step: '[2/9] RUN install.sh', cached: true},
      {step: '[9/9] COPY ./src ./src/', cached: false},
    ])
  })

  it('the stored Dockerfile (bento build) and the built one carry the same labels: one function makes both inputs', async () => {
    const project = join(home, 'project')
    await write(join(project, 'service.py'), await readFile(join(REPO_ROOT, 'examples/iris/service.py'), 'utf8'))
    await write(join(project, 'bentofile.yaml'), 'service: "service:svc"\nlabels:\n  owner: me\ninclude:\n  - "*.py"\n')
    await write(join(project, 'README.md'), '# Iris\n\nClassifies flowers.\n')
    const built = await build({projectDir: project, home, reporter: memoryReporter(), now: new Date('2025-06-01T00:00:00Z')})
    const client = new FakeImageClient()
    await containerize(opts(client, {tag: built.tag}))
    const labelsOf = (dockerfile: string): string => dockerfile.slice(dockerfile.indexOf('LABEL'), dockerfile.indexOf('EXPOSE'))
    const stored = await readFile(join(built.path, 'env/docker/Dockerfile'), 'utf8')
    const used = client.builds.at(-1)!.contents['env/docker/Dockerfile']!
    expect(labelsOf(stored)).toContain('"org.opencontainers.image.description"="Classifies flowers."')
    expect(labelsOf(used)).toBe(labelsOf(stored))
  })

  it('build-stage envs: the value comes from the environment and reaches the build as a secret only', async () => {
    const yaml = (await readFile(join(bento, 'bento.yaml'), 'utf8')).replace(
      "envs:\n- name: 'MODE'\n  value: 'prod'\n",
      "envs:\n- name: 'MODE'\n  value: 'prod'\n- name: 'HF_TOKEN'\n  value: ''\n  stage: 'build'\n- name: 'LATE'\n  value: 'x'\n  stage: 'runtime'\n",
    )
    await writeFile(join(bento, 'bento.yaml'), yaml)
    const client = new FakeImageClient()
    const secrets = secretsOfBuilds(client)
    await containerize(opts(client, {environ: {HF_TOKEN: 'hf_very_secret_value'}}))
    // the model image is imported (no build, no secrets), then the Bento image is built with the secret
    expect(secrets).toEqual([[{id: 'HF_TOKEN', value: 'hf_very_secret_value'}]])
    expect(client.imports.map((i) => i.tag)).toEqual(['bento-model.invalid/h0123456789abcdef/iris_clf:m1'])
    const b = client.builds.at(-1)!
    expect(b.secrets).toEqual(['HF_TOKEN'])
    const dockerfile = b.contents['env/docker/Dockerfile']!
    expect(dockerfile).toContain('RUN --mount=type=secret,id=HF_TOKEN --mount=type=cache,target=/root/.cache/pip \\\n    export HF_TOKEN="$(cat /run/secrets/HF_TOKEN)"; bash')
    expect(dockerfile).not.toMatch(/^(ARG|ENV) (HF_TOKEN|LATE)\b/m)
    expect(dockerfile).toMatch(/^ARG MODE=/m)
  })

  it('index credentials of the lock: ${VAR}s from the environment as secrets on the install step; missing is E_USAGE; masked in a build error', async () => {
    const lock = '--index-url http://${IDX_USER}:${IDX_TOKEN}@10.0.0.1:8080/simple\n--trusted-host 10.0.0.1\nbentoml==1.4.15 \\\n    --hash=sha256:' + 'a'.repeat(64) + '\n'
    await writeFile(join(bento, 'env/python/requirements.lock.txt'), lock)
    const client = new FakeImageClient()
    const secrets: BuildSecret[][] = []
    const spy = client.build.bind(client)
    client.build = async (o) => {
      secrets.push(o.secrets ?? [])
      return spy(o)
    }
    await containerize(opts(client, {environ: {IDX_USER: 'idx-user-42', IDX_TOKEN: 'tok-very-secret'}}))
    expect(secrets).toEqual([[{id: 'bento-index-IDX_USER', value: 'idx-user-42'}, {id: 'bento-index-IDX_TOKEN', value: 'tok-very-secret'}]])
    const dockerfile = client.builds.at(-1)!.contents['env/docker/Dockerfile']!
    expect(dockerfile).toContain('RUN --mount=type=secret,id=bento-index-IDX_USER --mount=type=secret,id=bento-index-IDX_TOKEN --mount=type=cache,target=/root/.cache/pip \\\n    export IDX_USER="$(cat /run/secrets/bento-index-IDX_USER)"; export IDX_TOKEN="$(cat /run/secrets/bento-index-IDX_TOKEN)"; bash')
    expect(client.builds.at(-1)!.files.some((f) => f.includes('secret'))).toBe(false)

    // Not set: a usage error naming it, before any build.
    const none = new FakeImageClient()
    await expect(containerize(opts(none, {environ: {IDX_USER: 'idx-user-42'}}))).rejects.toMatchObject({code: 'E_USAGE', exitCode: 2, data: {missing: ['IDX_TOKEN']}})
    expect(none.builds).toHaveLength(0)
    // Offline from a wheelhouse no index is asked: no secret needed.
    await mkdir(join(home, 'wheels'))
    const offline = new FakeImageClient()
    await containerize(opts(offline, {wheelhouse: join(home, 'wheels')}))
    expect(offline.builds.at(-1)!.secrets ?? []).toEqual([])

    // A build error that prints a value has it masked.
    const failing = new FakeImageClient({
      failures: {build: new DockerBuildError('pip: 401 for http://idx-user-42:tok-very-secret@10.0.0.1:8080/simple', {code: 'E_DOCKER_BUILD_STEP', data: {log: 'tok-very-secret'}})},
    })
    const err = (await containerize(opts(failing, {environ: {IDX_USER: 'idx-user-42', IDX_TOKEN: 'tok-very-secret'}})).catch((e: unknown) => e)) as DockerBuildError
    expect(err).toMatchObject({code: 'E_DOCKER_BUILD_STEP', exitCode: 8})
    expect(JSON.stringify(err.toJSON())).not.toContain('tok-very-secret')
    expect(err.message).toContain('http://***:***@10.0.0.1')
  })

  it('--ca-cert: the CA reaches the build as a file secret, in no file of the context; invalid PEM and classic builder refused', async () => {
    const ca = fileURLToPath(new URL('../../test/fixtures/ca/test-ca.pem', import.meta.url))
    const client = new FakeImageClient()
    const secrets = secretsOfBuilds(client)
    const result = await containerize(opts(client, {caCerts: [ca]}))
    expect(secrets).toEqual([[{id: 'bento-ca-0', file: ca}]])
    expect(result.caCerts).toEqual([{file: ca, certificates: 1}])
    const b = client.builds.at(-1)!
    expect(b.secrets).toEqual(['bento-ca-0'])
    expect(b.contents['env/docker/Dockerfile']).toContain('RUN --mount=type=secret,id=bento-ca-0 --mount=type=tmpfs,target=/run/bento-ca --mount=type=cache,target=/root/.cache/pip')
    // the Bento's stored Dockerfile is untouched
    expect(await readFile(join(bento, 'env/docker/Dockerfile'), 'utf8').catch(() => '')).not.toContain('bento-ca')

    await writeFile(join(home, 'bad.pem'), 'garbage')
    await expect(containerize(opts(new FakeImageClient(), {caCerts: ['bad.pem'], cwd: home}))).rejects.toMatchObject({code: 'E_USAGE', data: {file: join(home, 'bad.pem')}})
    const classic = new FakeImageClient({buildkit: false})
    await expect(containerize(opts(classic, {caCerts: [ca]}))).rejects.toThrow(/--ca-cert needs BuildKit/)
    expect(classic.builds).toEqual([])
  })

  it('build-stage envs without BuildKit are refused, as bentoml containerize does', async () => {
    const yaml = (await readFile(join(bento, 'bento.yaml'), 'utf8')).replace("envs:\n", "envs:\n- name: 'TOKEN'\n  value: ''\n  stage: 'build'\n")
    await writeFile(join(bento, 'bento.yaml'), yaml)
    const client = new FakeImageClient({buildkit: false})
    await expect(containerize(opts(client, {environ: {TOKEN: 't'}}))).rejects.toThrow(/need BuildKit/)
    expect(client.builds).toEqual([])
  })

  it('--output to a directory that is not empty is E_USAGE before anything reaches the daemon (no model import, no build)', async () => {
    const client = new FakeImageClient()
    const out = join(home, 'iris-oci')
    await mkdir(out)
    await writeFile(join(out, 'mine.txt'), 'keep')
    await expect(containerize(opts(client, {output: {kind: 'oci', path: out}}))).rejects.toMatchObject({code: 'E_USAGE', exitCode: 2, message: expect.stringContaining('--output oci:')})
    expect(client.imports).toEqual([])
    expect(client.builds).toEqual([])
    expect(await readdir(out)).toEqual(['mine.txt'])
  })
})

