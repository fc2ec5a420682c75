import {readFile} from 'node:fs/promises'
import path from 'node:path'


import {DockerPushError} from '../errors.js'
import {registryOf} from '../registry/reference.js'
import type {PushEvent, RegistryAuth} from './image-client.js'
import {LineSplitter} from './lines.js'

/** Docker Hub's key in ~/.docker/config.json `auths`. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/'

export {registryOf}

interface AuthEntry {
  auth?: string
  username?: string
  password?: string
  identitytoken?: string
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>
  credsStore?: string
  credHelpers?: Record<string, string>
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The parts of config.json bento reads, checked for the shapes the Docker CLI writes (any other key is ignored);
 * what is not is a DockerPushError naming the file and the key. Pure.
 */
export function checkDockerConfig(json: unknown, file: string): DockerConfigFile {
  const bad = (keys: string[], value: unknown, want: string): DockerPushError => {
    const where = keys.length === 0 ? 'the file' : keys.map((k) => JSON.stringify(k)).join('.')
    return new DockerPushError(`Cannot read Docker credentials from ${file}: ${where} is ${kindOf(value)}, not ${want}`, {
      hint: 'fix or remove the file, or run `docker login` again',
      data: {file, key: keys.join('.')},
    })
  }
  if (!isObject(json)) throw bad([], json, 'a JSON object')
  const {auths, credsStore, credHelpers} = json
  if (auths !== undefined) {
    if (!isObject(auths)) throw bad(['auths'], auths, 'an object')
    for (const [k, entry] of Object.entries(auths)) {
      if (!isObject(entry)) throw bad(['auths', k], entry, 'an object')
      for (const field of ['auth', 'username', 'password', 'identitytoken']) {
        if (entry[field] !== undefined && typeof entry[field] !== 'string') throw bad(['auths', k, field], entry[field], 'a string')
      }
    }
  }
  if (credsStore !== undefined && typeof credsStore !== 'string') throw bad(['credsStore'], credsStore, 'a string')
  if (credHelpers !== undefined) {
    if (!isObject(credHelpers)) throw bad(['credHelpers'], credHelpers, 'an object')
    for (const [k, helper] of Object.entries(credHelpers)) if (typeof helper !== 'string') throw bad(['credHelpers', k], helper, 'a string')
  }
  return json as DockerConfigFile
}

function kindOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

/** Runs `docker-credential-<helper> get` with the server on stdin; returns its stdout. Injectable for tests. */
export type CredentialHelperRunner = (helper: string, server: string) => Promise<string>

export const runCredentialHelper: CredentialHelperRunner = async (helper, server) => {
  // Loaded here, not at the top: execa is ~100 modules, and only a push through a credential helper needs it.
  const {execa} = await import('execa')
  const r = await execa(`docker-credential-${helper}`, ['get'], {input: server, timeout: 30_000})
  return r.stdout
}

function authKeys(registry: string): string[] {
  if (registry === 'docker.io') return [DOCKER_HUB_AUTH_KEY, 'index.docker.io', 'docker.io', 'registry-1.docker.io']
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`]
}

/**
 * Credentials for pushing `ref`, the way the Docker CLI finds them in `<configDir>/config.json`:
 * `credHelpers[registry]`, else `credsStore`, else `auths[registry].auth` (base64 `user:password`) or
 * `identitytoken`. Returns undefined when nothing is configured (anonymous push).
 */
export async function resolveRegistryAuth(
  ref: string,
  opts: {configDir: string; runHelper?: CredentialHelperRunner},
): Promise<RegistryAuth | undefined> {
  const file = path.join(opts.configDir, 'config.json')
  let json: unknown
  try {
    json = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    if ((err as {code?: string}).code === 'ENOENT') return undefined
    throw new DockerPushError(`Cannot read Docker credentials from ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: 'fix or remove the file, or run `docker login` again',
    })
  }
  const config = checkDockerConfig(json, file)
  const registry = registryOf(ref)
  const keys = authKeys(registry)
  const serveraddress = registry === 'docker.io' ? DOCKER_HUB_AUTH_KEY : registry
  const helper = config.credHelpers?.[registry] ?? config.credsStore
  if (helper) {
    const run = opts.runHelper ?? runCredentialHelper
    let out: string
    try {
      out = await run(helper, serveraddress)
    } catch (err) {
      const msg = `${(err as {stdout?: string}).stdout ?? ''} ${(err as Error).message}`
      if (/credentials not found/i.test(msg)) return undefined
      throw new DockerPushError(`docker-credential-${helper} failed for ${registry}: ${(err as Error).message}`, {
        cause: err,
        hint: `check that docker-credential-${helper} is on PATH and works (\`echo ${serveraddress} | docker-credential-${helper} get\`), or run \`docker login ${registry}\``,
      })
    }
    const c = helperAnswer(out)
    if (c === undefined) {
      throw new DockerPushError(`docker-credential-${helper} answered something that is not credentials for ${registry}: ${JSON.stringify(out.slice(0, 80))}`, {
        hint: `a helper prints {"Username": …, "Secret": …}; check it (\`echo ${serveraddress} | docker-credential-${helper} get\`), or run \`docker login ${registry}\``,
      })
    }
    if (c.Username === '<token>') return {identitytoken: c.Secret, serveraddress}
    return {username: c.Username, password: c.Secret, serveraddress}
  }
  for (const k of keys) {
    const entry = config.auths?.[k]
    if (!entry) continue
    if (entry.identitytoken) return {identitytoken: entry.identitytoken, serveraddress}
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon === -1) {
        throw new DockerPushError(`The auth entry for ${k} in ${file} is not base64 "user:password"`, {hint: `run \`docker login ${registry}\` again`})
      }
      return {username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress}
    }
    if (entry.username && entry.password) return {username: entry.username, password: entry.password, serveraddress}
  }
  return undefined
}

/** A credential helper's `{"Username": …, "Secret": …}`, or undefined when it printed anything else. */
function helperAnswer(out: string): {Username?: string; Secret?: string} | undefined {
  let c: unknown
  try {
    c = JSON.parse(out)
  } catch {
    return undefined
  }
  if (!isObject(c)) return undefined
  if ((c.Username !== undefined && typeof c.Username !== 'string') || (c.Secret !== undefined && typeof c.Secret !== 'string')) return undefined
  return c as {Username?: string; Secret?: string}
}

/**
 * What a push sent. `uploadedBytes`: for each layer the daemon reports `Pushed`, the last byte count of its `Pushing`
 * progress: the layer's tar as the daemon read it to upload (before gzip: the registry gets fewer bytes on the wire).
 * A layer the registry had (`Layer already exists`, `Mounted from …`) uploads nothing and counts in `layersExisting`.
 */
export interface PushUpload {
  uploadedBytes: number
  layersPushed: number
  layersExisting: number
}

/** Parses the JSON-lines stream of `POST /images/{name}/push`; the digest comes from `aux.Digest` or the status line. */
export class PushStreamParser {
  private readonly lines = new LineSplitter((line) => this.line(line))
  private digest: string | undefined
  private error: string | undefined
  /** Per layer id: the last `Pushing` byte count, and how the layer ended. */
  private readonly layers = new Map<string, {bytes: number; end?: 'pushed' | 'existing'}>()

  constructor(private readonly onEvent: (e: PushEvent) => void = () => undefined) {}

  write(chunk: Buffer | string): void {
    this.lines.write(chunk)
  }

  private line(raw: string): void {
    if (raw.trim() === '') return
    let msg: {
      status?: string
      id?: string
      progress?: string
      progressDetail?: {current?: number}
      aux?: {Digest?: string}
      error?: string
      errorDetail?: {message?: string}
    }
    try {
      msg = JSON.parse(raw)
    } catch {
      return
    }
    if (msg.error !== undefined || msg.errorDetail !== undefined) {
      this.error ??= msg.errorDetail?.message ?? msg.error ?? 'unknown push error'
      return
    }
    if (typeof msg.aux?.Digest === 'string') this.digest = msg.aux.Digest
    if (typeof msg.status === 'string') {
      const m = /digest: (sha256:[0-9a-f]{64})/.exec(msg.status)
      if (m) this.digest ??= m[1]
      if (typeof msg.id === 'string') this.layer(msg.id, msg.status, msg.progressDetail?.current)
      this.onEvent({status: msg.status, id: msg.id, progress: msg.progress})
    }
  }

  private layer(id: string, status: string, current: number | undefined): void {
    const l = this.layers.get(id) ?? {bytes: 0}
    this.layers.set(id, l)
    if (status === 'Pushing' && typeof current === 'number') l.bytes = Math.max(l.bytes, current)
    else if (status === 'Pushed') l.end = 'pushed'
    else if (status === 'Layer already exists' || status.startsWith('Mounted from')) l.end = 'existing'
  }

  /** The bytes and layers the push uploaded, and the layers the registry already had. */
  upload(): PushUpload {
    const out: PushUpload = {uploadedBytes: 0, layersPushed: 0, layersExisting: 0}
    for (const l of this.layers.values()) {
      if (l.end === 'pushed') {
        out.uploadedBytes += l.bytes
        out.layersPushed++
      } else if (l.end === 'existing') out.layersExisting++
    }
    return out
  }

  /**
   * How each layer ended, by the engine's id of it (the first 12 hex digits of its diff id): `pushed`, or `existing`
   * (the registry had it: `Layer already exists`, `Mounted from …`).
   */
  layerOutcomes(): Array<{id: string; action: 'pushed' | 'existing'}> {
    return [...this.layers].flatMap(([id, l]) => (l.end === undefined ? [] : [{id, action: l.end}]))
  }

  /** The pushed digest, or a DockerPushError. */
  end(ref: string): string {
    this.lines.end()
    if (this.error !== undefined) {
      const auth = /denied|unauthorized|authentication required/i.test(this.error)
      throw new DockerPushError(`Push of ${ref} failed: ${this.error}`, {
        data: {daemonMessage: this.error},
        hint: auth
          ? `log in to ${registryOf(ref)} (\`docker login ${registryOf(ref)}\`) and check that you may push to this repository`
          : 'check that the registry is reachable from the Docker daemon and the reference is right',
      })
    }
    if (this.digest === undefined) {
      throw new DockerPushError(`Push of ${ref} ended without a digest`, {hint: 'the daemon may have restarted; try again'})
    }
    return this.digest
  }
}

/** Parse a complete recorded push stream. */
export function parsePushStream(stream: string, ref: string): {events: PushEvent[]; digest: string; upload: PushUpload} {
  const events: PushEvent[] = []
  const p = new PushStreamParser((e) => events.push(e))
  p.write(stream)
  return {events, digest: p.end(ref), upload: p.upload()}
}
