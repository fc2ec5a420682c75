/**
 * `bento push` (and `containerize --push --direct-push`) against REAL registries: Debian's docker-registry with htpasswd
 * auth on 127.0.0.1:5001 (scripts/provision/registry-auth.sh), reached directly (Basic) and through a proxy written
 * here that puts a bearer-token service in front of it (tokens expire after a few requests), caps request bodies at
 * 4 MiB (413), drops one PATCH mid-body and answers 500 once. The legacy iris example, containerized offline with the
 * wheelhouse: a cold push completes through every fault; a re-push uploads 0 blob bytes and reads no export; a push
 * after a code edit uploads ≤ 1 MiB; Ctrl-C mid-upload (of a 24 MiB image imported here) leaves no tag; the image pulled back (its own layers removed
 * locally first) has the engine's image id. Afterwards the test's repositories are deleted and the registry's
 * storage garbage-collected, its images removed.
 *
 * `containerize --output` on the same image (the build is cached): `skopeo copy --preserve-digests` puts the `oci:DIR`
 * layout into the local registry (127.0.0.1:5000) under bento's manifest digest and `docker pull` gives back the
 * engine's image id; `docker-archive:FILE` (the same manifest digest), loaded with `docker load` after the tag was
 * removed, gives the engine's image id again. (The writer's determinism and failure paths: src/docker/image-output.test.ts; a bad
 * `--output` value and a non-empty target: test/unit/push-cli.test.ts.)
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {createWriteStream, existsSync, readFileSync} from 'node:fs'
import {appendFile, readdir, rm, writeFile} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'

import tar from 'tar-stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, docker, DOCKER_CLI as DOCKER, imagesMadeBy, irisProject, removeContainersAndImages, removeDir, REPO, run, runBento, saveIrisModel, tempDir} from '../helpers/env.js'
import {deleteRepository, REGISTRY} from '../helpers/registry.js'

const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const AUTH_DIR = join(TOOLS, 'registry-auth')
const UPSTREAM = process.env.BENTO_REGISTRY_AUTH ?? '127.0.0.1:5001'
const RUN_ID = randomBytes(4).toString('hex')
const PREFIX = `push-e2e-${RUN_ID}`
const MiB = 1024 * 1024

interface PushJson {
  ref: string
  digest: string
  uploadedBytes: number
  exportRead: boolean
  retries: number
  resumes: number
  tokenRefreshes: number
  blobs: Array<{digest: string; size: number; kind: string; action: string; uploadedBytes: number}>
}

interface ProxyStats {
  tokens: number
  tooLarge: number
  dropped: number
  failed: number
  /** Bytes of PATCH/PUT bodies forwarded to the registry. */
  forwardedBytes: number
  patches: number
}

/**
 * A registry front: bearer tokens from /token (Basic credentials checked) that expire after `tokenUses` requests, a
 * 4 MiB body cap, one PATCH dropped after half its body, one 500. Bodies are taken whole (≤ 4 MiB) before forwarding,
 * so a dropped request never reaches the registry. `onPatch` sees each forwarded PATCH (its number) and may delay it.
 */
async function startProxy(upstreamAuth: string, user: string, password: string, tokenUses: number) {
  const [uHost, uPort] = UPSTREAM.split(':') as [string, string]
  const stats: ProxyStats = {tokens: 0, tooLarge: 0, dropped: 0, failed: 0, forwardedBytes: 0, patches: 0}
  const faults = {drop: false, fail: false}
  const tokens = new Map<string, number>()
  let onPatch: (n: number) => Promise<void> = async () => undefined
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const port = (server.address() as AddressInfo).port
    if (url.pathname === '/token') {
      if (req.headers.authorization !== basic) {
        res.writeHead(401).end('{"details":"bad credentials"}')
        return
      }
      const t = `tok-${++stats.tokens}-${randomBytes(4).toString('hex')}`
      tokens.set(t, tokenUses)
      res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({token: t, expires_in: 300}))
      return
    }
    const repo = /^\/v2\/(.+?)\/(?:blobs|manifests|tags)\//.exec(url.pathname)?.[1] ?? ''
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const left = bearer === undefined ? undefined : tokens.get(bearer)
    if (left === undefined || left <= 0) {
      if (bearer !== undefined) tokens.delete(bearer)
      req.resume()
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="bento-e2e",scope="repository:${repo}:pull,push"${bearer ? ',error="invalid_token"' : ''}`,
          'content-type': 'application/json',
        })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"token expired or missing"}]}')
      return
    }
    tokens.set(bearer as string, left - 1)
    const length = Number(req.headers['content-length'] ?? 0)
    if (length > 4 * MiB) {
      stats.tooLarge++
      req.resume()
      req.on('end', () => res.writeHead(413, {'content-type': 'text/html'}).end('<html>413 Request Entity Too Large</html>'))
      return
    }
    const parts: Buffer[] = []
    let got = 0
    req.on('data', (c: Buffer) => {
      parts.push(c)
      got += c.length
      if (req.method === 'PATCH' && faults.drop && got >= length / 2) {
        faults.drop = false
        stats.dropped++
        req.socket.destroy()
      }
    })
    req.on('end', async () => {
      if (req.socket.destroyed) return
      if (req.method === 'PATCH' && faults.fail) {
        faults.fail = false
        stats.failed++
        res.writeHead(500, {'content-type': 'application/json'}).end('{"errors":[{"code":"UNKNOWN","message":"injected 500"}]}')
        return
      }
      const body = Buffer.concat(parts)
      if (req.method === 'PATCH') await onPatch(++stats.patches)
      if ((req.method === 'PATCH' || req.method === 'PUT') && url.pathname.includes('/blobs/')) stats.forwardedBytes += body.length
      const headers = {...req.headers, authorization: upstreamAuth}
      const up = http.request({host: uHost, port: Number(uPort), method: req.method, path: req.url, headers}, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers)
        ur.pipe(res)
      })
      up.on('error', () => res.destroy())
      up.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    addr: `127.0.0.1:${port}`,
    stats,
    faults,
    setOnPatch: (f: (n: number) => Promise<void>) => (onPatch = f),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe('bento push to real registries (htpasswd; a bearer proxy that caps, drops and fails)', () => {
  let home: string
  let project: string
  let dockerConfig: string
  let cliConfig: string
  let password: string
  let proxy: Awaited<ReturnType<typeof startProxy>>
  let upstreamAuth: string
  const image = `push-iris-e2e:${RUN_ID}`
  const edited = `push-iris-e2e:${RUN_ID}-edit`
  /** One 24 MiB layer of random bytes: what the interrupted push sends (a small export, so the engine starts at once). */
  const tiny = `push-tiny-e2e:${RUN_ID}`
  /** `--output docker-archive:`'s tag: removed before `docker load` brings it back. */
  const loaded = `push-iris-e2e:${RUN_ID}-loaded`
  const images: string[] = [image, edited, tiny, loaded]
  let coldDigest = ''
  /** The Bento of beforeAll (the one `image` was built from) and where --output writes. */
  let bentoTag = ''
  let outDir = ''
  let ociManifestDigest = ''

  const bento = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runBento(args, {env: {BENTOML_HOME: home, DOCKER_CONFIG: dockerConfig, ...env}, timeoutMs: 600_000})

  /** HEAD of a manifest on the registry itself (Basic): its status. */
  async function manifestStatus(repo: string, tag: string): Promise<number> {
    const r = await fetch(`http://${UPSTREAM}/v2/${repo}/manifests/${tag}`, {
      method: 'HEAD',
      headers: {authorization: upstreamAuth, accept: 'application/vnd.oci.image.manifest.v1+json'},
    })
    return r.status
  }

  beforeAll(async () => {
    const pwFile = join(AUTH_DIR, 'password')
    if (!existsSync(pwFile)) throw new Error(`no registry with htpasswd auth: run scripts/provision/registry-auth.sh (${pwFile} missing)`)
    password = readFileSync(pwFile, 'utf8').trim()
    upstreamAuth = `Basic ${Buffer.from(`bento:${password}`).toString('base64')}`
    const ping = await fetch(`http://${UPSTREAM}/v2/`, {headers: {authorization: upstreamAuth}}).catch((e: Error) => e)
    if (ping instanceof Error || ping.status !== 200) throw new Error(`registry ${UPSTREAM} does not answer: run scripts/provision/registry-auth.sh (${String(ping instanceof Error ? ping : ping.status)})`)
    proxy = await startProxy(upstreamAuth, 'bento', password, 40)
    // bento's credentials: Basic for the registry, the same user for the proxy's token service.
    dockerConfig = await tempDir('bento-push-dockercfg-')
    const auth = Buffer.from(`bento:${password}`).toString('base64')
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({auths: {[UPSTREAM]: {auth}, [proxy.addr]: {auth}}}))
    // The Docker CLI's own config for the pull (the daemon gets the credentials from it), apart from the user's.
    cliConfig = await tempDir('bento-push-dockercli-')
    await writeFile(join(cliConfig, 'config.json'), JSON.stringify({auths: {[UPSTREAM]: {auth}}}))

    const pack = tar.pack()
    pack.entry({name: 'random.bin', size: 24 * MiB}, randomBytes(24 * MiB))
    pack.finalize()
    const tarFile = join(dockerConfig, 'tiny.tar')
    await pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(tarFile))
    const imported = await docker('import', tarFile, tiny)
    expect(imported.code, imported.stderr).toBe(0)
    await rm(tarFile)

    home = await tempDir('bento-home-push-')
    project = await irisProject()
    await saveIrisModel(home)
    const b = await runBento(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(b.code, b.stderr).toBe(0)
    const tag = (JSON.parse(b.stdout) as {tag: string}).tag
    bentoTag = tag
    outDir = await tempDir('bento-push-output-')
    const c = await bento(['containerize', tag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'])
    expect(c.code, c.stderr).toBe(0)
    images.push(...imagesMadeBy(JSON.parse(c.stdout)))
  })

  afterAll(async () => {
    await proxy?.close()
    await removeContainersAndImages([], images)
    await removeDir(home)
    await removeDir(project)
    await removeDir(dockerConfig)
    await removeDir(cliConfig)
    if (outDir) await removeDir(outDir)
    await deleteRepository(`${PREFIX}/oci`).catch((e: Error) => console.warn(`deleting ${PREFIX}/oci from ${REGISTRY}: ${e.message}`))
    // The registry's copy: this run's repositories, then the blobs no repository links any more (only this test
    // writes to the htpasswd registry, so the collection races with nobody).
    await rm(join(AUTH_DIR, 'data/docker/registry/v2/repositories', PREFIX), {recursive: true, force: true})
    if (existsSync(join(AUTH_DIR, 'config.yml'))) {
      const gc = await run('docker-registry', ['garbage-collect', join(AUTH_DIR, 'config.yml')], {timeoutMs: 120_000})
      if (gc.code !== 0) console.warn(`docker-registry garbage-collect failed: ${gc.stderr.slice(-500)}`)
    }
  })

  it('cold push through the proxy: 413s, a dropped PATCH, a 500 and expiring tokens, then complete', async () => {
    proxy.faults.drop = true
    proxy.faults.fail = true
    const r = await bento(['push', image, `${proxy.addr}/${PREFIX}/iris:1`, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const json = JSON.parse(r.stdout) as PushJson
    const big = json.blobs.filter((b) => b.size > 4 * MiB).length
    console.log(
      `cold push: ${(json.uploadedBytes / MiB).toFixed(1)} MiB uploaded for ${json.blobs.length} blobs (${big} over 4 MiB), ` +
        `${proxy.stats.tooLarge} × 413, ${json.resumes} resume(s), ${json.retries} retry(s), ${json.tokenRefreshes} tokens, proxy forwarded ${(proxy.stats.forwardedBytes / MiB).toFixed(1)} MiB`,
    )
    expect(json.blobs.every((b) => b.action === 'uploaded')).toBe(true)
    expect(big).toBeGreaterThan(0)
    expect(proxy.stats).toMatchObject({dropped: 1, failed: 1})
    expect(proxy.stats.tooLarge).toBeGreaterThan(0)
    expect(json.resumes).toBeGreaterThanOrEqual(1)
    expect(json.retries).toBeGreaterThanOrEqual(1)
    // Tokens ran out mid-upload and were renewed.
    expect(json.tokenRefreshes).toBeGreaterThan(3)
    // Only whole blobs reached the registry, once each: nothing dropped was committed, nothing doubled.
    expect(proxy.stats.forwardedBytes).toBe(json.blobs.reduce((n, b) => n + b.size, 0))
    // Every layer's bytes are the image's own: the registry verified each digest on commit.
    expect(json.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(await manifestStatus(`${PREFIX}/iris`, '1')).toBe(200)
    coldDigest = json.digest
  })

  it('re-push (directly, Basic auth): 0 blob bytes, no export read, the same manifest digest', async () => {
    const r = await bento(['push', image, `${UPSTREAM}/${PREFIX}/iris:1`, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const json = JSON.parse(r.stdout) as PushJson
    expect(json).toMatchObject({uploadedBytes: 0, exportRead: false, digest: coldDigest})
    expect(json.blobs.every((b) => b.action === 'exists')).toBe(true)
  })

  it('after a code edit, containerize --push --direct-push uploads ≤ 1 MiB', async () => {
    await appendFile(join(project, 'service.py'), '\n# an edit: only the code layer changes\n')
    const b = await runBento(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(b.code, b.stderr).toBe(0)
    const tag = (JSON.parse(b.stdout) as {tag: string}).tag
    const target = `${UPSTREAM}/${PREFIX}/iris:2`
    const c = await bento(['containerize', tag, '-t', target, '-t', edited, '--wheelhouse', WHEELHOUSE, '--push', '--direct-push', '--json'])
    expect(c.code, c.stderr).toBe(0)
    images.push(target)
    const json = JSON.parse(c.stdout) as {pushed: Array<{tag: string; digest: string; uploadedBytes: number; blobs: PushJson['blobs']}>}
    const p = json.pushed[0]!
    const up = p.blobs.filter((x) => x.action === 'uploaded')
    console.log(`push after a code edit: ${p.uploadedBytes} bytes uploaded (${up.length} of ${p.blobs.length} blobs: ${up.map((x) => `${x.kind} ${x.size}`).join(', ')})`)
    expect(p.tag).toBe(target)
    expect(p.uploadedBytes).toBeGreaterThan(0)
    expect(p.uploadedBytes).toBeLessThanOrEqual(MiB)
    expect(await manifestStatus(`${PREFIX}/iris`, '2')).toBe(200)
  })

  it('Ctrl-C mid-upload: exit 130, no tag in the registry', async () => {
    let sigint: () => void = () => undefined
    // The third PATCH reaching the registry: the push is inside a chunked upload; its answer waits until SIGINT landed.
    const startPatches = proxy.stats.patches
    proxy.setOnPatch(async (n) => {
      if (n - startPatches === 3) {
        sigint()
        await new Promise((r) => setTimeout(r, 300))
      }
    })
    const child = spawn(process.execPath, [BIN, 'push', tiny, `${proxy.addr}/${PREFIX}/interrupted:1`], {
      env: {...process.env, BENTOML_HOME: home, DOCKER_CONFIG: dockerConfig},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    let sentAt = 0
    sigint = () => {
      sentAt = Date.now()
      child.kill('SIGINT')
    }
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    console.log(`Ctrl-C after ${proxy.stats.patches - startPatches - 1} PATCHes of 4 MiB: exit ${code} ${Date.now() - sentAt} ms after SIGINT`)
    proxy.setOnPatch(async () => undefined)
    expect(code, stderr).toBe(130)
    expect(stderr).toContain('E_INTERRUPTED')
    expect(await manifestStatus(`${PREFIX}/interrupted`, '1')).toBe(404)
  })

  it('--output oci: → skopeo copy --preserve-digests → registry under bento\'s manifest digest; docker pull gives the engine\'s image', async () => {
    const dir = join(outDir, 'oci')
    const started = Date.now()
    const c = await bento(['containerize', bentoTag, '-t', image, '--wheelhouse', WHEELHOUSE, '--output', `oci:${dir}`, '--json'], {SOURCE_DATE_EPOCH: '1700000000'})
    expect(c.code, c.stderr).toBe(0)
    const {imageId, output} = JSON.parse(c.stdout) as {imageId: string; output: {manifestDigest: string; bytes: number}}
    console.log(`containerize --output oci: (cached build) ${Date.now() - started} ms, ${(output.bytes / MiB).toFixed(1)} MiB`)
    ociManifestDigest = output.manifestDigest
    expect((await readdir(join(dir, 'blobs/sha256'))).length).toBeGreaterThan(2)
    const ref = `${REGISTRY}/${PREFIX}/oci:1`
    const copyStarted = Date.now()
    const cp = await run('skopeo', ['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${dir}`, `docker://${ref}`], {timeoutMs: 600_000})
    expect(cp.code, cp.stderr).toBe(0)
    console.log(`skopeo copy oci: → ${REGISTRY}: ${Date.now() - copyStarted} ms`)
    await removeDir(dir)
    images.push(ref)
    const pull = await docker('pull', ref)
    expect(pull.code, pull.stderr).toBe(0)
    expect(pull.stdout).toContain(`Digest: ${output.manifestDigest}`)
    expect((await docker('image', 'inspect', '-f', '{{.Id}}', ref)).stdout.trim()).toBe(imageId)
  })

  // Loaded back, the archive gives the engine's own image id (its config, which names every layer's diff id): the same
  // image the tests above run, so this one starts no container.
  it('--output docker-archive: (the same manifest as oci:) → docker load, its tag removed first → the engine\'s image id', async () => {
    const file = join(outDir, 'iris.tar')
    const c = await bento(['containerize', bentoTag, '-t', loaded, '--wheelhouse', WHEELHOUSE, '--output', `docker-archive:${file}`, '--json'], {SOURCE_DATE_EPOCH: '1700000000'})
    expect(c.code, c.stderr).toBe(0)
    const {imageId, output} = JSON.parse(c.stdout) as {imageId: string; output: {manifestDigest: string}}
    // Same image, same config and layers: the writer is a function of the engine's image (each blob checked).
    expect(output.manifestDigest).toBe(ociManifestDigest)
    expect((await docker('rmi', loaded)).code).toBe(0)
    const load = await docker('load', '-i', file)
    expect(load.code, load.stderr).toBe(0)
    expect(load.stdout).toContain(`Loaded image: ${loaded}`)
    await rm(file)
    expect((await docker('image', 'inspect', '-f', '{{.Id}}', loaded)).stdout.trim()).toBe(imageId)
  })

  // Pulled, not served: the engine checks every layer it fetches against the manifest's digests and the config's diff
  // ids, so the same image id is the same image. A pushed image pulled and served: k8s-play.docker.test.ts (Podman).
  it('the image pulled back (its own layers removed here first) is the engine\'s image: the same image id', async () => {
    const imageId = (await docker('image', 'inspect', '-f', '{{.Id}}', image)).stdout.trim()
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
    // Remove the local copies, every tag of the image too (--output made two more): the pull must fetch the layers
    // bento uploaded (the base layers stay shared with the base image).
    for (const i of [imageId, edited, `${UPSTREAM}/${PREFIX}/iris:2`]) await docker('rmi', '-f', i)
    expect((await docker('image', 'inspect', imageId)).code).not.toBe(0)
    const pulledRef = `${UPSTREAM}/${PREFIX}/iris:1`
    images.push(pulledRef)
    const pull = await run(DOCKER, ['--config', cliConfig, 'pull', pulledRef], {timeoutMs: 600_000})
    expect(pull.code, pull.stderr).toBe(0)
    expect(pull.stdout).toContain(`Digest: ${coldDigest}`)
    expect(pull.stdout).toContain('Pull complete')
    expect((await docker('image', 'inspect', '-f', '{{.Id}}', pulledRef)).stdout.trim()).toBe(imageId)
  })
})
