import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {caCertFile, caRunParts, checkPemBundle, readCaCerts} from './ca-cert.js'

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/ca/test-ca.pem', import.meta.url))

describe('--ca-cert files', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bento-ca-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('a PEM CA becomes one build secret per file (by path, never read into the build), duplicates once', async () => {
    const pem = await readFile(FIXTURE, 'utf8')
    await writeFile(join(dir, 'two.pem'), `# corp\n${pem}\n${pem}`)
    const got = await readCaCerts([FIXTURE, 'two.pem', FIXTURE], {}, dir)
    expect(got).toEqual([
      {id: 'bento-ca-0', file: FIXTURE, certificates: 1},
      {id: 'bento-ca-1', file: join(dir, 'two.pem'), certificates: 2},
    ])
  })

  it('invalid PEM is a typed error naming the file; a missing file is E_NOT_FOUND', async () => {
    await writeFile(join(dir, 'bad.pem'), 'not a certificate\n')
    await expect(readCaCerts(['bad.pem'], {}, dir)).rejects.toMatchObject({code: 'E_USAGE', exitCode: 2, message: expect.stringContaining(join(dir, 'bad.pem')), data: {file: join(dir, 'bad.pem')}})
    const pem = await readFile(FIXTURE, 'utf8')
    await writeFile(join(dir, 'broken.pem'), pem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\nAAAA\n'))
    await expect(readCaCerts(['broken.pem'], {}, dir)).rejects.toThrow(/broken\.pem is not a PEM CA certificate: certificate 1 cannot be parsed/)
    await writeFile(join(dir, 'key.pem'), `${pem}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`)
    await expect(readCaCerts(['key.pem'], {}, dir)).rejects.toThrow(/holds a private key/)
    await expect(readCaCerts(['nope.pem'], {}, dir)).rejects.toMatchObject({code: 'E_NOT_FOUND', message: expect.stringContaining('nope.pem')})
  })

  it('checkPemBundle refuses DER (binary) input', () => {
    expect(checkPemBundle('\u0030\u0082\u0000')).toEqual({problem: expect.stringMatching(/not a text file/)})
  })

  it('`host` is SSL_CERT_FILE, else PIP_CERT, else REQUESTS_CA_BUNDLE, else the system bundle', () => {
    expect(caCertFile('host', {SSL_CERT_FILE: '/a.pem', PIP_CERT: '/b.pem'}, '/w')).toBe('/a.pem')
    expect(caCertFile('host', {SSL_CERT_FILE: '', PIP_CERT: 'b.pem'}, '/w')).toBe('/w/b.pem')
    expect(caCertFile('host', {REQUESTS_CA_BUNDLE: '/c.pem'}, '/w')).toBe('/c.pem')
    expect(caCertFile('host', {}, '/w')).toBe('/etc/ssl/certs/ca-certificates.crt')
    expect(caCertFile('corp.pem', {SSL_CERT_FILE: '/a.pem'}, '/w')).toBe('/w/corp.pem')
  })

  it('the RUN parts mount the secrets and a tmpfs, and export the bundle variables for the step only', () => {
    expect(caRunParts([])).toEqual({mounts: '', setup: ''})
    const {mounts, setup} = caRunParts(['bento-ca-0', 'bento-ca-1'])
    expect(mounts).toBe('--mount=type=secret,id=bento-ca-0 --mount=type=secret,id=bento-ca-1 --mount=type=tmpfs,target=/run/bento-ca ')
    expect(setup).toContain('cat /run/secrets/bento-ca-0 /run/secrets/bento-ca-1; } > /run/bento-ca/ca-certificates.crt; ')
    for (const v of ['PIP_CERT', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'APT_CONFIG']) expect(setup).toMatch(new RegExp(`export .*\\b${v}=/run/bento-ca/`))
    expect(setup.endsWith('; ')).toBe(true)
    // the image's own /etc/apt/apt.conf (a proxy line, say) still applies under APT_CONFIG
    expect(setup).toContain(`{ cat /etc/apt/apt.conf 2>/dev/null; printf '\\nAcquire::https::CAInfo "/run/bento-ca/ca-certificates.crt";\\n'; } > /run/bento-ca/apt.conf; `)
  })
})
