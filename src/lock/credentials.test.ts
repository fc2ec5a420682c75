import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {indexCredentialsFor, indexHostsOf} from './credentials.js'

const dir = mkdtempSync(join(tmpdir(), 'bento-cred-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const LOCK = `# bento lock: python 3.11, linux/amd64 (x86_64-manylinux_2_36); every line hashed: install with --require-hashes
--trusted-host 172.17.0.1
--index-url http://\${IDX_USER}:\${IDX_TOKEN}@172.17.0.1:8080/simple
--extra-index-url https://private.example/simple

attrs==26.1.0 \\
    --hash=sha256:c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309
`

describe('index credentials a lock needs at containerize', () => {
  it('the ${VAR}s of its index URLs, from the environment; missing ones listed', () => {
    expect(indexCredentialsFor([LOCK], {IDX_USER: 'u', IDX_TOKEN: 't0k', HOME: dir})).toEqual({variables: [{name: 'IDX_USER', value: 'u'}, {name: 'IDX_TOKEN', value: 't0k'}], missing: [], netrc: null})
    expect(indexCredentialsFor([LOCK], {IDX_USER: 'u'})).toMatchObject({variables: [{name: 'IDX_USER', value: 'u'}], missing: ['IDX_TOKEN']})
    // A ${VAR} outside an index option (a comment, a requirement) is not a credential.
    expect(indexCredentialsFor(['# ${NOT_ME}\nattrs==1 ; python_version > "${X}"\n'], {})).toEqual({variables: [], missing: [], netrc: null})
  })

  it('a netrc (NETRC, else ~/.netrc) only when it names a host of the indexes', () => {
    expect(indexHostsOf(['--index-url http://${A}:${B}@172.17.0.1:8080/simple', '--extra-index-url https://Private.Example/simple'])).toEqual(['172.17.0.1', 'private.example'])
    const netrc = join(dir, 'netrc')
    writeFileSync(netrc, 'machine private.example\n  login u\n  password p\n')
    expect(indexCredentialsFor([LOCK], {IDX_USER: 'u', IDX_TOKEN: 't', NETRC: netrc}).netrc).toBe(netrc)
    writeFileSync(join(dir, '.netrc'), 'machine other.example login u password p\n')
    expect(indexCredentialsFor([LOCK], {IDX_USER: 'u', IDX_TOKEN: 't', HOME: dir}).netrc).toBeNull()
    expect(indexCredentialsFor(['attrs==1\n'], {NETRC: netrc}).netrc).toBeNull()
  })
})
