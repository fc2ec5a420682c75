/**
 * `bento containerize` against a REAL Docker engine (scripts/provision/docker.sh), the locally built
 * python:3.11-slim base image, a local registry on 127.0.0.1:5000 and the real BentoML 1.4.15.
 * Python packages come from the host wheelhouse (--wheelhouse), so builds are offline and repeatable.
 * `--platform` (amd64 + arm64 under QEMU): containerize-platform.docker.test.ts, a file of its own so that it runs
 * beside this one.
 */
import {randomBytes} from 'node:crypto'
import {appendFile, chmod, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {docker, imagesMadeBy, inspectImage, irisProject, postJson, removeContainersAndImages, removeDir, removeHomeImages, REPO, requireDocker, runBento, runBentoml, saveIrisModel, serveImage, tempDir} from '../helpers/env.js'
import {deleteRepository, REGISTRY} from '../helpers/registry.js'

const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(REPO, '.tools/wheelhouse')
const RUN_ID = randomBytes(4).toString('hex')
/** This file's own registry repository, deleted afterwards. */
const REPOSITORY = `iris-e2e-${RUN_ID}`

interface ContainerizeJson {
  bento: string
  imageId: string
  tags: string[]
  size: number
  layers: Array<{id: string; createdBy: string; size: number}>
  steps: Array<{step: string; cached: boolean}>
  durationMs: number
  digest?: string
  modelImages?: Array<{image: string; built: boolean}>
}

describe('bento containerize on a real Docker engine', () => {
  let home: string
  let project: string
  let bentoTag: string
  const image = `iris-e2e:${RUN_ID}`
  const containers: string[] = []
  const images: string[] = [image]

  async function build(): Promise<string> {
    const r = await runBento(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(r.code, r.stderr).toBe(0)
    return (JSON.parse(r.stdout) as {tag: string}).tag
  }

  async function containerize(tag: string, imageTag: string, extra: string[] = []): Promise<{code: number; json: ContainerizeJson; stderr: string}> {
    const r = await runBento(['containerize', tag, '-t', imageTag, '--wheelhouse', WHEELHOUSE, '--json', ...extra], {
      env: {BENTOML_HOME: home},
    })
    const json = JSON.parse(r.stdout || '{}') as ContainerizeJson
    images.push(...imagesMadeBy(json))
    return {code: r.code, json, stderr: r.stderr}
  }

  async function start(ref: string, runArgs: string[] = []): Promise<{url: string; id: string}> {
    const {id, url} = await serveImage(ref, containers, runArgs)
    return {url, id}
  }

  beforeAll(async () => {
    await requireDocker()
    home = await tempDir('bento-home-docker-')
    project = await irisProject()
    await saveIrisModel(home)
    bentoTag = await build()
  })

  afterAll(async () => {
    await removeContainersAndImages(containers, images)
    await deleteRepository(REPOSITORY)
    await removeHomeImages(home)
    await removeDir(home)
    await removeDir(project)
  })

  it('builds an image that serves the iris classifier as uid 1034, with labels and a healthy HEALTHCHECK', async () => {
    const r = await containerize(bentoTag, image)
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.tags).toEqual([image])
    expect(r.json.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(r.json.size).toBeGreaterThan(0)
    expect(r.json.layers.length).toBeGreaterThan(3)

    const labels = await inspectImage<Record<string, string>>(image, '.Config.Labels')
    expect(labels['dev.bento.tag']).toBe(bentoTag)
    expect(labels['dev.bento.bentoml-version']).toBe('1.4.15')
    expect(labels['org.opencontainers.image.title']).toBe('clasificador_iris')
    expect(labels['dev.bento.labels.owner']).toBe('bentoml-team')
    expect(await inspectImage<string>(image, '.Config.User')).toBe('bentoml')
    expect(await inspectImage<Record<string, unknown>>(image, '.Config.ExposedPorts')).toHaveProperty('3000/tcp')
    // The image's HEALTHCHECK: its probe, every 30 s after a 60 s start period.
    const check = await inspectImage<{Test: string[]; Interval: number; StartPeriod: number; Retries: number}>(image, '.Config.Healthcheck')
    expect(check.Test.slice(0, 2)).toEqual(['CMD', '/app/.venv/bin/python3'])
    expect({interval: check.Interval, startPeriod: check.StartPeriod, retries: check.Retries}).toEqual({interval: 30e9, startPeriod: 60e9, retries: 3})

    // Run with the probe every second (the image's own probe command; only its schedule is the run's), so that the
    // test does not wait 30 s for the first one.
    const {url, id} = await start(image, ['--health-interval', '1s'])
    expect(await postJson(`${url}/classify`, [[5.1, 3.5, 1.4, 0.2]])).toEqual({status: 200, json: ['setosa']})
    expect(await postJson(`${url}/classify`, [[6.7, 3.0, 5.2, 2.3]])).toEqual({status: 200, json: ['virginica']})
    const uid = await docker('exec', id, 'id', '-u')
    expect(uid.stdout.trim()).toBe('1034')
    const compilers = await docker('exec', id, 'sh', '-c', 'command -v gcc || echo none')
    expect(compilers.stdout.trim()).toBe('none')

    // The image's own HEALTHCHECK (no curl in the image) turns healthy.
    const deadline = Date.now() + 150_000
    let health = ''
    while (Date.now() < deadline) {
      health = (await docker('inspect', '-f', '{{.State.Health.Status}}', id)).stdout.trim()
      if (health === 'healthy') break
      await new Promise((res) => setTimeout(res, 2_000))
    }
    expect(health).toBe('healthy')
  })

  it('after a one-line change in service.py, every layer before the code is reused and it still answers', async () => {
    const before = await inspectImage<{Layers: string[]}>(image, '.RootFS')
    await appendFile(join(project, 'service.py'), '\n# a one-line change\n')
    const tag2 = await build()
    expect(tag2).not.toBe(bentoTag)
    const image2 = `iris-e2e:${RUN_ID}-edit`
    images.push(image2)
    const r = await containerize(tag2, image2)
    expect(r.code, r.stderr).toBe(0)
    const installStep = r.json.steps.find((s) => /install\.sh/.test(s.step))
    const modelsStep = r.json.steps.find((s) => /COPY --from=bento-model\.invalid\//.test(s.step))
    expect(installStep?.cached, JSON.stringify(r.json.steps, null, 1)).toBe(true)
    expect(modelsStep?.cached, JSON.stringify(r.json.steps, null, 1)).toBe(true)

    const after = await inspectImage<{Layers: string[]}>(image2, '.RootFS')
    let common = 0
    while (common < before.Layers.length && before.Layers[common] === after.Layers[common]) common++
    // Only the code layers (env/docker, apis, bento.yaml + README, src) differ.
    expect(after.Layers.length - common).toBeLessThanOrEqual(4)
    expect(common).toBeGreaterThanOrEqual(after.Layers.length - 4)

    const {url} = await start(image2)
    expect(await postJson(`${url}/classify`, [[5.1, 3.5, 1.4, 0.2]])).toEqual({status: 200, json: ['setosa']})
  })

  it('a failing setup_script is a typed error with its log, exit code 8, and leaves no image', async () => {
    const p = await irisProject()
    try {
      await writeFile(join(p, 'setup.sh'), '#!/bin/sh\necho "setup is about to fail: boom"\nexit 3\n')
      await chmod(join(p, 'setup.sh'), 0o755)
      await appendFile(join(p, 'bentofile.yaml'), 'docker:\n  setup_script: ./setup.sh\n')
      const b = await runBento(['build', '--json'], {cwd: p, env: {BENTOML_HOME: home}})
      expect(b.code, b.stderr).toBe(0)
      const tag = (JSON.parse(b.stdout) as {tag: string}).tag
      const failing = `iris-e2e-failing:${RUN_ID}`
      images.push(failing)
      const r = await runBento(['containerize', tag, '-t', failing, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}})
      expect(r.code).toBe(8)
      const err = (JSON.parse(r.stdout) as {error: {code: string; step?: string; log?: string[] | string}}).error
      expect(err.code).toBe('E_DOCKER_BUILD_STEP')
      expect(JSON.stringify(err)).toContain('setup_script')
      expect(JSON.stringify(err)).toContain('boom')
      expect(r.stderr).not.toMatch(/\n\s+at /)
      const gone = await docker('image', 'inspect', failing)
      expect(gone.code).not.toBe(0)
    } finally {
      await removeDir(p)
    }
  })

  it('a base image the daemon does not have is E_DOCKER_BASE_IMAGE (exit 8) with next steps, and leaves no image', async () => {
    const p = await irisProject()
    try {
      await appendFile(join(p, 'bentofile.yaml'), 'docker:\n  base_image: "bento-e2e/missing:nope"\n')
      const b = await runBento(['build', '--json'], {cwd: p, env: {BENTOML_HOME: home}})
      expect(b.code, b.stderr).toBe(0)
      const tag = (JSON.parse(b.stdout) as {tag: string}).tag
      const ref = `iris-e2e-nobase:${RUN_ID}`
      images.push(ref)
      const r = await runBento(['containerize', tag, '-t', ref, '--json'], {env: {BENTOML_HOME: home}})
      expect(r.code).toBe(8)
      const err = (JSON.parse(r.stdout) as {error: {code: string; hint: string}}).error
      expect(err.code).toBe('E_DOCKER_BASE_IMAGE')
      expect(err.hint).toContain('bento-e2e/missing:nope')
      expect((await docker('image', 'inspect', ref)).code).not.toBe(0)
    } finally {
      await removeDir(p)
    }
  })

  it('pushes to a local registry and the image pulls back by digest', async () => {
    const ref = `${REGISTRY}/${REPOSITORY}:1`
    images.push(ref)
    const r = await containerize(bentoTag, ref, ['--push'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    const byDigest = `${REGISTRY}/${REPOSITORY}@${r.json.digest}`
    expect((await docker('rmi', ref)).code).toBe(0)
    const pulled = await docker('pull', byDigest)
    expect(pulled.code, pulled.stderr).toBe(0)
    images.push(byDigest)
    const ids = await inspectImage<string>(byDigest, '.Id')
    expect(ids).toMatch(/^sha256:/)
  })

  it('the real `bentoml containerize` accepts the Bento that bento build wrote, and its image serves it', async () => {
    const real = `iris-e2e-real:${RUN_ID}`
    images.push(real)
    const r = await runBentoml(['containerize', bentoTag, '-t', real], home)
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const {url} = await start(real)
    expect(await postJson(`${url}/classify`, [[5.1, 3.5, 1.4, 0.2]])).toEqual({status: 200, json: ['setosa']})
  })

  it('a Bento tag that does not exist is a clear error (exit 4), and an unreachable daemon is exit 7', async () => {
    const missing = await runBento(['containerize', 'nope:latest', '--json'], {env: {BENTOML_HOME: home}})
    expect(missing.code).toBe(4)
    expect((JSON.parse(missing.stdout) as {error: {code: string}}).error.code).toBe('E_BENTO_NOT_FOUND')
    const noDaemon = await runBento(['containerize', bentoTag, '--json'], {
      env: {BENTOML_HOME: home, DOCKER_HOST: 'unix:///nonexistent/docker.sock'},
    })
    expect(noDaemon.code).toBe(7)
    const e = (JSON.parse(noDaemon.stdout) as {error: {code: string; hint?: string}}).error
    expect(e.code).toBe('E_DOCKER_UNAVAILABLE')
    expect(e.hint).toBeTruthy()
  })
})
