import {stat, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {StoreError} from '../errors.js'
import {bentomlHome, ensureHome, expandEnvVar, expandVars} from './home.js'
import {tempDir} from '../../test/helpers/env.js'

describe('bentomlHome', () => {
  it('defaults to ~/bentoml', () => {
    expect(bentomlHome({}, '/home/u')).toBe('/home/u/bentoml')
    expect(bentomlHome({HOME: '/h'}, '/home/u')).toBe('/h/bentoml')
    expect(bentomlHome({BENTOML_HOME: ''}, '/home/u')).toBe('/home/u/bentoml')
  })

  it('expands variables and ~ until stable', () => {
    expect(bentomlHome({BENTOML_HOME: '/srv/bentoml'}, '/home/u')).toBe('/srv/bentoml')
    expect(bentomlHome({BENTOML_HOME: '~/x'}, '/home/u')).toBe('/home/u/x')
    expect(bentomlHome({BENTOML_HOME: '$A/b', A: '${B}/a', B: '~'}, '/home/u')).toBe('/home/u/a/b')
    expect(bentomlHome({BENTOML_HOME: '~other/x'}, '/home/u')).toBe('~other/x')
  })

  it('leaves unknown variables alone and stops on self-reference', () => {
    expect(expandVars('$A/${B}/$C$', {A: '1'})).toBe('1/${B}/$C$')
    expect(expandEnvVar('$A', {A: '$A/x'}, '/h')).toMatch(/^\$A(\/x)+$/)
  })
})

describe('ensureHome', () => {
  it('creates home and its sub directories', async () => {
    const home = path.join(await tempDir(), 'nested', 'bentoml')
    await ensureHome(home)
    for (const sub of ['bentos', 'models', 'envs', 'tmp']) {
      expect((await stat(path.join(home, sub))).isDirectory()).toBe(true)
    }
    await ensureHome(home) // idempotent
  })

  it('fails when a sub directory is a file', async () => {
    const home = await tempDir()
    await writeFile(path.join(home, 'models'), 'x')
    await expect(ensureHome(home)).rejects.toMatchObject({code: 'E_STORE_NOT_A_DIRECTORY'})
  })

  it('fails with E_STORE_NOT_WRITABLE and a hint', async () => {
    // sysfs refuses mkdir even for root (EPERM), and for other users (EACCES).
    const error = await ensureHome('/sys/bento-test-not-writable/bentoml').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({code: 'E_STORE_NOT_WRITABLE'})
    expect((error as StoreError).hint).toContain('BENTOML_HOME')
  })
})
