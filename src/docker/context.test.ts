import {chmod, mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import tar from 'tar-stream'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ArchiveError} from '../errors.js'
import {CONTEXT_MTIME, bentoBuildContext, dockerignoreMatcher, packContext} from './context.js'
import {defaultDockerignore} from './install-script.js'

interface TarEntry {
  name: string
  type: string
  mode: number
  mtime: number
  uid: number
  content: string
  linkname?: string
}

async function readTar(stream: NodeJS.ReadableStream): Promise<{entries: TarEntry[]; bytes: Buffer}> {
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  await new Promise<void>((resolve, reject) => {
    stream.on('end', () => resolve())
    stream.on('error', reject)
  })
  const bytes = Buffer.concat(chunks)
  const entries: TarEntry[] = []
  const extract = tar.extract()
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, s, next) => {
      const parts: Buffer[] = []
      s.on('data', (c: unknown) => parts.push(c as Buffer))
      s.on('end', () => {
        entries.push({
          name: h.name,
          type: h.type ?? 'file',
          mode: h.mode ?? 0,
          mtime: h.mtime?.getTime() ?? 0,
          uid: h.uid ?? -1,
          content: Buffer.concat(parts).toString(),
          linkname: h.linkname ?? undefined,
        })
        next()
      })
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
  })
  extract.end(bytes)
  await done
  return {entries, bytes}
}

let dir: string
let bento: string

async function put(rel: string, content: string, mode = 0o644): Promise<void> {
  const p = path.join(bento, rel)
  await mkdir(path.dirname(p), {recursive: true})
  await writeFile(p, content)
  await chmod(p, mode)
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bento-ctx-'))
  bento = path.join(dir, 'bento')
  await put('bento.yaml', 'name: iris\n')
  await put('README.md', '# iris\n')
  await put('src/service.py', 'print(1)\n')
  await put('src/__pycache__/service.cpython-311.pyc', 'junk')
  await put('src/pkg/mod.py', 'x = 1\n')
  await put('src/pkg/mod.pyc', 'junk')
  await put('apis/openapi.yaml', 'openapi: 3.0.2\n')
  await put('env/python/requirements.txt', 'numpy\n')
  await put('env/python/install.sh', '#!/bin/bash\n', 0o644)
  await put('env/docker/Dockerfile', 'FROM old\n')
  await put('env/docker/entrypoint.sh', '#!/bin/bash\n', 0o600)
  await put('env/docker/Dockerfile.template', '{% extends bento_base_template %}\n')
  await put('models/flower_model/abc/model.yaml', 'name: flower_model\n')
  await put('models/flower_model/abc/saved_model.pb', Buffer.alloc(3 * 1024 * 1024, 7).toString('latin1'))
  await put('models/flower_model/latest', 'abc')
  await symlink('service.py', path.join(bento, 'src', 'link.py'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const ctx = (extra: Partial<Parameters<typeof bentoBuildContext>[0]> = {}) =>
  bentoBuildContext({bentoDir: bento, dockerfile: 'FROM python:3.11-slim\n', dockerignore: defaultDockerignore(), ...extra})

describe('bentoBuildContext', () => {
  it('streams the Bento with the generated Dockerfile and .dockerignore injected', async () => {
    const {entries} = await readTar(ctx())
    const names = entries.map((e) => e.name)
    expect(names).toEqual([
      '.dockerignore',
      'README.md',
      'apis/',
      'apis/openapi.yaml',
      'bento.yaml',
      'env/',
      'env/docker/',
      'env/docker/Dockerfile',
      'env/docker/entrypoint.sh',
      'env/python/',
      'env/python/install.sh',
      'env/python/requirements.txt',
      'models/',
      'models/flower_model/',
      'models/flower_model/abc/',
      'models/flower_model/abc/model.yaml',
      'models/flower_model/abc/saved_model.pb',
      'models/flower_model/latest',
      'src/',
      'src/link.py',
      'src/pkg/',
      'src/pkg/mod.py',
      'src/service.py',
    ])
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]))
    expect(byName['env/docker/Dockerfile']?.content).toBe('FROM python:3.11-slim\n')
    expect(byName['.dockerignore']?.content).toContain('**/__pycache__\n')
    expect(byName['models/flower_model/abc/saved_model.pb']?.content.length).toBe(3 * 1024 * 1024)
    expect(byName['src/link.py']).toMatchObject({type: 'symlink', linkname: 'service.py'})
  })

  it('fixes modes, owners and mtimes; scripts are executable', async () => {
    const {entries} = await readTar(ctx())
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]))
    expect(byName['env/docker/entrypoint.sh']?.mode).toBe(0o755)
    expect(byName['env/python/install.sh']?.mode).toBe(0o755)
    expect(byName['bento.yaml']?.mode).toBe(0o644)
    expect(byName['src/']?.mode).toBe(0o755)
    for (const e of entries) {
      expect(e.mtime).toBe(CONTEXT_MTIME.getTime())
      expect(e.uid).toBe(0)
    }
  })

  it('is byte-for-byte deterministic', async () => {
    const a = await readTar(ctx())
    await put('src/service.py', 'print(1)\n') // rewritten: new mtime, same content
    const b = await readTar(ctx())
    expect(a.bytes.equals(b.bytes)).toBe(true)
  })

  it('adds extra dirs (wheelhouse) under their destination', async () => {
    const wh = path.join(dir, 'wheelhouse')
    await mkdir(wh)
    await writeFile(path.join(wh, 'numpy-2.0-py3-none-any.whl'), 'whl')
    const {entries} = await readTar(ctx({extraDirs: [{src: wh, dest: '.bento-wheelhouse'}]}))
    expect(entries.map((e) => e.name)).toContain('.bento-wheelhouse/numpy-2.0-py3-none-any.whl')
    expect(entries.map((e) => e.name).indexOf('.bento-wheelhouse/')).toBeLessThan(entries.map((e) => e.name).indexOf('.bento-wheelhouse/numpy-2.0-py3-none-any.whl'))
  })

  it('a file that vanishes after the listing (a delete racing containerize) fails the stream typed, with no unhandled error event', async () => {
    // The listing said bento.yaml, then a large file and a small one; the large one is gone when its turn comes.
    const big = path.join(bento, 'models/flower_model/abc/saved_model.pb')
    const stream = packContext(async () => {
      await rm(big)
      return [
        {name: 'bento.yaml', kind: 'file', abs: path.join(bento, 'bento.yaml'), size: 11, executable: false},
        {name: 'saved_model.pb', kind: 'file', abs: big, size: 3 * 1024 * 1024, executable: false},
      ]
    }, bento)
    const error = await readTar(stream).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(ArchiveError)
    expect(error).toMatchObject({code: 'E_DOCKER_CONTEXT', data: {path: big}})
    expect((error as Error).message).toContain('saved_model.pb is gone')
  })

  it('a file that changed size while streamed fails the stream typed', async () => {
    const stream = packContext(async () => [{name: 'bento.yaml', kind: 'file', abs: path.join(bento, 'bento.yaml'), size: 50, executable: false}], bento)
    await expect(readTar(stream)).rejects.toMatchObject({code: 'E_DOCKER_CONTEXT', message: expect.stringContaining('changed while') as unknown})
  })

  it('fails the stream with an ArchiveError when the Bento dir is missing', async () => {
    await expect(readTar(bentoBuildContext({bentoDir: path.join(dir, 'nope'), dockerfile: '', dockerignore: []}))).rejects.toBeInstanceOf(ArchiveError)
  })
})

describe('dockerignoreMatcher', () => {
  it('follows Docker semantics', () => {
    const m = dockerignoreMatcher(['/docs', '*.log', '**/*.tmp', 'models/*/cache', '!keep.log', 'data/', '# comment'])
    expect(m.excluded('docs/a.md')).toBe(true)
    expect(m.excluded('a.log')).toBe(true)
    expect(m.excluded('sub/a.log')).toBe(false) // '*' does not cross '/'
    expect(m.excluded('keep.log')).toBe(false) // negation, last match wins
    expect(m.excluded('x/y/z.tmp')).toBe(true)
    expect(m.excluded('models/m1/cache/blob')).toBe(true)
    expect(m.excluded('data/file')).toBe(true)
    expect(m.excluded('src/data.py')).toBe(false)
    expect(m.hasNegations).toBe(true)
  })
})
