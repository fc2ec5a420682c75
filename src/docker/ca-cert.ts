/**
 * `bento containerize --ca-cert FILE|host`: extra certificate authorities that the package-install steps of the
 * image build trust (a TLS-inspecting proxy's CA, a private index's CA), without leaving them in the image.
 *
 * How: each CA file is a BuildKit secret (`docker build --secret id=bento-ca-N,src=FILE`, see cli-build.ts). Every
 * RUN that installs packages mounts the secrets and a tmpfs, and concatenates the base image's own bundle with the
 * secrets into the tmpfs; `PIP_CERT`, `SSL_CERT_FILE` (uv reads it, with `UV_NATIVE_TLS=1`), `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`,
 * `GIT_SSL_CAINFO` and an apt config (`APT_CONFIG`, `Acquire::https::CAInfo`) point there for that step only. A tmpfs and a secret mount
 * are not part of a layer, and no ARG, ENV, label or file of the build context or the Bento holds the CA. BuildKit
 * only: the classic builder has neither secrets nor tmpfs mounts.
 */
import {X509Certificate} from 'node:crypto'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {resolve} from 'node:path'

import {NotFoundError, UsageError} from '../errors.js'

/** `--ca-cert host`: the bundle the host's tools use. */
export const HOST_CA_SPEC = 'host'

/** Where Debian, Fedora/RHEL, openSUSE and Alpine keep the system bundle, in the order tried for `host`. */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/ssl/cert.pem']

/** The variables whose file `host` takes, first set wins, before the system bundle. */
const HOST_CA_VARIABLES = ['SSL_CERT_FILE', 'PIP_CERT', 'REQUESTS_CA_BUNDLE']

/** One CA file handed to the build as a BuildKit secret (by path: its bytes are read by the docker CLI only). */
export interface CaCertSecret {
  id: string
  file: string
  /** Certificates in the file. */
  certificates: number
}

/** Inside the build: the tmpfs where each step assembles its bundle. */
const CA_DIR = '/run/bento-ca'
const CA_BUNDLE = `${CA_DIR}/ca-certificates.crt`

/** The secret id of the N-th CA file. */
export function caSecretId(i: number): string {
  return `bento-ca-${i}`
}

/**
 * The file a `--ca-cert` value names: `host` is SSL_CERT_FILE, else PIP_CERT, else REQUESTS_CA_BUNDLE, else the
 * system bundle; anything else is a path (relative to `cwd`).
 */
export function caCertFile(spec: string, environ: Record<string, string | undefined>, cwd: string): string {
  if (spec !== HOST_CA_SPEC) return resolve(cwd, spec)
  for (const v of HOST_CA_VARIABLES) {
    const f = environ[v]
    if (f !== undefined && f !== '') return resolve(cwd, f)
  }
  const found = SYSTEM_BUNDLES.find((f) => existsSync(f))
  if (found === undefined) {
    throw new NotFoundError('--ca-cert host: no CA bundle found (SSL_CERT_FILE, PIP_CERT and REQUESTS_CA_BUNDLE are unset, and no system bundle exists)', {
      hint: `pass the file: --ca-cert /path/to/ca.pem (looked in ${SYSTEM_BUNDLES.join(', ')})`,
    })
  }
  return found
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g

/** The number of certificates in a PEM text, or a reason it is not a CA bundle. Pure. */
export function checkPemBundle(text: string): {certificates: number} | {problem: string} {
  if (text.includes('\0')) return {problem: 'it is not a text file (PEM expected; convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`)'}
  let certificates = 0
  for (const m of text.matchAll(PEM_BLOCK)) {
    const kind = m[1] ?? ''
    if (/PRIVATE KEY/.test(kind)) return {problem: 'it holds a private key: pass the CA certificate only, never its key'}
    if (kind !== 'CERTIFICATE' && kind !== 'TRUSTED CERTIFICATE') continue
    try {
      new X509Certificate(m[0])
    } catch (error) {
      return {problem: `certificate ${certificates + 1} cannot be parsed (${(error as Error).message})`}
    }
    certificates += 1
  }
  if (certificates === 0) return {problem: 'it holds no PEM certificate (-----BEGIN CERTIFICATE-----)'}
  return {certificates}
}

/** Resolve and check every `--ca-cert` value; each file becomes one build secret. */
export async function readCaCerts(specs: readonly string[], environ: Record<string, string | undefined>, cwd: string): Promise<CaCertSecret[]> {
  const out: CaCertSecret[] = []
  const seen = new Set<string>()
  for (const spec of specs) {
    const file = caCertFile(spec, environ, cwd)
    if (seen.has(file)) continue
    seen.add(file)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') throw new NotFoundError(`--ca-cert ${file} does not exist`, {data: {file}})
      throw new UsageError(`--ca-cert ${file} cannot be read (${code ?? (error as Error).message})`, {data: {file}, cause: error})
    }
    const checked = checkPemBundle(text)
    if ('problem' in checked) {
      throw new UsageError(`--ca-cert ${file} is not a PEM CA certificate: ${checked.problem}`, {
        hint: 'pass a PEM file of one or more CA certificates (-----BEGIN CERTIFICATE-----), e.g. the proxy CA your IT department distributes',
        data: {file},
      })
    }
    out.push({id: caSecretId(out.length), file, certificates: checked.certificates})
  }
  return out
}

/** The Dockerfile pieces of a RUN that trusts the CA secrets `ids`: its mounts and its shell prefix. Empty without. */
export function caRunParts(ids: readonly string[]): {mounts: string; setup: string} {
  if (ids.length === 0) return {mounts: '', setup: ''}
  const mounts = `${ids.map((id) => `--mount=type=secret,id=${id} `).join('')}--mount=type=tmpfs,target=${CA_DIR} `
  const secrets = ids.map((id) => `/run/secrets/${id}`).join(' ')
  const setup = [
    `{ cat /etc/ssl/certs/ca-certificates.crt 2>/dev/null; cat ${secrets}; } > ${CA_BUNDLE}`,
    // APT_CONFIG replaces /etc/apt/apt.conf (a proxy setting, say): its content is kept, the CA line appended.
    `{ cat /etc/apt/apt.conf 2>/dev/null; printf '\\nAcquire::https::CAInfo "${CA_BUNDLE}";\\n'; } > ${CA_DIR}/apt.conf`,
    `export APT_CONFIG=${CA_DIR}/apt.conf PIP_CERT=${CA_BUNDLE} SSL_CERT_FILE=${CA_BUNDLE} REQUESTS_CA_BUNDLE=${CA_BUNDLE} CURL_CA_BUNDLE=${CA_BUNDLE} GIT_SSL_CAINFO=${CA_BUNDLE} UV_NATIVE_TLS=1; `,
  ].join('; ')
  return {mounts, setup}
}
