import {createHash} from 'node:crypto'

import {InterruptedError, RegistryError} from '../errors.js'
import {RegistryAuth, type RegistryCredentials} from './auth.js'
import {type HttpRequest, type HttpResponse, type HttpTransport, nodeTransport} from './http.js'
import type {RegistryReference} from './reference.js'

/** How blobs go up. Memory is bounded by the larger of the two (one chunk is held to resume it). */
export interface UploadPolicy {
  /** A blob up to this size goes in one `PUT` (when the registry's OCI-Chunk-Max-Length allows). */
  monolithicMax: number
  /** Above it, `PATCH` chunks of this size (clamped to OCI-Chunk-Min-Length/OCI-Chunk-Max-Length). */
  chunkSize: number
}

export const DEFAULT_UPLOAD_POLICY: UploadPolicy = {monolithicMax: 4 * 1024 * 1024, chunkSize: 16 * 1024 * 1024}
/** A 413 halves the chunk; below this the registry's body limit is not one bento can fit. */
const MIN_CHUNK = 64 * 1024
/** Connections lost (or 5xx/416 answers) during one blob's upload that are resumed from the registry's Range. */
const MAX_RESUMES = 5

export interface ClientStats {
  /** Bytes of blob bodies sent, resent bytes included. */
  bytesSent: number
  requests: number
  /** Requests sent again after a 5xx. */
  retries: number
  /** Uploads resumed from the registry's Range after a lost connection or a refused chunk. */
  resumes: number
}

/** Reads a stream in pieces of at most `n` bytes (fewer only at its end). */
class ChunkReader {
  private readonly it: AsyncIterator<Buffer | Uint8Array>
  private left: Buffer = Buffer.alloc(0)
  private ended = false
  constructor(source: AsyncIterable<Buffer | Uint8Array>) {
    this.it = source[Symbol.asyncIterator]()
  }

  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = []
    let have = 0
    while (have < n) {
      if (this.left.length === 0) {
        if (this.ended) break
        const next = await this.it.next()
        if (next.done) {
          this.ended = true
          break
        }
        this.left = Buffer.from(next.value)
      }
      const take = this.left.subarray(0, n - have)
      this.left = this.left.subarray(take.length)
      parts.push(take)
      have += take.length
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
  }
}

/**
 * A client of one repository of an OCI distribution registry, for pushing: blob HEAD, cross-repository mount,
 * monolithic and chunked uploads that resume, manifest PUT. Every request carries the repository's token, renewed on a
 * 401 (mid-upload too); a 5xx is retried once; a lost connection during an upload resumes from the registry's Range.
 */
export class RegistryClient {
  readonly stats: ClientStats = {bytesSent: 0, requests: 0, retries: 0, resumes: 0}
  private readonly auth: RegistryAuth
  private readonly transport: HttpTransport
  /** The largest body the registry (or a proxy before it) took after refusing a larger one with 413. */
  private learnedLimit: number | undefined

  constructor(
    readonly ref: RegistryReference,
    credentials: RegistryCredentials | undefined,
    private readonly opts: {transport?: HttpTransport; signal?: AbortSignal; policy?: UploadPolicy} = {},
  ) {
    this.transport = opts.transport ?? nodeTransport()
    this.auth = new RegistryAuth(ref.registry, ref.repository, credentials, this.transport, opts.signal)
  }

  get tokenRefreshes(): number {
    return this.auth.tokenRefreshes
  }

  private url(path: string): string {
    return `${this.ref.baseUrl}/v2/${this.ref.repository}/${path}`
  }

  /** One request: auth added, a 401 answered with a fresh token (then sent again), a 5xx sent again once. */
  private async send(req: HttpRequest, what: string): Promise<HttpResponse> {
    let retried5xx = false
    for (let authTries = 0; ; ) {
      if (this.opts.signal?.aborted) throw new InterruptedError(`Push to ${this.ref.registry}/${this.ref.repository} interrupted: no tag was written`)
      const used = this.auth.authorization
      const headers = {...req.headers, ...(used ? {authorization: used} : {})}
      let res: HttpResponse
      try {
        this.stats.requests++
        if (req.body) this.stats.bytesSent += req.body.length
        res = await this.transport({...req, headers, signal: this.opts.signal})
      } catch (error) {
        if (this.opts.signal?.aborted) throw new InterruptedError(`Push to ${this.ref.registry}/${this.ref.repository} interrupted: no tag was written`)
        throw Object.assign(this.unreachable(what, error), {retryable: true})
      }
      if (res.status === 401 && authTries < 3) {
        authTries++
        await this.auth.refresh(res.headers['www-authenticate'], used)
        continue
      }
      if (res.status >= 500 && !retried5xx) {
        retried5xx = true
        this.stats.retries++
        continue
      }
      return res
    }
  }

  private unreachable(what: string, cause: unknown): RegistryError {
    const code = (cause as {code?: string}).code
    return new RegistryError(`${what} on ${this.ref.registry} failed: ${(cause as Error).message}${code && !(cause as Error).message.includes(code) ? ` (${code})` : ''}`, {
      cause,
      hint: `check that ${this.ref.baseUrl} is reachable; a push run again skips every blob already sent`,
    })
  }

  private answerError(what: string, res: HttpResponse): RegistryError {
    if (res.status === 401 || res.status === 403) {
      return new RegistryError(`${this.ref.registry} refused ${what} (${res.status}): ${registryMessage(res)}`, {
        code: 'E_REGISTRY_AUTH',
        hint: `\`docker login ${this.ref.registry}\` and check that you may push to ${this.ref.repository}`,
        data: {status: res.status},
      })
    }
    return new RegistryError(`${this.ref.registry} answered ${res.status} to ${what}: ${registryMessage(res)}`, {
      hint: 'a push run again skips every blob already sent',
      data: {status: res.status},
    })
  }

  /** The blob's size when the repository has it, else null. */
  async blobSize(digest: string): Promise<number | null> {
    const res = await this.send({method: 'HEAD', url: this.url(`blobs/${digest}`)}, `HEAD blob ${short(digest)}`)
    if (res.status === 404) return null
    if (res.status !== 200) throw this.answerError(`HEAD blob ${short(digest)}`, res)
    const n = Number(res.headers['content-length'])
    return Number.isFinite(n) ? n : null
  }

  /** Cross-repository mount from `from` (same registry): true when the registry mounted it (201). */
  async mount(digest: string, from: string): Promise<boolean> {
    const what = `mount of ${short(digest)} from ${from}`
    const res = await this.send({method: 'POST', url: `${this.url('blobs/uploads/')}?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`}, what)
    if (res.status === 201) return true
    // 202: the registry opened an upload instead; it is not used (the blob comes from the export, if it must).
    if (res.status === 202 && res.headers.location) await this.cancel(this.resolve(res.headers.location))
    else if (res.status !== 202) throw this.answerError(what, res)
    return false
  }

  private resolve(location: string): string {
    return new URL(location, this.ref.baseUrl).toString()
  }

  private async cancel(location: string): Promise<void> {
    try {
      await this.transport({method: 'DELETE', url: location, headers: this.auth.authorization ? {authorization: this.auth.authorization} : {}})
    } catch {
      // Best effort: the registry drops abandoned uploads itself.
    }
  }

  /**
   * Upload one blob of `size` bytes read from `source`, verified against `digest` before it is committed. Holds at
   * most one chunk in memory. Returns the bytes sent (resent ones included).
   */
  async uploadBlob(digest: string, size: number, source: AsyncIterable<Buffer | Uint8Array>, onProgress: (done: number) => void = () => undefined): Promise<number> {
    const before = this.stats.bytesSent
    const what = `upload of ${short(digest)}`
    const start = await this.send({method: 'POST', url: this.url('blobs/uploads/')}, `${what} (POST)`)
    if (start.status !== 202 || !start.headers.location) throw this.answerError(`${what} (POST)`, start)
    let location = this.resolve(start.headers.location)
    const policy = this.opts.policy ?? DEFAULT_UPLOAD_POLICY
    const minLen = Number(start.headers['oci-chunk-min-length']) || 0
    const maxLen = Number(start.headers['oci-chunk-max-length']) || Number.POSITIVE_INFINITY
    const reader = new ChunkReader(source)
    const hash = createHash('sha256')
    try {
      if (size <= Math.min(policy.monolithicMax, maxLen, this.learnedLimit ?? Number.POSITIVE_INFINITY)) {
        const body = await reader.read(size + 1)
        hash.update(body)
        this.checkDigest(digest, hash, body.length, size)
        const res = await this.send({method: 'PUT', url: withDigest(location, digest), headers: {'content-type': 'application/octet-stream'}, body}, what)
        if (res.status === 201) {
          onProgress(size)
          return this.stats.bytesSent - before
        }
        if (res.status !== 413) throw this.answerError(what, res)
        // The body passes a limit the registry did not announce: the same bytes in chunks, on a new upload.
        const again = await this.send({method: 'POST', url: this.url('blobs/uploads/')}, `${what} (POST)`)
        if (again.status !== 202 || !again.headers.location) throw this.answerError(`${what} (POST)`, again)
        location = this.resolve(again.headers.location)
        const one = new ChunkReader((async function* () {
          yield body
        })())
        location = await this.chunks(what, location, one, size, Math.max(MIN_CHUNK, Math.floor(body.length / 2)), minLen, onProgress, undefined)
      } else {
        const chunk = Math.max(minLen, Math.min(policy.chunkSize, maxLen))
        location = await this.chunks(what, location, reader, size, chunk, minLen, onProgress, hash)
        this.checkDigest(digest, hash, size, size)
      }
      const res = await this.send({method: 'PUT', url: withDigest(location, digest), headers: {'content-type': 'application/octet-stream'}}, `${what} (commit)`)
      if (res.status !== 201) throw this.answerError(`${what} (commit)`, res)
      return this.stats.bytesSent - before
    } catch (error) {
      if (!this.opts.signal?.aborted) await this.cancel(location)
      throw error
    }
  }

  private checkDigest(digest: string, hash: ReturnType<typeof createHash>, got: number, size: number): void {
    if (got !== size) throw new RegistryError(`The export gave ${got} bytes for ${short(digest)}, the image says ${size}`, {code: 'E_PUSH_EXPORT'})
    const actual = `sha256:${hash.copy().digest('hex')}`
    if (actual !== digest) {
      throw new RegistryError(`The export's bytes for ${short(digest)} hash to ${short(actual)}: not the layer the image names`, {
        code: 'E_PUSH_EXPORT',
        hint: 'the engine exported a different layer (is the image being rebuilt?); run the push again',
      })
    }
  }

  /** PATCH chunks until `size` bytes are in; returns the upload's last Location. */
  private async chunks(
    what: string,
    location: string,
    reader: ChunkReader,
    size: number,
    chunkSize: number,
    minLen: number,
    onProgress: (done: number) => void,
    hash: ReturnType<typeof createHash> | undefined,
  ): Promise<string> {
    let offset = 0
    let limit = Math.min(chunkSize, this.learnedLimit ?? chunkSize)
    let resumes = 0
    while (offset < size) {
      const chunk = await reader.read(chunkSize)
      if (chunk.length === 0) break
      hash?.update(chunk)
      const chunkStart = offset
      // Send the chunk, in pieces of `limit` (smaller after a 413), resuming from the registry's Range on a loss.
      while (offset < chunkStart + chunk.length) {
        const body = chunk.subarray(offset - chunkStart, offset - chunkStart + limit)
        let res: HttpResponse | undefined
        try {
          res = await this.send(
            {method: 'PATCH', url: location, headers: {'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + body.length - 1}`}, body},
            what,
          )
        } catch (error) {
          if (!(error as {retryable?: boolean}).retryable || ++resumes > MAX_RESUMES) throw error
        }
        if (res?.status === 202) {
          if (res.headers.location) location = this.resolve(res.headers.location)
          offset += body.length
          onProgress(offset)
          continue
        }
        if (res?.status === 413 && limit > Math.max(MIN_CHUNK, minLen)) {
          limit = Math.max(MIN_CHUNK, minLen, Math.floor(limit / 2))
          this.learnedLimit = limit
          continue
        }
        if (res !== undefined && res.status !== 416 && res.status < 500) throw this.answerError(what, res)
        if (res !== undefined && ++resumes > MAX_RESUMES) throw this.answerError(what, res)
        // Lost, refused as out of range, or a second 5xx: ask the registry how much it has and go on from there.
        this.stats.resumes++
        const status = await this.send({method: 'GET', url: location}, `${what} (status)`)
        if (status.status !== 204 && status.status !== 202) throw this.answerError(`${what} (status after a lost chunk)`, status)
        if (status.headers.location) location = this.resolve(status.headers.location)
        const have = rangeEnd(status.headers.range) ?? 0
        if (have < chunkStart || have > chunkStart + chunk.length) {
          throw new RegistryError(`${this.ref.registry} lost bytes of the ${what}: it holds ${have} bytes, bento has bytes ${chunkStart}–${chunkStart + chunk.length} in hand`, {
            hint: 'run the push again: every blob already sent is skipped',
          })
        }
        offset = have
      }
    }
    if (offset !== size) throw new RegistryError(`The export ended after ${offset} of ${size} bytes of ${what}`, {code: 'E_PUSH_EXPORT'})
    return location
  }

  /** Does the repository have this manifest (by tag or digest)? */
  async manifestExists(reference: string): Promise<boolean> {
    const res = await this.send({method: 'HEAD', url: this.url(`manifests/${reference}`), headers: {accept: MANIFEST_ACCEPT}}, `HEAD manifest ${reference}`)
    if (res.status === 404) return false
    if (res.status !== 200) throw this.answerError(`HEAD manifest ${reference}`, res)
    return true
  }

  /** The manifest's descriptor as the registry serves it (HEAD: media type, digest, size), null when it has none. */
  async manifestDescriptor(reference: string): Promise<{mediaType: string; digest: string; size: number} | null> {
    const res = await this.send({method: 'HEAD', url: this.url(`manifests/${reference}`), headers: {accept: MANIFEST_ACCEPT}}, `HEAD manifest ${reference}`)
    if (res.status === 404) return null
    if (res.status !== 200) throw this.answerError(`HEAD manifest ${reference}`, res)
    const digest = res.headers['docker-content-digest']
    const size = Number(res.headers['content-length'])
    const mediaType = (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? ''
    if (digest === undefined || !Number.isSafeInteger(size) || size <= 0 || mediaType === '') {
      throw new RegistryError(`${this.ref.registry} answered HEAD manifest ${reference} without its digest, size or media type`, {
        hint: 'the registry does not speak the OCI distribution API as bento reads it (Docker-Content-Digest, Content-Length, Content-Type)',
      })
    }
    return {mediaType, digest, size}
  }

  /** PUT the manifest under the tag: the last request of a push. Returns its digest. */
  async putManifest(tag: string, body: Buffer, mediaType: string): Promise<string> {
    const res = await this.send({method: 'PUT', url: this.url(`manifests/${tag}`), headers: {'content-type': mediaType}, body}, `PUT manifest ${tag}`)
    if (res.status !== 201) throw this.answerError(`PUT manifest ${tag}`, res)
    return res.headers['docker-content-digest'] ?? `sha256:${createHash('sha256').update(body).digest('hex')}`
  }
}

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json'

/** `Range: 0-1234` → the next offset (1235); `bytes=0-1234` too. */
export function rangeEnd(range: string | undefined): number | undefined {
  const m = /(\d+)-(\d+)/.exec(range ?? '')
  if (!m) return undefined
  // distribution answers `0-0` for an empty upload (and for one byte): read as empty, a resend of byte 0 is harmless.
  return m[2] === '0' ? 0 : Number(m[2]) + 1
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location)
  u.searchParams.set('digest', digest)
  return u.toString()
}

function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12)
}

/** The registry's error message (`{"errors":[{"code","message"}]}`), else the start of its body. */
function registryMessage(res: HttpResponse): string {
  try {
    const j = JSON.parse(res.text) as {errors?: Array<{code?: string; message?: string}>}
    const e = j.errors?.[0]
    if (e) return `${e.code ?? ''} ${e.message ?? ''}`.trim()
  } catch {
    // not JSON
  }
  return res.text.replace(/\s+/g, ' ').trim().slice(0, 200) || '(no body)'
}
