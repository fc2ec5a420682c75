/**
 * A plain HTTP server over the offline wheelhouse (`python3 -m http.server`), reachable from build containers
 * at the docker bridge gateway: both tools install from it (`pip/uv --no-index --find-links http://…`), so
 * neither needs PyPI, a CA bundle or the other's tricks.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {createServer} from 'node:net'

import type {Tools} from './env.js'
import {docker} from './docker.js'

export interface WheelServer {
  url: string
  host: string
  stop: () => Promise<void>
}

function portFree(port: number): Promise<boolean> {
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

/** Prefer a fixed port, so the URL (baked into the Bento's pip options) and thus the layer cache survive between runs. */
export async function startWheelServer(tools: Tools, preferredPort = 18765): Promise<WheelServer> {
  const host = await docker(tools, ['network', 'inspect', 'bridge', '-f', '{{(index .IPAM.Config 0).Gateway}}'])
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
