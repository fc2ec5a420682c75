import http from 'node:http'
import https from 'node:https'

/** One HTTP exchange with a registry. Bodies are whole buffers: a blob goes up one bounded chunk at a time. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string
  headers?: Record<string, string>
  body?: Buffer
  signal?: AbortSignal
}

export interface HttpResponse {
  status: number
  /** Lower-case names. */
  headers: Record<string, string>
  /** The answer's body, read up to 64 KiB (errors and tokens; a blob is never downloaded). */
  text: string
}

export type HttpTransport = (req: HttpRequest) => Promise<HttpResponse>

const MAX_TEXT = 64 * 1024
/** No byte from the registry for this long (connecting, sending a chunk, waiting for the answer): the request fails. */
const IDLE_MS = 120_000

/**
 * A transport over node:http(s) with its own keep-alive connections (one per client: no module-level pool). Rejects
 * with the socket's error (ECONNRESET, ECONNREFUSED, a timeout) or an AbortError once `signal` aborts; an HTTP error
 * status is an answer, not a rejection.
 */
export function nodeTransport(): HttpTransport {
  const agents = {
    http: new http.Agent({keepAlive: true, maxSockets: 4}),
    https: new https.Agent({keepAlive: true, maxSockets: 4}),
  }
  return (req) => send(req, agents)
}

function send(req: HttpRequest, agents: {http: http.Agent; https: https.Agent}): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const url = new URL(req.url)
    const mod = url.protocol === 'https:' ? https : http
    const headers: Record<string, string> = {...req.headers}
    if (req.body !== undefined) headers['content-length'] = String(req.body.length)
    else if (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH') headers['content-length'] = '0'
    let settled = false
    const done = (fn: () => void): void => {
      if (settled) return
      settled = true
      fn()
    }
    const r = mod.request(
      url,
      {method: req.method, headers, agent: url.protocol === 'https:' ? agents.https : agents.http, signal: req.signal},
      (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          if (size < MAX_TEXT) chunks.push(c)
          size += c.length
        })
        res.on('error', (err) => done(() => reject(err)))
        res.on('end', () => {
          const out: Record<string, string> = {}
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
          done(() => resolve({status: res.statusCode ?? 0, headers: out, text: Buffer.concat(chunks).toString('utf8').slice(0, MAX_TEXT)}))
        })
      },
    )
    r.setTimeout(IDLE_MS, () => r.destroy(Object.assign(new Error(`no answer from ${url.host} for ${IDLE_MS / 1000} s`), {code: 'ETIMEDOUT'})))
    // A registry may answer (413, 401) before it has read the body and close the connection: the answer wins.
    r.on('error', (err) => done(() => reject(err)))
    r.end(req.body)
  })
}
