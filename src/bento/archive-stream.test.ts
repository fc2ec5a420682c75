/**
 * Export never holds the archive in memory: the xz child writes straight into the output file. A stub `xz`
 * that prints 120 MB (more than any default child-process buffer) stands in for compressing a real model,
 * which would take minutes here; the real xz is exercised by archive.test.ts and the e2e tests.
 */
import {chmod, readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {tempDir} from '../../test/helpers/env.js'
import {writeTree} from '../../test/helpers/files.js'
import {bentoTree, freshHome} from '../../test/helpers/store-fixtures.js'
import {exportBento} from './archive/index.js'

const BIG = 120 * 1024 * 1024

describe('export through a child xz', () => {
  const savedPath = process.env.PATH
  let stubDir = ''
  beforeAll(async () => {
    stubDir = await tempDir('bento-xz-stub-')
    const stub = path.join(stubDir, 'xz')
    // Reads the whole tar from stdin (as xz does), then writes BIG bytes.
    await writeFile(stub, `#!/bin/sh\ncat > /dev/null\nhead -c ${BIG} /dev/zero\n`)
    await chmod(stub, 0o755)
    process.env.PATH = `${stubDir}:${savedPath ?? ''}`
  })
  afterAll(() => {
    process.env.PATH = savedPath
  })

  it('streams an archive larger than 100 MB into the file (no buffer, no EPIPE, no listener warning)', async () => {
    const home = await freshHome()
    const bentoDir = path.join(home, 'bentos', 'big', 'v1')
    await writeTree(bentoDir, {
      ...bentoTree('big', 'v1', '2025-05-30T10:20:30.123456+00:00'),
      // A large source file makes the tar side stream many chunks too (D18: one listener per chunk leaked).
      'blob.bin': Buffer.alloc(24 * 1024 * 1024, 1),
    })
    const warnings: Error[] = []
    const onWarning = (w: Error): void => {
      warnings.push(w)
    }
    process.on('warning', onWarning)
    const out = await tempDir()
    try {
      const result = await exportBento({bentoDir, out: path.join(out, 'big.bento')})
      expect(result.bytes).toBe(BIG)
      expect((await stat(result.path)).size).toBe(BIG)
    } finally {
      process.off('warning', onWarning)
    }
    expect(await readdir(out)).toEqual(['big.bento'])
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning')
  }, 120_000)
})
