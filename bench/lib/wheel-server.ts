/**
 * A plain HTTP server over the offline wheelhouse (`python3 -m http.server`), reachable from build containers
 * at the host's address on the docker bridge: both tools install from it (`pip/uv --no-index --find-links
 * http://…`), so neither needs PyPI, a CA bundle or the other's tricks.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {createServer} from 'node:net'
import {networkInterfaces} from 'node:os'

import type {Tools} from './env.js'
import {docker} from './docker.js'
import {run} from './proc.js'

export interface WheelServer {
  url: string
  host: string
  stop: () => Promise<void>
}

/** Whether `port` can be listened on (all interfaces). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)))
  })
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '0.0.0.0', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

/**
 * The address build containers reach the host at: the IPv4 address of the default bridge's interface (docker0,
 * or whatever `com.docker.network.bridge.name` says; from Node, else `ip addr`, as Node leaves out an interface
 * with no carrier), else the bridge's IPAM gateway, else the default route seen from inside a container. A daemon
 * that assigned the bridge subnet itself reports no gateway (`[{"Subnet":"172.17.0.0/16"}]`).
 */
export async function bridgeHostAddress(tools: Tools): Promise<string> {
  const inspect = JSON.parse(await docker(tools, ['network', 'inspect', 'bridge', '-f', '{{json .}}'])) as {
    Options?: Record<string, string>
    IPAM?: {Config?: Array<{Gateway?: string}> | null}
  }
  const iface = inspect.Options?.['com.docker.network.bridge.name'] ?? 'docker0'
  const fromNode = networkInterfaces()[iface]?.find((a) => a.family === 'IPv4')?.address
  if (fromNode) return fromNode
  const ip = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', iface]).catch(() => null)
  const fromIp = ip?.code === 0 ? /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(ip.stdout)?.[1] : undefined
  if (fromIp) return fromIp
  const gateway = inspect.IPAM?.Config?.find((c) => c.Gateway)?.Gateway
  if (gateway) return gateway
  // The default route of a container on the bridge (hex, little-endian, in /proc/net/route).
  const route = await run(tools.docker, ['run', '--rm', '--network', 'bridge', 'python:3.11-slim', 'cat', '/proc/net/route'])
  const hex = /^\S+\s+00000000\s+([0-9A-F]{8})/m.exec(route.stdout)?.[1]
  if (hex) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.')
  throw new Error(`cannot tell the host's address on the docker bridge (${iface}): no IPv4 address, no IPAM gateway, no default route in a container`)
}

/** Prefer a fixed port, so the URL (baked into the Bento's pip options) and thus the layer cache survive between runs. */
export async function startWheelServer(tools: Tools, preferredPort = 18765): Promise<WheelServer> {
  const host = await bridgeHostAddress(tools)
  const port = (await portFree(preferredPort)) ? preferredPort : await freePort()
  const child: ChildProcess = spawn('python3', ['-m', 'http.server', String(port), '--bind', '0.0.0.0', '--directory', tools.wheelhouse], {
    stdio: 'ignore',
  })
  const url = `http://${host}:${port}/`
  for (let i = 0; i < 50; i++) {
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false)
    if (ok) break
    if (i === 49) {
      child.kill()
      throw new Error(`the wheel server at ${url} did not answer`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    host,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill()
      }),
  }
}
