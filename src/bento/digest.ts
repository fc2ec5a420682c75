import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {lstat, readdir, readlink} from 'node:fs/promises'
import {join} from 'node:path'

import type {Reporter} from '../reporter.js'

/** sha256 of a file, streamed (never the whole file in memory). */
export async function hashFile(path: string, onBytes?: (n: number) => void): Promise<string> {
  const h = createHash('sha256')
  const stream = createReadStream(path, {highWaterMark: 1 << 20})
  for await (const chunk of stream) {
    h.update(chunk as Buffer)
    onBytes?.((chunk as Buffer).length)
  }
  return h.digest('hex')
}

interface TreeEntry {
  rel: string
  abs: string
  size: number
  link?: string
}

async function walk(root: string, rel = ''): Promise<TreeEntry[]> {
  const out: TreeEntry[] = []
  const entries = await readdir(join(root, rel), {withFileTypes: true})
  entries.sort((a, b) => (a.name < b.name ? -1 : 1))
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name
    const abs = join(root, r)
    if (e.isDirectory()) out.push(...(await walk(root, r)))
    else if (e.isSymbolicLink()) out.push({rel: r, abs, size: 0, link: await readlink(abs)})
    else if (e.isFile()) out.push({rel: r, abs, size: (await lstat(abs)).size})
  }
  return out
}

/**
 * Content digest of a directory: every file's relative path and sha256, in order. Streams every
 * byte once and reports progress, so a multi-GiB model costs one read and constant memory.
 */
export async function hashTree(root: string, label: string, reporter: Reporter): Promise<{digest: string; size: number}> {
  const entries = await walk(root)
  const total = entries.reduce((s, e) => s + e.size, 0)
  let done = 0
  const h = createHash('sha256')
  for (const e of entries) {
    const digest = e.link === undefined ? await hashFile(e.abs, (n) => reporter.progress(label, (done += n), total)) : `link:${e.link}`
    h.update(`${e.rel}\0${digest}\n`)
  }
  reporter.progress(label, total, total)
  return {digest: h.digest('hex'), size: total}
}
