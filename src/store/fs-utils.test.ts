import {readdir, readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {dirSize, humanSize, writeFileAtomic} from './fs-utils.js'
import {tempDir} from '../../test/helpers/env.js'
import {writeTree} from '../../test/helpers/files.js'

describe('humanSize', () => {
  // Expected values printed by BentoML's human_readable_size (Python 3).
  it.each([
    [0, '0.00 B'],
    [1, '1.00 B'],
    [1023, '1023.00 B'],
    [1024, '1.00 KiB'],
    [1152, '1.12 KiB'],
    [1153, '1.13 KiB'],
    [1536, '1.50 KiB'],
    [1126, '1.10 KiB'],
    [1178, '1.15 KiB'],
    [18668, '18.23 KiB'],
    [1070596, '1.02 MiB'],
    [5 * 1024 ** 3 + 1, '5.00 GiB'],
    [2000 * 2 ** 50, '2000.00 PiB'],
    [3 * 1024 ** 6, '3072.00 PiB'],
  ])('%d → %s', (n, expected) => {
    expect(humanSize(n)).toBe(expected)
  })
})

describe('dirSize', () => {
  it('counts files, follows file symlinks, skips broken links and symlinked dirs', async () => {
    const root = await tempDir()
    await writeTree(root, {
      a: '12345',
      sub: {b: '123', deeper: {'.hidden': '1'}},
      link: {symlink: 'a'},
      broken: {symlink: 'nope'},
      dirlink: {symlink: 'sub'},
    })
    // a(5) + b(3) + .hidden(1) + link→a(5); dirlink is not descended (pathlib `**`), broken is skipped
    expect(await dirSize(root)).toBe(14)
    expect(await dirSize(path.join(root, 'missing'))).toBe(0)
  })
})

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temp file', async () => {
    const root = await tempDir()
    const file = path.join(root, 'latest')
    await writeFile(file, 'old')
    await writeFileAtomic(file, 'new')
    expect(await readFile(file, 'utf8')).toBe('new')
    expect(await readdir(root)).toEqual(['latest'])
  })
})
