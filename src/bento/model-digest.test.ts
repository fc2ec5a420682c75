import {link, mkdir, readFile, rm, utimes, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {memoryReporter} from '../reporter.js'
import {tempDir} from '../../test/helpers/env.js'
import {hashFile} from './digest.js'
import {digestCacheFile, modelDigest, modelManifest} from './model-digest.js'

describe('modelDigest: read once per model version, then from the manifest-keyed cache', () => {
  let home: string
  let dir: string
  const model = (): {name: string; version: string; dir: string} => ({name: 'big', version: 'v1', dir})

  beforeEach(async () => {
    home = await tempDir('bento-digest-')
    dir = path.join(home, 'models/big/v1')
    await mkdir(path.join(dir, 'sub'), {recursive: true})
    await writeFile(path.join(dir, 'model.yaml'), 'name: big\n')
    await writeFile(path.join(dir, 'weights.bin'), Buffer.alloc(300_000, 7))
    await writeFile(path.join(dir, 'sub/extra.txt'), 'x')
  })
  afterEach(async () => {
    await rm(home, {recursive: true, force: true})
  })

  it('the first call reads every byte once; the next ones read none and give the same digest', async () => {
    let read = 0
    const first = await modelDigest(home, model(), memoryReporter(), {onRead: (n) => (read += n)})
    expect(first.cached).toBe(false)
    expect(read).toBe(300_000 + 10 + 1)
    // The digest is the one bento has always derived Bento versions from (path + sha256 per file, in order).
    const files = ['model.yaml', 'sub/extra.txt', 'weights.bin']
    const lines = await Promise.all(files.map(async (f) => `${f}\0${await hashFile(path.join(dir, f))}\n`))
    const {createHash} = await import('node:crypto')
    expect(first.digest).toBe(createHash('sha256').update(lines.join('')).digest('hex'))

    read = 0
    const second = await modelDigest(home, model(), memoryReporter(), {onRead: (n) => (read += n)})
    expect(second).toMatchObject({cached: true, digest: first.digest, size: first.size})
    expect(read).toBe(0)
    const rec = JSON.parse(await readFile(digestCacheFile(home, 'big', 'v1', first.manifest.key), 'utf8')) as {digest: string}
    expect(rec.digest).toBe(first.digest)
  })

  it('a file changed by hand (same size, new mtime) is noticed: read again, new digest', async () => {
    const first = await modelDigest(home, model(), memoryReporter())
    await writeFile(path.join(dir, 'weights.bin'), Buffer.alloc(300_000, 8))
    await utimes(path.join(dir, 'weights.bin'), new Date(), new Date(Date.now() + 5_000))
    const again = await modelDigest(home, model(), memoryReporter())
    expect(again.cached).toBe(false)
    expect(again.digest).not.toBe(first.digest)
  })

  it('a hard-linked copy (a Bento\'s models/<n>/<v>) has the same manifest, so it shares the cached digest', async () => {
    await modelDigest(home, model(), memoryReporter())
    const copy = path.join(home, 'bentos/b/1/models/big/v1')
    await mkdir(path.join(copy, 'sub'), {recursive: true})
    for (const f of ['model.yaml', 'weights.bin', 'sub/extra.txt']) await link(path.join(dir, f), path.join(copy, f))
    expect((await modelManifest(copy)).key).toBe((await modelManifest(dir)).key)
    let read = 0
    const r = await modelDigest(home, {...model(), dir: copy}, memoryReporter(), {onRead: (n) => (read += n)})
    expect(r.cached).toBe(true)
    expect(read).toBe(0)
  })

  it('an unwritable cache only costs a re-read', async () => {
    await writeFile(path.join(home, '.bento'), 'not a directory')
    const a = await modelDigest(home, model(), memoryReporter())
    const b = await modelDigest(home, model(), memoryReporter())
    expect(b.cached).toBe(false)
    expect(b.digest).toBe(a.digest)
  })
})
