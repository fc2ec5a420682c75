import {describe, expect, it} from 'vitest'

import {indexOptionLines} from './lock.js'
import {hasLiteralCredentials, maskCredentials, maskSecrets, referencedVariables} from './mask.js'

describe('credential masking', () => {
  it('drops or masks literal user info; keeps ${VAR} references (names, not secrets)', () => {
    expect(maskCredentials('--index-url https://u:t0k@host/simple x', '***@')).toBe('--index-url https://***@host/simple x')
    expect(maskCredentials('--index-url https://tok@host/simple', '')).toBe('--index-url https://host/simple')
    expect(maskCredentials('https://${U}:${T}@host/simple', '')).toBe('https://${U}:${T}@host/simple')
    expect(maskCredentials('pkg @ git+ssh://git@github.com/o/r', '***@')).toBe('pkg @ git+ssh://***@github.com/o/r')
    expect(hasLiteralCredentials('https://host/simple')).toBe(false)
    expect(hasLiteralCredentials('https://a:b@host/simple')).toBe(true)
  })

  it('masks the values of referenced variables, longest first, never short ones', () => {
    expect(referencedVariables(['--index-url https://${A}:${B_2}@h', 'x ${A}'])).toEqual(['A', 'B_2'])
    expect(maskSecrets('user alice token s3cr3t-long', ['s3cr3t-long', 'ab'])).toBe('user alice token ***')
  })

  it('index options of a spec-1 config as requirement-file lines, pip_args index options included', () => {
    expect(indexOptionLines({index_url: 'https://i/simple', extra_index_url: ['https://e/simple'], find_links: ['./wh'], trusted_host: ['i'], no_index: true, pip_args: '--pre --timeout 3 --extra-index-url=https://x/simple -f ./more'})).toEqual([
      '--index-url https://i/simple',
      '--extra-index-url https://e/simple',
      '--find-links ./wh',
      '--trusted-host i',
      '--no-index',
      '--pre',
      '--extra-index-url https://x/simple',
      '-f ./more',
    ])
  })
})
