import {readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'
import {fileURLToPath} from 'node:url'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {DockerBuildError, DockerUnavailableError} from '../errors.js'
import {Watchdog} from './deadline.js'
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
  /** Image configs by reference (`Config` of an inspect), for a commit's base. */
  configs: Map<string, Record<string, unknown>>
  /** The body of the last container create, and of the last archive PUT. */
  created?: Record<string, unknown>
  archived?: Buffer
  archiveStatus: number
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
    configs: new Map(),
    archiveStatus: 200,
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
      const config = state.configs.get(decodeURIComponent(img[1] as string)) ?? {Labels: {}}
      res.end(JSON.stringify(id ? {Id: id, RepoTags: [], Config: config} : {message: 'No such image'}))
    } else if (url.pathname === '/images/create' && req.method === 'POST') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        state.imported = Buffer.concat(chunks)
        res.setHeader('Content-Type', 'application/json')
        state.importReply(res)
      })
    } else if (url.pathname === '/containers/create' && req.method === 'POST') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        state.created = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
        res.statusCode = 201
        res.setHeader('Content-Type', 'application/json')
        res.end('{"Id":"c1","Warnings":[]}')
      })
    } else if (url.pathname === '/containers/c1/archive' && req.method === 'PUT') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        state.archived = Buffer.concat(chunks)
        res.statusCode = state.archiveStatus
        res.setHeader('Content-Type', 'application/json')
        res.end(state.archiveStatus === 200 ? '' : '{"message":"no space left on device"}')
      })
    } else if (url.pathname === '/commit' && req.method === 'POST') {
      req.resume()
      res.statusCode = 201
      res.setHeader('Content-Type', 'application/json')
      res.end(`{"Id":"sha256:${'cd'.repeat(32)}"}`)
    } else if (req.method === 'DELETE' && url.pathname === '/containers/c1') {
      res.statusCode = 204
      res.end()
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
    expect(await client.ping()).toEqual({apiVersion: '1.41', buildkit: false, engine: 'docker'})
    const bk = new DockerodeClient({env: {DOCKER_HOST: `unix://${daemon.socket}`}})
    expect(await bk.ping()).toEqual({apiVersion: '1.41', buildkit: true, engine: 'docker'})
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

  it('commits a layer: a container of the base (never started), the tar PUT at /, committed with the base CMD, the container removed', async () => {
    daemon.images.set('sha256:deps', `sha256:${'de'.repeat(32)}`)
    daemon.configs.set('sha256:deps', {Labels: {}, Cmd: ['python3']})
    const layer = Buffer.from('the model layer tar')
    const r = await client.commitLayer({base: 'sha256:deps', layer: Readable.from([layer]), tag: 'bento-model.invalid/h1/assembled/models:k1', createdBy: 'bento: model m:v1 in /p'})
    expect(r.imageId).toBe(`sha256:${'cd'.repeat(32)}`)
    expect(daemon.archived).toEqual(layer)
    expect(daemon.created).toMatchObject({Image: 'sha256:deps', Cmd: ['/bin/sh', '-c', '#(nop) bento: model m:v1 in /p'], NetworkDisabled: true})
    const paths = daemon.requests.map((x) => x.split('?')[0])
    expect(paths.filter((x) => x !== 'GET /version')).toEqual(['GET /images/sha256:deps/json', 'POST /containers/create', 'PUT /containers/c1/archive', 'POST /commit', 'DELETE /containers/c1'])
    const q = (start: string): URLSearchParams => new URL((daemon.requests.find((x) => x.startsWith(start)) ?? '').replace(/^\S+ /, ''), 'http://d').searchParams
    expect(q('PUT /containers/c1/archive').get('path')).toBe('/')
    expect(Object.fromEntries(q('POST /commit'))).toMatchObject({container: 'c1', repo: 'bento-model.invalid/h1/assembled/models', tag: 'k1', changes: 'CMD ["python3"]'})
    expect(q('DELETE /containers/c1').get('force')).toBe('true')
  })

  it('a layer the daemon refuses is E_DOCKER_BUILD, nothing is committed, and the container is removed all the same', async () => {
    daemon.images.set('sha256:deps', `sha256:${'de'.repeat(32)}`)
    daemon.archiveStatus = 500
    await expect(client.commitLayer({base: 'sha256:deps', layer: Readable.from([Buffer.alloc(10)]), createdBy: 'x'})).rejects.toMatchObject({
      code: 'E_DOCKER_BUILD',
      message: expect.stringMatching(/no space left on device/),
    })
    const paths = daemon.requests.map((x) => x.split('?')[0])
    expect(paths).not.toContain('POST /commit')
    expect(paths.at(-1)).toBe('DELETE /containers/c1')
    // A base that is not there: refused before any container is made.
    await expect(client.commitLayer({base: 'sha256:gone', layer: Readable.from([Buffer.alloc(1)]), createdBy: 'x'})).rejects.toMatchObject({code: 'E_DOCKER_BUILD', message: expect.stringMatching(/no such image: sha256:gone/)})
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

/** A server on a unix socket that answers as `handler` says (or never); its connections are tracked and closed. */
async function serveOn(
  dir: string,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{socket: string; open: () => number; close: () => Promise<void>}> {
  const socket = path.join(dir, 'd.sock')
  const sockets = new Set<import('node:net').Socket>()
  const server = http.createServer(handler)
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  return {
    socket,
    open: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A server on a unix socket that is not HTTP: it writes `reply` and closes. */
async function serveRaw(dir: string, reply: string): Promise<{socket: string; close: () => Promise<void>}> {
  const socket = path.join(dir, 'raw.sock')
  const server = net.createServer((s) => {
    s.on('error', () => undefined)
    s.once('data', () => s.end(reply))
  })
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  return {socket, close: () => new Promise((resolve) => server.close(() => resolve()))}
}

const VERSION = JSON.stringify({ApiVersion: '1.41', Version: '20.10.24', Os: 'linux'})

describe('DockerodeClient: deadlines on every call, and a server that is not a Docker daemon', () => {
  let dir: string
  let stop: Array<() => Promise<void>>
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bento-deadline-'))
    stop = []
  })
  afterEach(async () => {
    for (const s of stop) await s()
    await rm(dir, {recursive: true, force: true})
  })
  const timed = async <T>(p: Promise<T>): Promise<{value: unknown; ms: number}> => {
    const t0 = Date.now()
    const value = await p.then(
      (v) => v as unknown,
      (e: unknown) => e,
    )
    return {value, ms: Date.now() - t0}
  }
  /** A daemon that reads every request and never answers. */
  const hanging = async (): Promise<{socket: string; open: () => number}> => {
    const d = await serveOn(dir, (req) => req.resume())
    stop.push(d.close)
    return d
  }
  const closedSoon = async (open: () => number): Promise<void> => {
    for (let i = 0; i < 50 && open() > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(open(), 'the client closed its connection').toBe(0)
  }

  it('a daemon that accepts and never answers: ping fails E_DOCKER_UNAVAILABLE after BENTO_DOCKER_TIMEOUT, the connection closed', async () => {
    const d = await hanging()
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`, BENTO_DOCKER_TIMEOUT: '0.3'}})
    const {value: err, ms} = await timed(client.ping())
    expect(err).toBeInstanceOf(DockerUnavailableError)
    expect((err as DockerUnavailableError).message).toMatch(/accepted the connection but did not answer GET \/version within 0\.3 s/)
    expect((err as DockerUnavailableError).hint).toMatch(/BENTO_DOCKER_TIMEOUT/)
    expect(ms).toBeLessThan(3000)
    await closedSoon(d.open)
  })

  it('every short call has the deadline: inspect, history, list, remove, tag', async () => {
    const d = await hanging()
    const client = (): DockerodeClient => new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`, BENTO_DOCKER_TIMEOUT: '0.2'}})
    const calls: Array<(c: DockerodeClient) => Promise<unknown>> = [(c) => c.inspect('x:1'), (c) => c.history('x:1'), (c) => c.list(), (c) => c.remove('x:1'), (c) => c.tag('x:1', 'y:2')]
    for (const call of calls) {
      const {value: err, ms} = await timed(call(client()))
      expect(err).toMatchObject({code: 'E_DOCKER_UNAVAILABLE', message: expect.stringMatching(/did not answer .* within 0\.2 s/)})
      expect(ms).toBeLessThan(3000)
    }
    await closedSoon(d.open)
  })

  it('once a short call timed out, the client does not wait again: the next calls fail at once (prune asks several)', async () => {
    const d = await hanging()
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`, BENTO_DOCKER_TIMEOUT: '0.3'}})
    const first = await timed(client.list())
    expect(first.ms).toBeGreaterThanOrEqual(250)
    const again = await timed(client.list({label: ['x']}))
    expect(again.value).toMatchObject({code: 'E_DOCKER_UNAVAILABLE', message: expect.stringMatching(/did not answer GET \/images\/json within 0\.3 s/)})
    expect(again.ms).toBeLessThan(100)
  })

  it('the wait is abortable: the client signal aborted → E_INTERRUPTED at once, the connection closed', async () => {
    const d = await hanging()
    const controller = new AbortController()
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`}, signal: controller.signal})
    setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 100)
    const {value: err, ms} = await timed(client.ping())
    expect(err).toMatchObject({code: 'E_INTERRUPTED', exitCode: 130})
    expect(ms).toBeLessThan(2000)
    await closedSoon(d.open)
    // Aborted before the call: no request at all.
    await expect(client.list()).rejects.toMatchObject({code: 'E_INTERRUPTED'})
  })

  it('a build stream that goes silent mid-build → E_DOCKER_DAEMON_LOST naming BENTO_DOCKER_IDLE_TIMEOUT, the connection closed', async () => {
    let buildClosed = false
    const d = await serveOn(dir, (req, res) => {
      if (req.url?.endsWith('/version')) return res.end(VERSION)
      if (req.url?.startsWith('/images/')) {
        res.statusCode = 404
        return res.end('{"message":"No such image"}')
      }
      req.resume()
      req.on('end', () => res.write(fixture('classic-truncated.jsonl'))) // then nothing, for ever
      res.on('close', () => (buildClosed = true))
    })
    stop.push(d.close)
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`, DOCKER_BUILDKIT: '0', BENTO_DOCKER_IDLE_TIMEOUT: '0.3'}})
    const events: BuildEvent[] = []
    const {value: err, ms} = await timed(
      client.build({context: Readable.from([Buffer.alloc(1024)]), dockerfile: 'Dockerfile', tags: ['iris:v1'], labels: {}, onProgress: (e) => events.push(e)}),
    )
    expect(err).toMatchObject({code: 'E_DOCKER_DAEMON_LOST', message: expect.stringMatching(/silent for 0\.3 s/), hint: expect.stringMatching(/BENTO_DOCKER_IDLE_TIMEOUT/)})
    expect(events.length).toBeGreaterThan(0)
    expect(ms).toBeLessThan(3000)
    // The build's connection is closed (the inspects before and after it may stay open for keep-alive).
    for (let i = 0; i < 50 && !buildClosed; i++) await new Promise((r) => setTimeout(r, 20))
    expect(buildClosed).toBe(true)
  })

  it('an import the daemon reads and never answers, and a push that goes silent: typed, in bounded time', async () => {
    const d = await serveOn(dir, (req, res) => {
      if (req.url?.includes('/push')) {
        res.write('{"status":"The push refers to repository [r/x]"}\r\n') // then nothing
        return
      }
      req.resume()
    })
    stop.push(d.close)
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`, BENTO_DOCKER_IDLE_TIMEOUT: '0.3'}})
    const imp = await timed(client.importImage({layer: Readable.from([Buffer.alloc(10)]), tag: 'bento-model/x:v1', labels: {}}))
    expect(imp.value).toMatchObject({code: 'E_DOCKER_UNAVAILABLE', message: expect.stringMatching(/did not answer POST \/images\/create within 0\.3 s/)})
    expect(imp.ms).toBeLessThan(3000)
    const push = await timed(client.push('r/x:1', {onProgress: () => undefined}))
    expect(push.value).toMatchObject({code: 'E_DOCKER_PUSH', message: expect.stringMatching(/silent for 0\.3 s/), hint: expect.stringMatching(/BENTO_DOCKER_IDLE_TIMEOUT/)})
    expect(push.ms).toBeLessThan(3000)
    await closedSoon(d.open)
  })

  it('the idle timeout restarts with every chunk: a slow but steady stream is not cut', async () => {
    const d = await serveOn(dir, (req, res) => {
      if (req.url?.endsWith('/version')) return res.end(VERSION)
      if (req.url?.startsWith('/images/')) {
        res.statusCode = 404
        return res.end('{"message":"No such image"}')
      }
      req.resume()
      req.on('end', () => {
        const lines = fixture('classic-ok.jsonl').split('\n')
        const next = (): void => {
          const line = lines.shift()
          if (line === undefined) return void res.end()
          res.write(`${line}\n`)
          setTimeout(next, 60)
        }
        next()
      })
    })
    stop.push(d.close)
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`, DOCKER_BUILDKIT: '0', BENTO_DOCKER_IDLE_TIMEOUT: '0.25'}})
    const r = await client.build({context: Readable.from([Buffer.alloc(1024)]), dockerfile: 'Dockerfile', tags: ['iris:v1'], labels: {}, onProgress: () => undefined})
    expect(r.imageId).toMatch(/^sha256:/)
  })

  it.each([
    ['HTTP 500', 500, '{"message":"boom"}', /answered HTTP 500 \{"message":"boom"\} to GET \/version: is it a Docker daemon\?/],
    ['HTTP 404 (a web server)', 404, '<html>Not Found</html>', /answered HTTP 404 <html>Not Found<\/html> to GET \/version/],
    ['HTTP 200 that is not the version', 200, '<html>hello</html>', /answered HTTP 200 <html>hello<\/html> to GET \/version/],
  ])('a server answering %s to the version ping → E_DOCKER_UNAVAILABLE naming what answered', async (_name, status, body, message) => {
    const d = await serveOn(dir, (req, res) => {
      req.resume()
      res.statusCode = status
      res.end(body)
    })
    stop.push(d.close)
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`}})
    const err = (await client.ping().catch((e: unknown) => e)) as DockerUnavailableError
    expect(err).toBeInstanceOf(DockerUnavailableError)
    expect(err.message).toMatch(message)
    expect(err.message).toContain(d.socket)
  })

  it('a server that is not HTTP → E_DOCKER_UNAVAILABLE with what it sent', async () => {
    const s = await serveRaw(dir, 'SSH-2.0-OpenSSH_9.2\r\n')
    stop.push(s.close)
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${s.socket}`}})
    const err = (await client.ping().catch((e: unknown) => e)) as DockerUnavailableError
    expect(err).toBeInstanceOf(DockerUnavailableError)
    expect(err.message).toMatch(/not HTTP/)
    expect(err.message).toContain('SSH-2.0-OpenSSH_9.2')
  })

  it('list answered with HTTP 500 (what prune asks) → E_DOCKER_UNAVAILABLE, not a bug', async () => {
    const d = await serveOn(dir, (req, res) => {
      req.resume()
      if (req.url?.endsWith('/version')) return res.end(VERSION)
      res.statusCode = 500
      res.end('{"message":"boom"}')
    })
    stop.push(d.close)
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`}})
    await expect(client.list({label: ['dev.bento.kind=model']})).rejects.toMatchObject({
      code: 'E_DOCKER_UNAVAILABLE',
      message: expect.stringMatching(/answered HTTP 500 \{"message":"boom"\} to GET \/images\/json/),
    })
  })

  it('BENTO_DOCKER_TIMEOUT that is not a number of seconds is a usage error; 0 turns the deadline off', () => {
    expect(() => new DockerodeClient({env: {BENTO_DOCKER_TIMEOUT: 'ten'}})).toThrow(expect.objectContaining({code: 'E_USAGE', message: expect.stringMatching(/BENTO_DOCKER_TIMEOUT/)}))
    expect(() => new DockerodeClient({env: {BENTO_DOCKER_IDLE_TIMEOUT: '-1'}})).toThrow(expect.objectContaining({code: 'E_USAGE'}))
    expect(() => new DockerodeClient({env: {BENTO_DOCKER_TIMEOUT: '0', BENTO_DOCKER_IDLE_TIMEOUT: '1.5'}})).not.toThrow()
  })
})

/** What Podman 4.3.1's `podman system service` answers to `GET /v1.41/version` (trimmed, same shape). */
const PODMAN_VERSION = JSON.stringify({
  Platform: {Name: 'linux/amd64/debian-12'},
  Components: [
    {Name: 'Podman Engine', Version: '4.3.1', Details: {APIVersion: '4.3.1', MinAPIVersion: '4.0.0', Os: 'linux'}},
    {Name: 'Conmon', Version: 'conmon version 2.1.6, commit: unknown'},
  ],
  Version: '4.3.1',
  ApiVersion: '1.41',
  MinAPIVersion: '1.24',
  Os: 'linux',
  Arch: 'amd64',
})

describe('DockerodeClient: Podman and daemons without a BuildKit session API (POST /session)', () => {
  let dir: string
  let stop: Array<() => Promise<void>>
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bento-podman-'))
    stop = []
  })
  afterEach(async () => {
    for (const s of stop) await s()
    await rm(dir, {recursive: true, force: true})
  })

  /** A daemon that answers /version with `version`, 404 to /session and image inspects, and builds (classic stream). */
  const daemon = async (version: string): Promise<{socket: string; requests: string[]}> => {
    const requests: string[] = []
    const d = await serveOn(dir, (req, res) => {
      requests.push(`${req.method} ${req.url}`)
      if (req.url?.endsWith('/version')) return res.end(version)
      if (req.url?.endsWith('/session') || req.url?.startsWith('/images/')) {
        res.statusCode = 404
        return res.end(req.url.endsWith('/session') ? 'Not Found\n' : '{"message":"No such image"}')
      }
      req.resume()
      req.on('end', () => res.end(fixture('classic-ok.jsonl')))
    })
    stop.push(d.close)
    return {socket: d.socket, requests}
  }
  const buildOpts = (secrets?: Array<{id: string; value: string}>) => ({
    context: Readable.from([Buffer.alloc(1024)]),
    dockerfile: 'Dockerfile',
    tags: ['iris:v1'],
    labels: {},
    onProgress: () => undefined,
    ...(secrets ? {secrets} : {}),
  })

  it('Podman (Components "Podman Engine"): builds through POST /build without a session; the Dockerfile may keep RUN --mount', async () => {
    const d = await daemon(PODMAN_VERSION)
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`}})
    expect(await client.ping()).toMatchObject({apiVersion: '1.41', buildkit: true, engine: 'podman'})
    const r = await client.build(buildOpts())
    expect(r.imageId).toMatch(/^sha256:/)
    expect(d.requests.filter((q) => q.includes('/session'))).toEqual([])
    const build = d.requests.find((q) => q.startsWith('POST') && q.includes('/build'))
    expect(build).toMatch(/[?&]version=1(&|$)/)
  })

  it('Podman: an import (POST /images/create?fromSrc=-) is tagged afterwards, since Podman 4.3 ignores the tag= of an import', async () => {
    const id = `sha256:${'ab'.repeat(32)}`
    const requests: string[] = []
    const d = await serveOn(dir, (req, res) => {
      requests.push(`${req.method} ${req.url}`)
      if (req.url?.endsWith('/version')) return res.end(PODMAN_VERSION)
      if (req.url?.includes('/images/create')) {
        req.resume()
        return req.on('end', () => res.end(`{"status":"${id}"}\n`))
      }
      if (req.method === 'POST' && /\/images\/.*\/tag/.test(req.url ?? '')) {
        res.statusCode = 201
        return res.end()
      }
      res.statusCode = 404
      res.end('{"message":"no such thing"}')
    })
    stop.push(d.close)
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`}})
    const r = await client.importImage({layer: Readable.from([Buffer.alloc(10)]), tag: 'bento-model.invalid/h1/iris_clf:v1', labels: {}})
    expect(r.imageId).toBe(id)
    expect(requests).toContainEqual(expect.stringMatching(new RegExp(`^POST .*/images/${id}/tag\\?.*repo=bento-model.invalid%2Fh1%2Firis_clf.*tag=v1`)))
  })

  it('Podman: build secrets (stage-build envs, --ca-cert) are a typed error naming the missing /session API, before any build', async () => {
    const d = await daemon(PODMAN_VERSION)
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`, BENTO_DOCKER_CLI: '/nonexistent/docker'}})
    const err = await client.build(buildOpts([{id: 'bento-ca-0', value: 'x'}])).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DockerBuildError)
    expect(err).toMatchObject({
      code: 'E_DOCKER_BUILD',
      message: expect.stringMatching(/Podman.*POST \/session/),
      hint: expect.stringMatching(/Docker|podman build/),
    })
    expect(d.requests.some((q) => q.includes('/build'))).toBe(false)
  })

  it('a Docker-compatible daemon answering 404 to POST /session: a typed error in seconds, not the 10-minute idle timeout', async () => {
    const d = await daemon(JSON.stringify({ApiVersion: '1.41', Version: '20.10.24', Os: 'linux'}))
    const client = new DockerodeClient({env: {DOCKER_HOST: `unix://${d.socket}`}})
    const t0 = Date.now()
    const err = await client.build(buildOpts()).catch((e: unknown) => e)
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(err).toBeInstanceOf(DockerBuildError)
    expect(err).toMatchObject({
      code: 'E_DOCKER_BUILD',
      message: expect.stringMatching(/POST \/session.*404|404.*POST \/session/),
      hint: expect.stringMatching(/DOCKER_BUILDKIT=0/),
    })
  })
})

describe('Watchdog', () => {
  it('a touch after done() starts no timer: a build body still flowing after a refused build does not wait out the idle timeout', async () => {
    const dog = new Watchdog(50, [])
    dog.done()
    dog.touch()
    await new Promise((r) => setTimeout(r, 120))
    expect(dog.stoppedBy).toBeUndefined()
    expect(dog.signal.aborted).toBe(false)
  })
})
