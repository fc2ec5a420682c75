import {createHash} from 'node:crypto'
import {chmod, mkdir, rm, utimes, writeFile} from 'node:fs/promises'
import path from 'node:path'

import tar from 'tar-stream'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {tempDir} from '../../test/helpers/env.js'
import {modelImageIsCurrent, modelLayerTar, modelImageLabels, modelImageRef} from './model-image.js'

async function drain(stream: NodeJS.ReadableStream): Promise<{sha: string; entries: Array<{name: string; uid: number; gid: number; mode: number; mtime: number; type: string}>}> {
  const h = createHash('sha256')
  const entries: Array<{name: string; uid: number; gid: number; mode: number; mtime: number; type: string}> = []
  const extract = tar.extract()
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, s, next) => {
      entries.push({name: header.name, uid: header.uid ?? -1, gid: header.gid ?? -1, mode: header.mode ?? 0, mtime: header.mtime?.getTime() ?? 0, type: header.type ?? ''})
      s.resume()
      s.on('end', next)
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
    stream.on('data', (c: Buffer) => h.update(c))
    stream.pipe(extract)
  })
  return {sha: h.digest('hex'), entries}
}

describe('model images', () => {
  let dir: string
  beforeEach(async () => {
    dir = await tempDir('bento-model-image-')
    await mkdir(path.join(dir, 'm/sub'), {recursive: true})
    await writeFile(path.join(dir, 'm/model.yaml'), 'name: iris_clf\n')
    await writeFile(path.join(dir, 'm/sub/run.sh'), '#!/bin/sh\n')
    await chmod(path.join(dir, 'm/sub/run.sh'), 0o700)
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('the layer: at the runtime contract path, owned by bentoml (home by root), fixed mtimes and modes', async () => {
    const {entries} = await drain(modelLayerTar({name: 'iris_clf', version: 'v1', dir: path.join(dir, 'm')}))
    const byName = Object.fromEntries(entries.map((e) => [e.name.replace(/\/$/, ''), e]))
    expect(entries.map((e) => e.name.replace(/\/$/, ''))).toEqual([
      'home',
      'home/bentoml',
      'home/bentoml/bento',
      'home/bentoml/bento/models',
      'home/bentoml/bento/models/iris_clf',
      'home/bentoml/bento/models/iris_clf/latest',
      'home/bentoml/bento/models/iris_clf/v1',
      'home/bentoml/bento/models/iris_clf/v1/model.yaml',
      'home/bentoml/bento/models/iris_clf/v1/sub',
      'home/bentoml/bento/models/iris_clf/v1/sub/run.sh',
    ])
    expect(byName['home']).toMatchObject({uid: 0, gid: 0, mode: 0o755})
    for (const name of ['home/bentoml', 'home/bentoml/bento/models/iris_clf/v1', 'home/bentoml/bento/models/iris_clf/v1/model.yaml']) {
      expect(byName[name]).toMatchObject({uid: 1034, gid: 1034})
    }
    expect(byName['home/bentoml/bento/models/iris_clf/v1/model.yaml']?.mode).toBe(0o644)
    expect(byName['home/bentoml/bento/models/iris_clf/v1/sub/run.sh']?.mode).toBe(0o755)
    expect(new Set(entries.map((e) => e.mtime))).toEqual(new Set([315532800_000]))
  })

  it('holds models/<name>/latest naming its version: BentoML writes it at start when missing, on a read-only root file system too (bento k8s)', async () => {
    const layer = modelLayerTar({name: 'iris_clf', version: 'v1', dir: path.join(dir, 'm')})
    const files = new Map<string, string>()
    const extract = tar.extract()
    await new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, s, next) => {
        const chunks: Buffer[] = []
        s.on('data', (c: unknown) => chunks.push(c as Buffer))
        s.on('end', () => {
          files.set(header.name, Buffer.concat(chunks).toString())
          next()
        })
      })
      extract.on('finish', resolve)
      extract.on('error', reject)
      layer.pipe(extract)
    })
    // As BentoML's Store writes it (no newline): the version the model directory next to it holds.
    expect(files.get('home/bentoml/bento/models/iris_clf/latest')).toBe('v1')
    // Hugging Face models live under hf-models/<repo folder>: no latest file there.
    const hf = await drain(modelLayerTar({name: 'x', version: 'v1', dir: path.join(dir, 'm'), hfRepoFolder: 'models--a--b'}))
    expect(hf.entries.map((e) => e.name).filter((n) => n.endsWith('latest'))).toEqual([])
  })

  it('is deterministic: same files, same bytes, whatever their mtimes or the time of day', async () => {
    const a = await drain(modelLayerTar({name: 'iris_clf', version: 'v1', dir: path.join(dir, 'm')}))
    await utimes(path.join(dir, 'm/model.yaml'), new Date(0), new Date(0))
    const b = await drain(modelLayerTar({name: 'iris_clf', version: 'v1', dir: path.join(dir, 'm')}))
    expect(b.sha).toBe(a.sha)
  })

  it('refs: bento-model.invalid/h<home>/<name>:<version> (a host no DNS resolves: never pulled), hashed when Docker would refuse the name', () => {
    const home = '0123456789abcdef'
    expect(modelImageRef('iris_clf', 'hxv3rsxl7oxj6ax4', home)).toBe('bento-model.invalid/h0123456789abcdef/iris_clf:hxv3rsxl7oxj6ax4')
    expect(modelImageRef('a___b', 'v1', home)).toMatch(/^bento-model\.invalid\/h0123456789abcdef\/m-[0-9a-f]{20}:v1$/)
    expect(modelImageRef('a___b', 'v1', home)).toBe(modelImageRef('a___b', 'v1', home))
    // The registry part of the name is a host under .invalid (RFC 2606): Docker reads the first component as the registry.
    expect(modelImageRef('iris_clf', 'v1', home).split('/')[0]).toMatch(/\.invalid$/)
  })

  it('an image is current for the same manifest, or the same content digest from another copy; not for another layer format', () => {
    const id = {name: 'iris_clf', version: 'v1', manifestKey: 'k1', digest: 'a'.repeat(64), size: 10}
    const labels = modelImageLabels(id)
    expect(modelImageIsCurrent(labels, id)).toBe(true)
    expect(modelImageIsCurrent(labels, {...id, manifestKey: 'k2'})).toBe(true)
    expect(modelImageIsCurrent(labels, {...id, manifestKey: 'k2', digest: 'b'.repeat(64)})).toBe(false)
    expect(modelImageIsCurrent(labels, {...id, manifestKey: 'k2', digest: null})).toBe(false)
    expect(modelImageIsCurrent({...labels, 'dev.bento.model.layer-format': '0'}, id)).toBe(false)
    // Format 1 had no models/<name>/latest: such an image is imported again, once.
    expect(labels['dev.bento.model.layer-format']).toBe('2')
    expect(modelImageIsCurrent({...labels, 'dev.bento.model.layer-format': '1'}, id)).toBe(false)
    expect(modelImageIsCurrent(labels, {...id, version: 'v2'})).toBe(false)
  })
})
