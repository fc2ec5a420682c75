/**
 * Search an image for secrets without writing it anywhere: `docker save` streamed through a tar reader, each entry (the
 * layer tars, the image config, the manifest) searched as it passes. A saved image is hundreds of MB; two Docker files
 * run at once, and the CI machine once ran out of disk.
 */
import {spawn} from 'node:child_process'

import tar from 'tar-stream'

import {DOCKER_CLI} from './env.js'

export interface SavedImageScan {
  /** The entries of the `docker save` tar (`<id>/layer.tar`, `<config>.json`, `manifest.json`, …). */
  entries: string[]
  /** Bytes searched. */
  bytes: number
  /** The entries that hold one of the needles. */
  hits: string[]
}

/** The entries of `docker save image` that contain any of `needles` (found across chunk boundaries too). */
export async function scanSavedImage(image: string, needles: Buffer[]): Promise<SavedImageScan> {
  const docker = DOCKER_CLI
  // The last bytes of a chunk kept for the next one: a needle that straddles two chunks is still found.
  const keep = Math.max(1, ...needles.map((n) => n.length)) - 1
  const entries: string[] = []
  const hits = new Set<string>()
  let bytes = 0
  const extract = tar.extract()
  const read = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      entries.push(header.name)
      let tail = Buffer.alloc(0)
      stream.on('data', (data: unknown) => {
        const chunk = data as Buffer
        bytes += chunk.length
        const window = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk
        if (!hits.has(header.name) && needles.some((n) => window.includes(n))) hits.add(header.name)
        tail = Buffer.from(window.subarray(Math.max(0, window.length - keep)))
      })
      stream.on('end', next)
      stream.on('error', reject)
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
  })
  const child = spawn(docker, ['save', image], {stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdout.pipe(extract)
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)))
  const [code, done] = await Promise.all([exited, read.then(() => null, (error: unknown) => error)])
  if (code !== 0) throw new Error(`docker save ${image} exited with ${code}: ${stderr}`)
  if (done !== null) throw done
  return {entries, bytes, hits: [...hits]}
}
