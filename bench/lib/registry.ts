/**
 * A private registry for one benchmark run (Debian's docker-registry, distribution v2): its own port and storage
 * under bench/out, so "bytes a push uploaded" is the growth of its blob store, nothing else writes to it, and it is
 * deleted afterwards (the quick smoke keeps one between runs: `startRegistry`'s `keep`). 127.0.0.1 registries are
 * insecure (plain HTTP) by default for the daemon.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readdirSync, statSync} from 'node:fs'
import {mkdir, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {join} from 'node:path'

import {portFree} from './wheel-server.js'

export interface BenchRegistry {
  /** host:port */
  address: string
  /** Bytes of every blob stored so far. */
  blobBytes: () => number
  stop: () => Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

/**
 * A docker-registry of the benchmark's own in `dir`, emptied first and removed by `stop()`. With `keep` (the quick
 * smoke that CI runs), on `preferredPort` when free: its data stays for the next run, so the pushes of layers the
 * registry has from before — the base and Python layers — are skipped by the engine (it knows where it pushed them),
 * as for a user pushing again; the data is emptied when it outgrows `keep.maxBytes`.
 */
export async function startRegistry(dir: string, keep?: {preferredPort: number; maxBytes: number}): Promise<BenchRegistry> {
  const bin = '/usr/bin/docker-registry'
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/provision/docker.sh`)
  if (!keep || filesBytes(join(dir, 'data')) > keep.maxBytes) await rm(dir, {recursive: true, force: true})
  await mkdir(join(dir, 'data'), {recursive: true})
  const port = keep && (await portFree(keep.preferredPort)) ? keep.preferredPort : await freePort()
  const address = `127.0.0.1:${port}`
  const config = join(dir, 'config.yml')
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${address}\nhealth:\n  storagedriver:\n    enabled: false\n`,
  )
  const child: ChildProcess = spawn(bin, ['serve', config], {stdio: 'ignore'})
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://${address}/v2/`).then((r) => r.ok).catch(() => false)
    if (ok) break
    if (i === 100 || child.exitCode !== null) {
      child.kill()
      throw new Error(`the bench registry on ${address} did not answer`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const blobs = join(dir, 'data/docker/registry/v2/blobs')
  return {
    address,
    // A blob's bytes are the `data` file of its directory.
    blobBytes: () => filesBytes(blobs, (name) => name === 'data'),
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve())
          child.kill()
        })
      }
      if (!keep) await rm(dir, {recursive: true, force: true})
    },
  }
}

/** The bytes of the files under `dir` (those whose name `keep` takes); 0 when it does not exist. */
function filesBytes(dir: string, keep: (name: string) => boolean = () => true): number {
  if (!existsSync(dir)) return 0
  let total = 0
  for (const e of readdirSync(dir, {withFileTypes: true, recursive: true})) if (e.isFile() && keep(e.name)) total += statSync(join(e.parentPath, e.name)).size
  return total
}
