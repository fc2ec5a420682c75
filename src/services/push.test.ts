import {createHash} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {FakeImageClient} from '../docker/fake-client.js'
import type {HttpResponse, HttpTransport} from '../registry/http.js'
import {memoryReporter} from '../reporter.js'
import {pushImage} from './push.js'

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`
const layers = [Buffer.from('base layer bytes'), Buffer.from('code layer bytes')]
const config = Buffer.from('{"rootfs":{"type":"layers"}}')
const image = {id: sha(config), repoTags: ['iris:1', 'reg.test/staging/iris:1'], diffIds: layers.map(sha)}

/** A registry that has `has` in repository `team/iris` and `staging` in `staging/iris`; records every request. */
function registry(has: string[], staging: string[] = []) {
  const log: string[] = []
  const stored = new Set(has)
  const transport: HttpTransport = async (req) => {
    const url = new URL(req.url)
    log.push(`${req.method} ${url.pathname}${url.search}`)
    const r = (status: number, headers: Record<string, string> = {}): HttpResponse => ({status, headers, text: ''})
    const digest = url.pathname.split('/').at(-1) as string
    if (req.method === 'HEAD') return stored.has(digest) ? r(200, {'content-length': '16'}) : r(404)
    if (req.method === 'POST') {
      const mount = url.searchParams.get('mount')
      if (mount && staging.includes(mount)) {
        stored.add(mount)
        return r(201)
      }
      return r(202, {location: '/v2/team/iris/blobs/uploads/u1'})
    }
    if (req.method === 'PUT' && url.pathname.includes('/manifests/')) return r(201, {'docker-content-digest': sha(req.body ?? Buffer.alloc(0))})
    if (req.method === 'PUT') {
      stored.add(url.searchParams.get('digest') as string)
      return r(201)
    }
    return r(204)
  }
  return {transport, log}
}

function fakeEngine(exportLayers: Buffer[]) {
  const entries = [
    ...exportLayers.map((l) => ({name: `blobs/sha256/${sha(l).slice(7)}`, data: l})),
    {name: `blobs/sha256/${image.id.slice(7)}`, data: config},
  ]
  return new FakeImageClient({images: [image], exports: {[image.id]: entries}})
}

const base = {ref: 'reg.test/team/iris:1', image: 'iris:1', dockerConfigDir: '/nonexistent', reporter: memoryReporter()}

describe('pushImage (fake engine, fake registry)', () => {
  it('the registry has every blob: the export is not read, the manifest is put, 0 bytes uploaded', async () => {
    const engine = fakeEngine(layers)
    const reg = registry([image.id, ...image.diffIds])
    const info = (await engine.inspect('iris:1'))!
    const r = await pushImage({...base, info, images: engine, transport: reg.transport})
    expect(r).toMatchObject({uploadedBytes: 0, exportRead: false})
    expect(engine.calls.some((c) => c.op === 'save')).toBe(false)
    expect(reg.log.at(-1)).toBe('PUT /v2/team/iris/manifests/1')
  })

  it("mounts what the image's other repository on the registry has; uploads only the rest", async () => {
    const engine = fakeEngine(layers)
    const reg = registry([], [image.diffIds[0]!])
    const info = (await engine.inspect('iris:1'))!
    const r = await pushImage({...base, info, images: engine, transport: reg.transport})
    expect(r.blobs.map((b) => b.action)).toEqual(['uploaded', 'mounted', 'uploaded'])
    expect(r.blobs[1]).toMatchObject({mountedFrom: 'staging/iris', uploadedBytes: 0})
    expect(r.uploadedBytes).toBe(config.length + layers[1]!.length)
  })

  it('an export without a layer of the image (Podman): E_PUSH_EXPORT and no manifest put', async () => {
    const engine = fakeEngine([layers[0]!])
    const reg = registry([])
    const info = (await engine.inspect('iris:1'))!
    await expect(pushImage({...base, info, images: engine, transport: reg.transport})).rejects.toMatchObject({code: 'E_PUSH_EXPORT'})
    expect(reg.log.some((l) => l.includes('/manifests/'))).toBe(false)
  })
})
