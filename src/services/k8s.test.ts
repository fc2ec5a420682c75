/** The k8s service: a Bento of a temp store, images of the in-memory engine — which reference the Deployment gets. */
import {rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {FakeImageClient} from '../docker/fake-client.js'
import {DockerUnavailableError} from '../errors.js'
import {memoryReporter} from '../reporter.js'
import {tempDir} from '../../test/helpers/env.js'
import {writeTree} from '../../test/helpers/files.js'
import {bentoTreeWithEnv} from '../../test/helpers/store-fixtures.js'
import {k8s, type K8sServiceOptions, pinnedRef, repositoryOf} from './k8s.js'

const DIGEST = `sha256:${'b'.repeat(64)}`
const OTHER = `sha256:${'c'.repeat(64)}`

let home: string
beforeAll(async () => {
  home = await tempDir('bento-k8s-svc-')
  await writeTree(join(home, 'bentos/iris'), {v1: bentoTreeWithEnv('iris', {name: 'HF_TOKEN', stage: 'runtime'}, '{cpu: "2", memory: 4Gi}'), latest: 'v1'})
})
afterAll(async () => {
  await rm(home, {recursive: true, force: true})
})

function options(images: FakeImageClient | null, extra: Partial<Omit<K8sServiceOptions, 'reporter'>> = {}): K8sServiceOptions & {reporter: ReturnType<typeof memoryReporter>} {
  return {tag: 'iris:latest', home, images, replicas: 1, gpuNodeLabel: 'cloud.google.com/gke-accelerator', readOnlyRootFilesystem: true, format: 'yaml', ...extra, reporter: memoryReporter()}
}

describe('bento k8s (service)', () => {
  it('--image REF pushed: the engine\'s RepoDigest in REF\'s repository pins it', async () => {
    const images = new FakeImageClient({images: [{id: 'sha256:1', repoTags: ['reg.example:5000/ml/iris:dev'], repoDigests: [`other.example/iris@${OTHER}`, `reg.example:5000/ml/iris@${DIGEST}`]}]})
    const r = await k8s(options(images, {image: 'reg.example:5000/ml/iris:dev'}))
    expect(r).toMatchObject({bento: 'iris:v1', image: `reg.example:5000/ml/iris@${DIGEST}`, imageSource: 'engine-digest', resources: {cpu: '2', memory: '4Gi'}})
    expect(r.manifest).toContain(`image: reg.example:5000/ml/iris@${DIGEST}`)
  })

  it('--image REF@sha256:… is used as given, the engine is not asked', async () => {
    const images = new FakeImageClient()
    const r = await k8s(options(images, {image: `reg.example/iris@${DIGEST}`}))
    expect(r).toMatchObject({image: `reg.example/iris@${DIGEST}`, imageSource: 'given-digest'})
    expect(images.calls.filter((c) => c.op === 'inspect')).toEqual([])
  })

  it('no --image: the Bento\'s own image, pinned when it was pushed (its only RepoDigest)', async () => {
    const images = new FakeImageClient({images: [{id: 'sha256:2', repoTags: ['iris:v1'], repoDigests: [`reg.example/iris@${DIGEST}`]}]})
    expect(await k8s(options(images))).toMatchObject({image: `reg.example/iris@${DIGEST}`, imageSource: 'engine-digest'})
  })

  it('no --image, the Bento containerized under another name (-t REG/iris:dev --push): found by its dev.bento.tag label', async () => {
    const images = new FakeImageClient({
      images: [
        {id: 'sha256:old', repoTags: ['reg.example/iris:old'], repoDigests: [`reg.example/iris@${OTHER}`], labels: {'dev.bento.tag': 'iris:v1'}, created: '2026-01-01T00:00:00Z'},
        {id: 'sha256:new', repoTags: ['reg.example/iris:dev'], repoDigests: [`reg.example/iris@${DIGEST}`], labels: {'dev.bento.tag': 'iris:v1'}, created: '2026-02-01T00:00:00Z'},
      ],
    })
    expect(await k8s(options(images))).toMatchObject({image: `reg.example/iris@${DIGEST}`, imageSource: 'engine-digest'})
  })

  it('not pushed, or no engine: the tag as is, with a warning that says why', async () => {
    const local = new FakeImageClient({images: [{id: 'sha256:3', repoTags: ['iris:v1']}]})
    const r = await k8s(options(local))
    expect(r).toMatchObject({image: 'iris:v1', imageSource: 'tag'})
    expect(r.warnings.join('\n')).toContain('has no registry digest (it was not pushed)')
    const noEngine = new FakeImageClient({failures: {inspect: new DockerUnavailableError('Cannot connect to the Docker daemon')}})
    const o = options(noEngine, {image: 'reg.example/iris:dev'})
    const r2 = await k8s(o)
    expect(r2).toMatchObject({image: 'reg.example/iris:dev', imageSource: 'tag'})
    expect(o.reporter.lines.join('\n')).toContain('warning: no Docker engine answers')
  })

  it('a runtime env without a value: the secretKeyRef and the kubectl line on the reporter (stderr)', async () => {
    const o = options(null, {namespace: 'ml'})
    const r = await k8s(o)
    expect(r.secret?.command).toBe('kubectl create secret generic iris-env -n ml --from-literal=HF_TOKEN=…')
    expect(o.reporter.lines.join('\n')).toContain('kubectl create secret generic iris-env -n ml')
  })

  it('a Bento that is not in the store: E_BENTO_NOT_FOUND', async () => {
    await expect(k8s(options(null, {tag: 'nope:latest'}))).rejects.toMatchObject({code: 'E_BENTO_NOT_FOUND', exitCode: 4})
  })

  it('repositories and digests of references', () => {
    expect(repositoryOf('127.0.0.1:5000/iris:dev')).toBe('127.0.0.1:5000/iris')
    expect(repositoryOf('127.0.0.1:5000/iris')).toBe('127.0.0.1:5000/iris')
    expect(repositoryOf(`reg/iris@${DIGEST}`)).toBe('reg/iris')
    const info = {repoDigests: [`a/iris@${DIGEST}`, `b/iris@${OTHER}`]} as never
    expect(pinnedRef(info, 'b/iris')).toBe(`b/iris@${OTHER}`)
    expect(pinnedRef(info, null)).toBeNull() // two registries: which one the cluster pulls from is not ours to guess
  })
})
