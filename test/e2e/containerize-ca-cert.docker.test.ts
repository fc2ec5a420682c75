/**
 * `bento containerize --ca-cert` against the real Docker engine (BuildKit, secrets through the docker CLI): a local
 * HTTPS package index (the provisioned wheelhouse) whose certificate comes from a CA made here with openssl, on the
 * Docker bridge's gateway address so the build's RUN steps reach it. The base image (python:3.11-slim) does not
 * trust that CA: without --ca-cert the install step fails with a typed error that names the fix; with it the image
 * builds and holds the package, and no layer, no config and no file of the Bento holds the CA's bytes.
 */
import {randomBytes, X509Certificate} from 'node:crypto'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {bridgeGateway, DOCKER_CLI as DOCKER, removeDir, REPO, requireDocker, run, runBento, tempDir} from '../helpers/env.js'
import {scanSavedImage} from '../helpers/image-scan.js'
import {type LocalIndex, startLocalIndex} from '../helpers/pypi-index.js'

const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const RUN_ID = randomBytes(4).toString('hex')

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await run('openssl', args, {cwd})
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`)
}

/** Every regular file under `dir`. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, {withFileTypes: true, recursive: true})) {
    if (e.isFile()) out.push(join(e.parentPath, e.name))
  }
  return out
}

describe('bento containerize --ca-cert (HTTPS index signed by a private CA, real Docker)', () => {
  let root: string
  let index: LocalIndex
  let caPem: string
  const images: string[] = []

  beforeAll(async () => {
    await requireDocker()
    const gateway = await bridgeGateway(DOCKER)
    root = await tempDir('bento-ca-e2e-')
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=bento e2e CA ${RUN_ID}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], root)
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', `/CN=${gateway}`], root)
    await writeFile(join(root, 'san.ext'), `subjectAltName=IP:${gateway}\nextendedKeyUsage=serverAuth\n`)
    await openssl(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'san.ext'], root)
    caPem = await readFile(join(root, 'ca.pem'), 'utf8')
    index = await startLocalIndex(WHEELHOUSE, {
      tls: {key: await readFile(join(root, 'srv.key'), 'utf8'), cert: await readFile(join(root, 'srv.pem'), 'utf8')},
      host: gateway,
    })
  })
  afterAll(async () => {
    for (const i of new Set(images)) await run(DOCKER, ['rmi', '-f', i])
    await index?.close()
    if (root) await removeDir(root)
  })

  it('fails without --ca-cert (typed, hinting at it), builds with it, and the CA is in no layer, config or Bento file', async () => {
    const project = join(root, 'p')
    const home = join(root, 'home')
    await run('mkdir', ['-p', project])
    await writeFile(join(project, 'service.py'), 'import bentoml\n\n\n@bentoml.service\nclass CaSvc:\n    @bentoml.api\n    def hi(self) -> str:\n        return "hi"\n')
    // PIP_RETRIES=0 (an env of the Bento: an ENV before the install step): pip gives up on the first certificate
    // failure instead of retrying 5 times with back-off (≈ 7.5 s of sleep in the failing build, seen). The ENV comes
    // before the apt step, so this Bento's apt layer is a build-cache record of its own (≈ 390 MB, built once, under
    // the daemon's 20 GB builder GC), not the one the other python:3.11-slim Bentos share.
    await writeFile(join(project, 'bentofile.yaml'), `service: "service:CaSvc"\npython:\n  packages: [attrs]\n  index_url: "${index.url}"\nenvs:\n  - name: PIP_RETRIES\n    value: "0"\n`)
    // Builds with secrets go through the docker CLI: the provisioned one (Debian 20.10, built-in BuildKit).
    const env = {BENTOML_HOME: home, BENTO_DOCKER_CLI: DOCKER}
    const built = await runBento(['build', project, '--no-lock', '--json'], {env})
    expect(built.code, built.stderr).toBe(0)
    const b = JSON.parse(built.stdout) as {tag: string; path: string}
    const image = `bento-ca-e2e:${RUN_ID}`
    images.push(image)

    // 1. The base image does not trust the index's CA.
    const t0 = Date.now()
    const failed = await runBento(['containerize', b.tag, '-t', image, '--json'], {env, timeoutMs: 900_000})
    const failMs = Date.now() - t0
    expect(failed.code, failed.stdout + failed.stderr).toBe(8)
    const out = failed.stdout + failed.stderr
    expect(out).toContain('E_DOCKER_BUILD_STEP')
    expect(out).toMatch(/CERTIFICATE_VERIFY_FAILED|certificate verify failed/)
    expect(out).toContain('--ca-cert')
    expect(out, 'PIP_RETRIES=0 reached the install step').not.toContain('Retrying (Retry(')
    expect((await run(DOCKER, ['image', 'inspect', image])).code).not.toBe(0)

    // 2. With --ca-cert the install step trusts it.
    const before = index.requests.length
    const t1 = Date.now()
    const ok = await runBento(['containerize', b.tag, '-t', image, '--ca-cert', join(root, 'ca.pem'), '--json'], {env, timeoutMs: 900_000})
    const okMs = Date.now() - t1
    expect(ok.code, ok.stderr).toBe(0)
    const result = JSON.parse(ok.stdout) as {caCerts: Array<{file: string; certificates: number}>}
    expect(result.caCerts).toEqual([{file: join(root, 'ca.pem'), certificates: 1}])
    expect(index.requests.slice(before).some((p) => p.startsWith('/files/attrs-'))).toBe(true)
    const imported = await run(DOCKER, ['run', '--rm', '--entrypoint', '/app/.venv/bin/python', image, '-c', 'import attrs, bentoml, os; print(attrs.__version__, os.environ.get("PIP_CERT"), os.path.exists("/run/bento-ca/ca-certificates.crt"))'])
    expect(imported.code, imported.stderr).toBe(0)
    // the base image's own PIP_CERT (its ENV) is what the container sees; the build's bundle is gone
    expect(imported.stdout.trim()).toMatch(/ \/etc\/ssl\/certs\/ca-certificates\.crt False$|^\S+ None False$/)

    // 3. The CA's bytes (PEM text, base64 body lines, DER) are in no layer, no config, no file of the Bento.
    const der = Buffer.from(new X509Certificate(caPem).raw)
    const bodyLines = caPem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l))
    const needles = [der, der.subarray(0, 64), ...bodyLines.map((l) => Buffer.from(l))]
    // The saved image is streamed and searched, never written out (hundreds of MB).
    const scan = await scanSavedImage(image, needles)
    const layers = scan.entries.filter((f) => f.endsWith('layer.tar'))
    expect(layers.length).toBeGreaterThan(5)
    expect(scan.entries.some((f) => /[0-9a-f]{64}\.json$/.test(f))).toBe(true)
    const bytes = scan.bytes
    const found: string[] = [...scan.hits]
    for (const f of await filesUnder(b.path)) {
      const data = await readFile(f)
      for (const n of needles) if (data.includes(n)) found.push(f)
    }
    expect(found).toEqual([])
    const config = await run(DOCKER, ['image', 'inspect', '--format', '{{json .Config.Env}}', image])
    expect(config.stdout).not.toMatch(/bento-ca/)
    expect(await readFile(join(b.path, 'env/docker/Dockerfile'), 'utf8')).not.toContain('bento-ca')
    // figures for the report
    console.log(`ca-cert e2e: failing build ${failMs} ms, build with --ca-cert ${okMs} ms, searched ${scan.entries.length} entries of the saved image (${layers.length} layers, ${(bytes / 1e6).toFixed(1)} MB, streamed) + the Bento for ${needles.length} needles: none found`)
  })
})
