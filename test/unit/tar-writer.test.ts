/**
 * One deterministic tar writer (src/tar-writer.ts) for the three tars bento writes: `bento export` archives, the
 * Docker build context of a Bento, and a model image's layer. Golden digests pin the bytes of each for one fixture
 * (a change of any header or of the entry order shows here), and the export and the build context of the same Bento
 * give the same headers to the same entries (only the mtime differs: each user fixes its own).
 */
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import type tar from 'tar-stream'
import {describe, expect, it} from 'vitest'

import {exportBento} from '../../src/bento/archive/index.js'
import {bentoBuildContext} from '../../src/docker/context.js'
import {modelLayerTar} from '../../src/docker/model-image.js'
import {tempDir} from '../helpers/env.js'
import {writeTree} from '../helpers/files.js'
import {bentoTree, modelTree} from '../helpers/store-fixtures.js'
import {readTar} from '../helpers/tar.js'

const T_MODEL = '2025-05-30T10:11:12.123456+00:00'
const T_BENTO = '2025-05-30T10:20:30.123456+00:00'

/** A Bento with every kind of entry: nested and empty directories, executables, symlinks, inline-looking names. */
async function fixture(): Promise<{bentoDir: string; modelDir: string}> {
  const root = await tempDir()
  const bentoDir = path.join(root, 'bento')
  const modelDir = path.join(root, 'model')
  await writeTree(bentoDir, {
    ...bentoTree('fixture', 'v1abcdefghijklmn', T_BENTO, [{tag: 'm:v1', creationTime: T_MODEL}]),
    src: {
      'service.py': 'import bentoml\n',
      'a.b': 'segment order vs string order\n',
      a: {c: 'inside a/\n'},
      'run.sh': {content: '#!/bin/sh\necho hi\n', mode: 0o750},
      'big.bin': Buffer.alloc(200_000, 7),
      'empty.txt': '',
      'link-to-service': {symlink: 'service.py'},
      'dangling': {symlink: 'a/c'},
      'ünïcode.txt': 'ü\n',
    },
    env: {docker: {'entrypoint.sh': {content: '#!/bin/sh\nexec "$@"\n', mode: 0o644}}},
    'README.md': '# fixture\n',
  })
  await writeTree(modelDir, {...modelTree('m', 'v1', T_MODEL), 'weights.bin': Buffer.alloc(70_000, 3), sub: {'x.txt': 'x'}})
  return {bentoDir, modelDir}
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

async function exported(bentoDir: string, modelDir: string): Promise<Buffer> {
  const out = path.join(await tempDir(), 'fixture.tar')
  await exportBento({bentoDir, out, format: 'tar', modelDirs: [{name: 'm', version: 'v1', dir: modelDir}]})
  return readFile(out)
}

const context = (bentoDir: string): Promise<Buffer> =>
  collect(bentoBuildContext({bentoDir, dockerfile: 'FROM scratch\n', dockerignore: ['*.pyc', '!keep.pyc']}))

describe('one deterministic tar writer', () => {
  it('writes the same bytes as before for an export, a build context and a model layer', async () => {
    const {bentoDir, modelDir} = await fixture()
    const exportBytes = await exported(bentoDir, modelDir)
    const contextBytes = await context(bentoDir)
    const layerBytes = await collect(modelLayerTar({name: 'm', version: 'v1', dir: modelDir}))
    expect({
      export: sha256(exportBytes),
      context: sha256(contextBytes),
      layer: sha256(layerBytes),
    }).toEqual({
      export: '471ac8e2461220766ac822d305eb4cc8ef23e52b1cfc82e590315ebf61601a7c',
      context: 'f539c89824c0e9b72c8fb6583966b77cd4440abce1f41d9129fa366be180cddc',
      // Model layer format 2: the layer holds models/m/latest as well.
      layer: '60b70ab227b357f9db8301268c22a5d28cecf796f2cc847aa273ea63aca4642f',
    })
    // And again: nothing of the writer depends on the moment or the run.
    expect(sha256(await exported(bentoDir, modelDir))).toBe(sha256(exportBytes))
    expect(sha256(await context(bentoDir))).toBe(sha256(contextBytes))
  })

  it('gives the same entries the same headers in an export and in a build context (mtime aside)', async () => {
    const {bentoDir, modelDir} = await fixture()
    const fromExport = new Map((await readTar(await exported(bentoDir, modelDir))).map((e) => [e.header.name, e.header]))
    const fromContext = new Map((await readTar(await context(bentoDir))).map((e) => [e.header.name, e.header]))
    // What the context changes on purpose: its own files, and the scripts it makes executable.
    const ownedByContext = new Set(['.dockerignore', 'env/docker/Dockerfile', 'env/docker/entrypoint.sh'])
    const common = [...fromContext.keys()].filter((name) => fromExport.has(name) && !ownedByContext.has(name))
    expect(common.length).toBeGreaterThan(10)
    expect(common).toEqual(expect.arrayContaining(['src/', 'src/run.sh', 'src/link-to-service', 'src/big.bin', 'src/empty.txt']))
    const fields = (h: tar.Header & {byteOffset?: number}) => {
      const {mtime: _mtime, byteOffset: _offset, ...rest} = h
      return rest
    }
    for (const name of common) expect(fields(fromContext.get(name)!), name).toEqual(fields(fromExport.get(name)!))
    expect(new Set([...fromExport.values()].map((h) => h.mtime?.getTime()))).toEqual(new Set([0]))
    expect(new Set([...fromContext.values()].map((h) => h.mtime?.getTime()))).toEqual(new Set([315532800_000]))
    // The context's scripts are executable whatever their mode on disk; the export keeps the mode it found.
    expect(fromContext.get('env/docker/entrypoint.sh')?.mode).toBe(0o755)
    expect(fromExport.get('env/docker/entrypoint.sh')?.mode).toBe(0o644)
  })
})
