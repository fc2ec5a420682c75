import {RegistryError} from '../errors.js'
import type {HttpTransport} from './http.js'

/** What the user has for a registry (from ~/.docker/config.json or a credential helper; none: anonymous). */
export interface RegistryCredentials {
  username?: string
  password?: string
  /** An OAuth refresh token (`docker login` to a registry that issues them). */
  identitytoken?: string
}

export interface Challenge {
  scheme: string
  params: Record<string, string>
}

/** `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` (or `Basic realm="…"`). Pure. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header)
  if (!m) return undefined
  const params: Record<string, string> = {}
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g
  for (const p of (m[2] ?? '').matchAll(re)) params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '')
  return {scheme: (m[1] ?? '').toLowerCase(), params}
}

/**
 * The Authorization header for a registry: none until it asks, then Basic with the credentials or a Bearer token
 * from its realm for the repository's pull+push scope. `refresh` is called on every 401: a token that expired
 * mid-upload is replaced and the request sent again.
 */
export class RegistryAuth {
  private header: string | undefined
  private refreshes = 0

  constructor(
    private readonly registry: string,
    private readonly repository: string,
    private readonly credentials: RegistryCredentials | undefined,
    private readonly transport: HttpTransport,
    private readonly signal?: AbortSignal,
  ) {}

  get authorization(): string | undefined {
    return this.header
  }

  /** Tokens fetched so far (a mid-upload expiry shows as 2 or more). */
  get tokenRefreshes(): number {
    return this.refreshes
  }

  /** After a 401 with this challenge: a new header, or RegistryError(E_REGISTRY_AUTH). `failedWith` is the header that got the 401. */
  async refresh(wwwAuthenticate: string | undefined, failedWith: string | undefined): Promise<void> {
    const c = wwwAuthenticate === undefined ? undefined : parseChallenge(wwwAuthenticate)
    if (c?.scheme === 'basic') {
      const {username, password} = this.credentials ?? {}
      if (username === undefined || password === undefined || failedWith?.startsWith('Basic ')) throw this.denied()
      this.header = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
      return
    }
    if (c?.scheme !== 'bearer' || !c.params.realm) {
      throw new RegistryError(`${this.registry} answered 401 with no challenge bento can answer (${wwwAuthenticate ?? 'no WWW-Authenticate'})`, {
        code: 'E_REGISTRY_AUTH',
        hint: `check the registry address; \`docker login ${this.registry}\``,
      })
    }
    this.refreshes++
    if (this.refreshes > 50) throw this.denied('it keeps refusing fresh tokens')
    const scope = c.params.scope ?? `repository:${this.repository}:pull,push`
    this.header = `Bearer ${await this.token(c.params.realm, c.params.service, scope)}`
  }

  private async token(realm: string, service: string | undefined, scope: string): Promise<string> {
    const url = new URL(realm)
    const creds = this.credentials
    let r
    if (creds?.identitytoken) {
      const body = new URLSearchParams({grant_type: 'refresh_token', refresh_token: creds.identitytoken, client_id: 'bento', scope, ...(service ? {service} : {})})
      r = await this.transport({method: 'POST', url: url.toString(), headers: {'content-type': 'application/x-www-form-urlencoded'}, body: Buffer.from(body.toString()), signal: this.signal})
    } else {
      if (service) url.searchParams.set('service', service)
      for (const s of scope.split(' ')) url.searchParams.append('scope', s)
      const headers: Record<string, string> = {}
      if (creds?.username !== undefined && creds.password !== undefined) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
      r = await this.transport({method: 'GET', url: url.toString(), headers, signal: this.signal})
    }
    if (r.status === 401 || r.status === 403) throw this.denied(`the token service ${url.origin} answered ${r.status}`)
    let token: unknown
    try {
      const json = JSON.parse(r.text) as {token?: unknown; access_token?: unknown}
      token = json.token ?? json.access_token
    } catch {
      token = undefined
    }
    if (r.status !== 200 || typeof token !== 'string' || token === '') {
      throw new RegistryError(`The token service ${url.origin} of ${this.registry} answered ${r.status} without a token`, {
        code: 'E_REGISTRY_AUTH',
        hint: `\`docker login ${this.registry}\`, then push again`,
        data: {status: r.status},
      })
    }
    return token
  }

  private denied(why?: string): RegistryError {
    const who = this.credentials ? 'the credentials from the Docker config were refused' : 'no credentials are configured'
    return new RegistryError(`${this.registry} refused the push to ${this.repository}: ${why ?? who}`, {
      code: 'E_REGISTRY_AUTH',
      hint: `\`docker login ${this.registry}\` (bento reads ~/.docker/config.json and credential helpers, as docker push does) and check that you may push to ${this.repository}`,
    })
  }
}
