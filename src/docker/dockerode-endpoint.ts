/**
 * Where the Docker daemon is (DOCKER_HOST and the TLS variables, as the Docker CLI reads them) and what its failures
 * mean to a user: unreachable, not a daemon, silent. Used by both dockerode clients (images and containers).
 */
import {existsSync, readFileSync} from 'node:fs'
import {Agent} from 'node:https'
import os from 'node:os'
import path from 'node:path'

import type Docker from 'dockerode'

import {DockerUnavailableError} from '../errors.js'
import {formatSeconds} from './deadline.js'

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock'

/** Where the daemon is, from the environment (the Docker CLI's rules). Pure. */
export type DockerEndpoint =
  | {kind: 'unix'; socketPath: string; display: string}
  | {kind: 'tcp'; host: string; port: number; tls: boolean; verify: boolean; certPath: string; display: string}

export function resolveDockerEndpoint(env: Record<string, string | undefined>, homeDir: string = os.homedir()): DockerEndpoint {
  const host = env.DOCKER_HOST?.trim()
  if (!host) return {kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET, display: `unix://${DEFAULT_DOCKER_SOCKET} (default)`}
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET
    return {kind: 'unix', socketPath, display: `DOCKER_HOST=${host}`}
  }
  const m = /^(tcp|http|https):\/\/\[?([^\]/]+?)\]?(?::(\d+))?\/?$/.exec(host)
  if (!m) {
    throw new DockerUnavailableError(`DOCKER_HOST=${host} is not supported`, {
      hint: 'use unix:///path/to/docker.sock or tcp://HOST:PORT (ssh:// and npipe:// are not supported); unset DOCKER_HOST to use /var/run/docker.sock',
    })
  }
  const verify = Boolean(env.DOCKER_TLS_VERIFY) && env.DOCKER_TLS_VERIFY !== '0'
  const tls = verify || (Boolean(env.DOCKER_TLS) && env.DOCKER_TLS !== '0') || m[1] === 'https'
  const port = m[3] ? Number(m[3]) : tls ? 2376 : 2375
  const certPath = env.DOCKER_CERT_PATH || path.join(homeDir, '.docker')
  return {kind: 'tcp', host: m[2] as string, port, tls, verify, certPath, display: `DOCKER_HOST=${host}`}
}

export function dockerodeOptions(ep: DockerEndpoint): Docker.DockerOptions {
  if (ep.kind === 'unix') return {socketPath: ep.socketPath}
  if (!ep.tls) return {host: ep.host, port: ep.port, protocol: 'http'}
  const read = (name: string): Buffer | undefined => {
    const p = path.join(ep.certPath, name)
    return existsSync(p) ? readFileSync(p) : undefined
  }
  const ca = ep.verify ? read('ca.pem') : undefined
  const cert = read('cert.pem')
  const key = read('key.pem')
  return {
    host: ep.host,
    port: ep.port,
    protocol: 'https',
    ca,
    cert,
    key,
    ...(ep.verify ? {} : {agent: new Agent({rejectUnauthorized: false, cert, key})}),
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EPERM', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET', 'EPIPE'])

export function errnoOf(err: unknown): string | undefined {
  const code = (err as {code?: unknown} | null)?.code
  return typeof code === 'string' ? code : undefined
}

export function unavailableError(ep: DockerEndpoint, err: unknown): DockerUnavailableError {
  const code = errnoOf(err)
  const where = ep.kind === 'unix' ? ep.socketPath : `${ep.host}:${ep.port}`
  const steps = [
    'is dockerd running? (`docker info`, `systemctl status docker`)',
    `the daemon address used is ${ep.display}; set DOCKER_HOST (unix:///path/docker.sock or tcp://host:2376) if it lives elsewhere`,
  ]
  if (ep.kind === 'unix') {
    steps.push(
      code === 'EACCES' || code === 'EPERM'
        ? `permission denied on ${ep.socketPath}: add your user to the socket's group (\`sudo usermod -aG docker $USER\`, then log in again) or use rootless Docker`
        : `check that ${ep.socketPath} exists and is writable by you (\`ls -l ${ep.socketPath}\`)`,
    )
  } else if (ep.tls) {
    steps.push(`TLS is on: certificates are read from ${ep.certPath} (ca.pem, cert.pem, key.pem; DOCKER_CERT_PATH)`)
  }
  return new DockerUnavailableError(`Cannot reach the Docker daemon at ${where}${code ? ` (${code})` : ''}: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
    hint: steps.join('; '),
    data: {dockerHost: ep.display},
  })
}

export function isConnectionError(err: unknown): boolean {
  const code = errnoOf(err)
  return code !== undefined && CONNECTION_CODES.has(code)
}

/** Node's HTTP parser refused what came back (`HPE_…`): whatever answered does not speak HTTP. */
export function isParseError(err: unknown): boolean {
  return errnoOf(err)?.startsWith('HPE_') ?? false
}

/** The first bytes of what answered, on one line, for a message. */
export function snippet(body: unknown): string {
  let text: string
  if (Buffer.isBuffer(body)) text = body.toString('utf8')
  else if (typeof body === 'string') text = body
  else if (body === undefined || body === null) text = ''
  else text = JSON.stringify(body)
  text = text.replace(/\s+/g, ' ').trim()
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

function whereOf(ep: DockerEndpoint): string {
  return ep.kind === 'unix' ? ep.socketPath : `${ep.host}:${ep.port}`
}

/** What answered is not a Docker daemon (or not a healthy one): an HTTP error status, garbage, or a wrong body. */
export function notADaemonError(ep: DockerEndpoint, request: string, answered: string, cause?: unknown): DockerUnavailableError {
  return new DockerUnavailableError(`The server at ${whereOf(ep)} answered ${answered} to ${request}: is it a Docker daemon?`, {
    cause,
    hint: `check what listens there (\`docker version\` with the same DOCKER_HOST); the daemon address used is ${ep.display}; set DOCKER_HOST (unix:///path/docker.sock or tcp://host:2376) if the daemon lives elsewhere`,
    data: {dockerHost: ep.display},
  })
}

/** The daemon took the request and said nothing for `ms`. */
export function noAnswerError(ep: DockerEndpoint, request: string, ms: number, envVar: string, cause?: unknown): DockerUnavailableError {
  // A unix socket connects at once or fails (ENOENT, ECONNREFUSED): a silence there is the daemon's.
  const accepted = ep.kind === 'unix' ? 'accepted the connection but ' : ''
  return new DockerUnavailableError(`The Docker daemon at ${whereOf(ep)} ${accepted}did not answer ${request} within ${formatSeconds(ms)}`, {
    cause,
    hint: `is dockerd hung or overloaded? (\`docker info\`, \`journalctl -u docker\`); the daemon address used is ${ep.display}; to wait longer set ${envVar}=SECONDS (0 waits for ever)`,
    data: {dockerHost: ep.display, timeoutSeconds: ms / 1000},
  })
}

export function statusOf(err: unknown): number | undefined {
  const s = (err as {statusCode?: unknown} | null)?.statusCode
  return typeof s === 'number' ? s : undefined
}

export function daemonMessage(err: unknown): string {
  const json = (err as {json?: {message?: string}} | null)?.json
  return json?.message ?? (err as Error)?.message ?? String(err)
}
