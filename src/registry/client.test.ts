import {createHash} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {RegistryClient} from './client.js'
import type {HttpRequest, HttpResponse, HttpTransport} from './http.js'
import {parseReference} from './reference.js'

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

/**
 * An in-memory registry behind the transport interface (the e2e test runs the real docker-registry): uploads with
 * Range/Location like distribution's, bearer tokens that expire after `tokenUses` requests, and hooks to fail a request.
 */
function fakeRegistry(opts: {chunkMax?: number; tokenUses?: number; fail?: (req: HttpRequest, n: number) => 'reset-half' | number | undefined} = {}) {
  const uploads = new Map<string, Buffer>()
  const blobs = new Map<string, Buffer>()
  const log: string[] = []
  let tokens = 0
  let uses = 0
  let n = 0
  const ok = (status: number, headers: Record<string, string> = {}, text = ''): HttpResponse => ({status, headers, text})
  const transport: HttpTransport = async (req) => {
    const url = new URL(req.url)
    if (url.pathname === '/token') {
      tokens++
      uses = opts.tokenUses ?? 1e9
      return ok(200, {}, JSON.stringify({token: `t${tokens}`}))
    }
    if (req.headers?.authorization !== `Bearer t${tokens}` || uses-- <= 0) {
      return ok(401, {'www-authenticate': 'Bearer realm="http://reg.test/token",service="reg"'})
    }
    n++
    log.push(`${req.method} ${url.pathname.replace(/^\/v2\/team\/iris\//, '')}${req.body ? ` ${req.body.length}` : ''}`)
    const fail = opts.fail?.(req, n)
    const id = /blobs\/uploads\/(\w+)/.exec(url.pathname)?.[1]
    if (fail === 'reset-half' && id && req.body) {
      uploads.set(id, Buffer.concat([uploads.get(id) as Buffer, req.body.subarray(0, Math.floor(req.body.length / 2))]))
      throw Object.assign(new Error('socket hang up'), {code: 'ECONNRESET'})
    }
    if (typeof fail === 'number') return ok(fail)
    const range = (b: Buffer): string => `0-${Math.max(0, b.length - 1)}`
    if (req.method === 'HEAD') {
      const blob = blobs.get(url.pathname.split('/').at(-1) as string)
      return blob ? ok(200, {'content-length': String(blob.length)}) : ok(404)
    }
    if (req.method === 'POST') {
      const uid = `u${uploads.size + 1}`
      uploads.set(uid, Buffer.alloc(0))
      return ok(202, {location: `/v2/team/iris/blobs/uploads/${uid}`, ...(opts.chunkMax ? {'oci-chunk-max-length': String(opts.chunkMax)} : {})})
    }
    const have = uploads.get(id ?? '')
    if (have === undefined) return ok(404)
    if (req.method === 'GET') return ok(204, {range: range(have), location: `/v2/team/iris/blobs/uploads/${id}`})
    if (req.method === 'DELETE') {
      uploads.delete(id as string)
      return ok(204)
    }
    if (req.method === 'PATCH') {
      const start = Number(/^(\d+)-/.exec(req.headers?.['content-range'] ?? '')?.[1])
      if (start !== have.length) return ok(416, {range: range(have)})
      if (opts.chunkMax && (req.body?.length ?? 0) > opts.chunkMax) return ok(413)
      const now = Buffer.concat([have, req.body ?? Buffer.alloc(0)])
      uploads.set(id as string, now)
      return ok(202, {range: range(now), location: `/v2/team/iris/blobs/uploads/${id}`})
    }
    // PUT ?digest=: commit (with a last body, or none)
    const all = Buffer.concat([have, req.body ?? Buffer.alloc(0)])
    const digest = url.searchParams.get('digest') as string
    if (sha(all) !== digest) return ok(400, {}, '{"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]}')
    blobs.set(digest, all)
    uploads.delete(id as string)
    return ok(201)
  }
  return {transport, blobs, uploads, log, tokens: () => tokens}
}

async function* pieces(b: Buffer, size = 333): AsyncIterable<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size)
}

const ref = parseReference('reg.test/team/iris:1')
const blob = Buffer.from(Array.from({length: 5000}, (_, i) => i % 251))

describe('RegistryClient uploads', () => {
  it('honours OCI-Chunk-Max-Length: PATCH bodies no larger, the blob committed whole', async () => {
    const reg = fakeRegistry({chunkMax: 1024})
    const c = new RegistryClient(ref, undefined, {transport: reg.transport, policy: {monolithicMax: 512, chunkSize: 4096}})
    const sent = await c.uploadBlob(sha(blob), blob.length, pieces(blob))
    expect(reg.blobs.get(sha(blob))?.equals(blob)).toBe(true)
    const patches = reg.log.filter((l) => l.startsWith('PATCH')).map((l) => Number(l.split(' ').at(-1)))
    expect(patches).toEqual([1024, 1024, 1024, 1024, 904])
    expect(sent).toBe(blob.length)
  })

  it("resumes a chunk lost mid-body from the registry's Range (the half it got is not sent again)", async () => {
    const reg = fakeRegistry({fail: (req, n) => (req.method === 'PATCH' && n === 3 ? 'reset-half' : undefined)})
    const c = new RegistryClient(ref, undefined, {transport: reg.transport, policy: {monolithicMax: 100, chunkSize: 2000}})
    await c.uploadBlob(sha(blob), blob.length, pieces(blob))
    expect(reg.blobs.get(sha(blob))?.equals(blob)).toBe(true)
    expect(c.stats.resumes).toBe(1)
    // The lost PATCH (2000 bytes, 1000 of them kept by the registry) → a status GET → the other 1000 only.
    expect(reg.log.slice(2, 5)).toEqual(['PATCH blobs/uploads/u1 2000', 'GET blobs/uploads/u1', 'PATCH blobs/uploads/u1 1000'])
  })

  it('a 413 halves the chunk (and later blobs keep it); a 5xx is sent again once', async () => {
    let failed = false
    const reg = fakeRegistry({
      chunkMax: undefined,
      fail: (req) => {
        if (req.method === 'PATCH' && (req.body?.length ?? 0) > 150_000) return 413
        if (req.method === 'PATCH' && !failed) {
          failed = true
          return 503
        }
        return undefined
      },
    })
    const c = new RegistryClient(ref, undefined, {transport: reg.transport, policy: {monolithicMax: 100, chunkSize: 262_144}})
    const big = Buffer.from(Array.from({length: 300_000}, (_, i) => (i * 7) % 256))
    await c.uploadBlob(sha(big), big.length, pieces(big, 10_000))
    expect(reg.blobs.get(sha(big))?.equals(big)).toBe(true)
    expect(c.stats.retries).toBe(1)
    const patches = (from: number): number[] => reg.log.slice(from).filter((l) => l.startsWith('PATCH')).map((l) => Number(l.split(' ').at(-1)))
    // 262144 refused (413), then 131072: the first one answered 503 and sent again, then the rest.
    expect(patches(0)).toEqual([262_144, 131_072, 131_072, 131_072, 37_856])
    const other = Buffer.from('x'.repeat(300_000))
    const before = reg.log.length
    await c.uploadBlob(sha(other), other.length, pieces(other, 10_000))
    expect(patches(before)).toEqual([131_072, 131_072, 37_856])
  })

  it('an expired token mid-upload is renewed and the chunk sent again', async () => {
    const reg = fakeRegistry({tokenUses: 3})
    const c = new RegistryClient(ref, {username: 'u', password: 'p'}, {transport: reg.transport, policy: {monolithicMax: 100, chunkSize: 1000}})
    await c.uploadBlob(sha(blob), blob.length, pieces(blob))
    expect(reg.blobs.get(sha(blob))?.equals(blob)).toBe(true)
    expect(reg.tokens()).toBeGreaterThanOrEqual(3)
  })

  it('bytes that do not hash to the digest: E_PUSH_EXPORT, the upload cancelled, nothing committed', async () => {
    const reg = fakeRegistry()
    const c = new RegistryClient(ref, undefined, {transport: reg.transport, policy: {monolithicMax: 100, chunkSize: 1000}})
    const wrong = `sha256:${'0'.repeat(64)}`
    await expect(c.uploadBlob(wrong, blob.length, pieces(blob))).rejects.toMatchObject({code: 'E_PUSH_EXPORT'})
    expect(reg.blobs.size).toBe(0)
    expect(reg.uploads.size).toBe(0)
    expect(reg.log.some((l) => l.startsWith('PUT'))).toBe(false)
  })
})
