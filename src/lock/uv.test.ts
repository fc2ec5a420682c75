import {chmod, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {findUvPath, uvTool} from './uv.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bento-uv-'))
  await mkdir(join(dir, 'bin'))
  await writeFile(join(dir, 'bin/uv'), '#!/bin/sh\necho "uv 9.9.9 (fake)"\necho x >> "$0.calls"\n')
  await chmod(join(dir, 'bin/uv'), 0o755)
  await writeFile(join(dir, 'not-exec'), '')
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('finding uv', () => {
  it('BENTO_UV first, else PATH; none → null', () => {
    expect(findUvPath({BENTO_UV: join(dir, 'bin/uv'), PATH: ''})).toBe(join(dir, 'bin/uv'))
    expect(findUvPath({PATH: `/nonexistent:${join(dir, 'bin')}`})).toBe(join(dir, 'bin/uv'))
    expect(findUvPath({PATH: '/nonexistent'})).toBeNull()
  })

  it('BENTO_UV naming no executable (or a relative path) is E_UV_NOT_FOUND, never a silent unlocked build', () => {
    expect(() => findUvPath({BENTO_UV: join(dir, 'not-exec')})).toThrow(expect.objectContaining({code: 'E_UV_NOT_FOUND'}))
    expect(() => findUvPath({BENTO_UV: 'uv'})).toThrow(/not an executable file/)
  })

  it('the version is asked once per executable and then remembered in the cache folder', async () => {
    const cache = join(dir, 'cache')
    const uv = join(dir, 'bin/uv')
    expect(await uvTool(uv, {PATH: '/usr/bin:/bin'}, cache)).toEqual({path: uv, version: '9.9.9'})
    expect(await uvTool(uv, {PATH: '/usr/bin:/bin'}, cache)).toEqual({path: uv, version: '9.9.9'})
    expect((await readFile(`${uv}.calls`, 'utf8')).split('\n').filter(Boolean)).toHaveLength(1)
  })
})
