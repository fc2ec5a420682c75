import {readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'
import {fileURLToPath} from 'node:url'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {DockerBuildError, DockerUnavailableError} from '../errors.js'
import {DockerodeClient, resolveDockerEndpoint} from './dockerode-client.js'
import type {BuildEvent} from './image-client.js'

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/docker-streams/${name}`, import.meta.url)), 'utf8')

describe('resolveDockerEndpoint', () => {
  it('defaults to /var/run/docker.sock', () => {
    expect(resolveDockerEndpoint({})).toMatchObject({kind: 'unix', socketPath: '/var/run/docker.sock'})
  })
  it('reads unix:// and tcp:// DOCKER_HOST, with TLS settings', () => {
    expect(resolveDockerEndpoint({DOCKER_HOST: 'unix:///run/user/1000/docker.sock'})).toMatchObject({kind: 'unix', socketPath: '/run/user/1000/docker.sock'})
    expect(resolveDockerEndpoint({DOCKER_HOST: 'tcp://10.0.0.5:2375'})).toMatchObject({kind: 'tcp', host: '10.0.0.5', port: 2375, tls: false})
    expect(resolveDockerEndpoint({DOCKER_HOST: 'tcp://docker.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs'})).toMatchObject({
      kind: 'tcp',
      host: 'docker.example',
      port: 2376,
      tls: true,
      verify: true,
      certPath: '/certs',
    })
    expect(resolveDockerEndpoint({DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1'}, '/home/u')).toMatchObject({port: 2376, certPath: '/home/u/.docker'})
  })
  it('rejects what it cannot use with a DockerUnavailableError', () => {
    expect(() => resolveDockerEndpoint({DOCKER_HOST: 'ssh://me@host'})).toThrow(DockerUnavailableError)
  })
})

/** A scripted Engine API on a unix socket: enough of /version, /images, /build for the client. */
interface FakeDaemon {
  socket: string
  requests: string[]
  images: Map<string, string>
  build: (res: http.ServerResponse) => void
  importReply: (res: http.ServerResponse) => void
  imported?: Buffer
  close: () => Promise<void>
}

async function startDaemon(dir: string): Promise<FakeDaemon> {
  const socket = path.join(dir, 'docker.sock')
  const state: FakeDaemon = {
    socket,
    requests: [],
    images: new Map(),
    build: (res) => res.end(),
    importReply: (res) => res.end(`{"status":"sha256:${'ab'.repeat(32)}"}\r\n`),
    close: async () => undefined,
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://d')
    state.requests.push(`${req.method} ${url.pathname}${url.search}`)
    const img = /^\/images\/(.+)\/json$/.exec(url.pathname)
    if (url.pathname === '/version') {
      res.setHeader('Content-Type', 'application/json')
      res.end(JSON.stringify({ApiVersion: '1.41', Version: '20.10.24', Os: 'linux'}))
    } else if (img && req.method === 'GET') {
      const id = state.images.get(decodeURIComponent(img[1] as string))
      res.statusCode = id ? 200 : 404
      res.setHeader('Content-Type', 'application/json')
      res.end(JSON.stringify(id ? {Id: id, RepoTags: [], Config: {Labels: {}}} : {message: 'No such image'}))
    } else if (url.pathname === '/images/create' && req.method === 'POST') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        state.imported = Buffer.concat(chunks)
        res.setHeader('Content-Type', 'application/json')
        state.importReply(res)
      })
    } else if (url.pathname === '/build') {
      req.resume()
      req.on('end', () => {
        res.setHeader('Content-Type', 'application/json')
        state.build(res)
      })
    } else if (req.method === 'DELETE' && url.pathname.startsWith('/images/')) {
      state.images.delete(decodeURIComponent(url.pathname.slice('/images/'.length)))
      res.setHeader('Content-Type', 'application/json')
      res.end('[]')
    } else {
      res.statusCode = 404
      res.end('{"message":"not faked"}')
    }
  })
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  state.close = () => new Promise((resolve) => server.close(() => resolve()))
  return state
}

describe('DockerodeClient against a scripted Engine API', () => {
  let dir: string
  let daemon: FakeDaemon
  let client: DockerodeClient
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bento-daemon-'))
    daemon = await startDaemon(dir)
    client = new DockerodeClient({env: {DOCKER_HOST: `unix://${daemon.socket}`, DOCKER_BUILDKIT: '0'}})
  })
  afterEach(async () => {
    await daemon.close()
    await rm(dir, {recursive: true, force: true})
  })

  const build = (events: BuildEvent[] = []) =>
    client.build({
      context: Readable.from([Buffer.alloc(1024)]),
      dockerfile: 'env/docker/Dockerfile',
      tags: ['iris:v1'],
      labels: {'dev.bento.tag': 'iris:v1'},
      onProgress: (e) => events.push(e),
    })

  it('ping reports the API version and BuildKit availability', async () => {
    expect(await client.ping()).toEqual({apiVersion: '1.41', buildkit: false})
    const bk = new DockerodeClient({env: {DOCKER_HOST: `unix://${daemon.socket}`}})
    expect(await bk.ping()).toEqual({apiVersion: '1.41', buildkit: true})
  })

  it('asks the daemon its version once per client (ping, then build), and asks again after a failed ask', async () => {
    daemon.build = (res) => res.end(fixture('classic-ok.jsonl'))
    await client.ping()
    await build()
    expect(daemon.requests.filter((r) => r.startsWith('GET /version'))).toHaveLength(1)
    const gone = new DockerodeClient({env: {DOCKER_HOST: `unix://${path.join(dir, 'nothing.sock')}`}})
    await expect(gone.ping()).rejects.toThrow(/Cannot reach the Docker daemon/)
    await expect(gone.ping()).rejects.toThrow(/Cannot reach the Docker daemon/)
  })

  it('builds: query carries tags, dockerfile and labels; progress is decoded', async () => {
    daemon.build = (res) => res.end(fixture('classic-ok.jsonl'))
    const events: BuildEvent[] = []
    const {imageId} = await build(events)
    expect(imageId).toBe('sha256:85271ffdd46f0dc21def9ba48662b4cb0eab2cb37dc0ff70b53078555c1eb57d')
    const req = daemon.requests.find((r) => r.startsWith('POST /build')) ?? ''
    const q = new URL(req.slice(5), 'http://d').searchParams
    expect(q.getAll('t')).toEqual(['iris:v1'])
    expect(q.get('dockerfile')).toBe('env/docker/Dockerfile')
    expect(JSON.parse(q.get('labels') ?? '{}')).toEqual({'dev.bento.tag': 'iris:v1'})
    expect(q.get('forcerm')).toBe('true')
    expect(events.filter((e) => e.type === 'step')).toHaveLength(4)
  })

  it('a failing step rejects with E_DOCKER_BUILD_STEP and removes a tag the build moved', async () => {
    daemon.build = (res) => {
      daemon.images.set('iris:v1', 'sha256:partial') // as if the daemon had tagged something
      res.end(fixture('classic-fail.jsonl'))
    }
    const err = await build().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DockerBuildError)
    expect((err as DockerBuildError).code).toBe('E_DOCKER_BUILD_STEP')
    expect((err as DockerBuildError).data?.step).toMatch(/^Step 3\/4/)
    expect(daemon.requests).toContain('DELETE /images/iris:v1?noprune=false')
    expect(daemon.images.has('iris:v1')).toBe(false)
  })

  it('keeps a tag that already pointed at the same image before the build', async () => {
    daemon.images.set('iris:v1', 'sha256:old')
    daemon.build = (res) => res.end(fixture('classic-fail.jsonl'))
    await expect(build()).rejects.toBeInstanceOf(DockerBuildError)
    expect(daemon.images.get('iris:v1')).toBe('sha256:old')
  })

  it('Ctrl-C mid-build (the signal aborted): E_INTERRUPTED, the build request closed, a tag the build moved removed', async () => {
    const controller = new AbortController()
    let closed = false
    daemon.build = (res) => {
      daemon.images.set('iris:v1', 'sha256:partial') // as if the daemon had tagged something
      res.write(fixture('classic-truncated.jsonl'))
      res.on('close', () => (closed = true))
      setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 20)
    }
    const err = await client
      .build({
        context: Readable.from([Buffer.alloc(1024)]),
        dockerfile: 'env/docker/Dockerfile',
        tags: ['iris:v1'],
        labels: {},
        onProgress: () => undefined,
        signal: controller.signal,
      })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'E_INTERRUPTED', exitCode: 130})
    await new Promise((r) => setTimeout(r, 50))
    expect(closed).toBe(true)
    expect(daemon.images.has('iris:v1')).toBe(false)
  })

  it('daemon dying mid-build → E_DOCKER_DAEMON_LOST', async () => {
    daemon.build = (res) => {
      res.write(fixture('classic-truncated.jsonl'))
      setTimeout(() => res.socket?.destroy(), 20)
    }
    await expect(build()).rejects.toMatchObject({code: 'E_DOCKER_DAEMON_LOST'})
  })

  it('stream ending without a result → E_DOCKER_DAEMON_LOST', async () => {
    daemon.build = (res) => res.end(fixture('classic-truncated.jsonl'))
    await expect(build()).rejects.toMatchObject({code: 'E_DOCKER_DAEMON_LOST'})
  })

  it('missing base image → E_DOCKER_BASE_IMAGE', async () => {
    daemon.build = (res) => res.end(fixture('classic-base.jsonl'))
    await expect(build()).rejects.toMatchObject({code: 'E_DOCKER_BASE_IMAGE', data: expect.objectContaining({image: 'bento-missing/base:1.0'})})
  })

  it('imports a one-layer image: the tar as the body, repo/tag and labels as LABEL changes; the id from the reply', async () => {
    const layer = Buffer.from('a tar, as far as this daemon cares')
    const r = await client.importImage({layer: Readable.from([layer]), tag: 'bento-model/iris_clf:v1', labels: {'dev.bento.kind': 'model', 'dev.bento.model.source': 'http://h/o m@"x"'}})
    expect(r.imageId).toBe(`sha256:${'ab'.repeat(32)}`)
    expect(daemon.imported).toEqual(layer)
    const req = daemon.requests.find((x) => x.startsWith('POST /images/create')) ?? ''
    const q = new URL(req.slice(5), 'http://d').searchParams
    expect(q.get('fromSrc')).toBe('-')
    expect(q.get('repo')).toBe('bento-model/iris_clf')
    expect(q.get('tag')).toBe('v1')
    expect(q.getAll('changes')).toEqual(['LABEL "dev.bento.kind"="model"', 'LABEL "dev.bento.model.source"="http://h/o m@\\"x\\""'])
  })

  it('an import the daemon refuses mid-stream is E_DOCKER_BUILD; one that ends without an id is E_DOCKER_DAEMON_LOST', async () => {
    const imp = () => client.importImage({layer: Readable.from([Buffer.alloc(10)]), tag: 'bento-model/x:v1', labels: {}})
    daemon.importReply = (res) => res.end('{"status":"Importing"}\r\n{"errorDetail":{"message":"no space left on device"},"error":"no space left on device"}\r\n')
    await expect(imp()).rejects.toMatchObject({code: 'E_DOCKER_BUILD', message: expect.stringMatching(/no space left on device/)})
    daemon.importReply = (res) => res.end('{"status":"Importing"}\r\n')
    await expect(imp()).rejects.toMatchObject({code: 'E_DOCKER_DAEMON_LOST'})
  })

  it('inspect returns null for a missing image', async () => {
    expect(await client.inspect('nope:1')).toBeNull()
  })

  it('an unreachable daemon is a DockerUnavailableError with next steps', async () => {
    const gone = new DockerodeClient({env: {DOCKER_HOST: `unix://${path.join(dir, 'missing.sock')}`}})
    const err = (await gone.ping().catch((e: unknown) => e)) as DockerUnavailableError
    expect(err).toBeInstanceOf(DockerUnavailableError)
    expect(err.message).toContain('missing.sock')
    expect(err.hint).toContain('is dockerd running')
    expect(err.hint).toContain(`DOCKER_HOST=unix://${path.join(dir, 'missing.sock')}`)
  })
})
