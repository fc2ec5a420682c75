/**
 * Locked dependencies end to end: `bento build` locks an `@bentoml.service` project with the real uv against a local
 * PEP 503 index behind basic auth (started here over the provisioned wheelhouse; the credentials are `${VAR}`
 * references expanded from the environment), then `bento containerize --wheelhouse` installs the lock with
 * `--require-hashes` on the real Docker engine: `pip freeze` in the container is exactly the locked set, and no
 * layer of the image holds the index token. Then from the index itself, on the Docker bridge's gateway (plain http:
 * the lock keeps `--trusted-host`): the credentials reach the install step as BuildKit secrets only (no layer,
 * config, history or Bento file holds the token), a tampered wheel fails the build with E_DOCKER_BUILD_STEP naming
 * the package and both hashes, and the real `bentoml containerize` 1.4.40 of a locked Bento installs the lock too.
 */
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {bridgeGateway, DOCKER_CLI as DOCKER, imagesMadeBy, removeDir, removeHomeImages, REPO, requireDocker, run, runBento, runBentoml, tempDir} from '../helpers/env.js'
import {scanSavedImage} from '../helpers/image-scan.js'
import {type LocalIndex, startLocalIndex} from '../helpers/pypi-index.js'

const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const UV = join(process.env.BENTOML_1440_VENV ?? join(TOOLS, 'bentoml-1.4.40-venv'), 'bin/uv')
const RUN_ID = randomBytes(4).toString('hex')
const TOKEN = `tok-${RUN_ID}-e2e-secret`

/** The service of every project here: one API; what is under test is its locked requirements. */
const SERVICE = 'import bentoml\n\n\n@bentoml.service\nclass Locked:\n    @bentoml.api\n    def hi(self) -> str:\n        return "hi"\n'

/** `name==version` lines of a lock or of `pip freeze`, names normalized; pip's own tools left out (freeze hides them). */
function pins(text: string): string[] {
  const hidden = new Set(['pip', 'setuptools', 'wheel', 'distribute'])
  return text
    .split('\n')
    .map((l) => /^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [(m[1] as string).toLowerCase().replace(/[-_.]+/g, '-'), m[2] as string] as const)
    .filter(([n]) => !hidden.has(n))
    .map(([n, v]) => `${n}==${v}`)
    .sort()
}

describe('bento containerize of a Bento bento build locked (hashes, local index with auth)', () => {
  let root: string
  let index: LocalIndex
  const images: string[] = []

  let gateway: string
  beforeAll(async () => {
    gateway = await bridgeGateway(DOCKER)
    if (!existsSync(UV)) throw new Error(`uv missing at ${UV}: run scripts/provision/bentoml-1.4.40-venv.sh`)
    await requireDocker()
    root = await tempDir('bento-lock-e2e-')
    // On a port that stays the same from run to run (when free): the first two tests' Bentos, whose locks name this
    // index, are then the same bytes each run and their install layers (from --wheelhouse) come from the build cache.
    // The last two tests must install (they count the index's requests): a port of their own each run.
    index = await startLocalIndex(WHEELHOUSE, {auth: {user: 'e2e', password: TOKEN}, preferredPort: 18791})
  })
  afterAll(async () => {
    for (const i of new Set(images)) await run(DOCKER, ['rmi', '-f', i])
    await index?.close()
    if (root) {
      for (const h of ['home', 'home-uvlock']) await removeHomeImages(join(root, h))
      await removeDir(root)
    }
  })

  it('pip freeze in the container equals the lock; no layer holds the token', async () => {
    const project = join(root, 'p')
    const home = join(root, 'home')
    await mkdir(project)
    await writeFile(join(project, 'service.py'), SERVICE)
    await writeFile(
      join(project, 'bentofile.yaml'),
      `service: "service:Locked"\npython:\n  packages: [attrs]\n  index_url: "http://\${IDX_USER}:\${IDX_TOKEN}@127.0.0.1:${index.port}/simple"\n`,
    )
    const env = {BENTOML_HOME: home, BENTO_UV: UV, UV_CACHE_DIR: join(root, 'uv-cache'), IDX_USER: 'e2e', IDX_TOKEN: TOKEN}
    const built = await runBento(['build', project, '--json'], {env})
    expect(built.code, built.stderr).toBe(0)
    const b = JSON.parse(built.stdout) as {tag: string; path: string; lock: {sha256: string; file: string; packages: number}}
    expect(b.lock.file).toBe('env/python/requirements.txt')
    const lock = await readFile(join(b.path, b.lock.file), 'utf8')

    const image = `bento-lock-e2e:${RUN_ID}`
    images.push(image)
    const c = await runBento(['containerize', b.tag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}, timeoutMs: 900_000})
    expect(c.code, c.stderr).toBe(0)
    images.push(...imagesMadeBy(JSON.parse(c.stdout)))

    const freeze = await run(DOCKER, ['run', '--rm', '--entrypoint', '/app/.venv/bin/pip', image, 'freeze'])
    expect(freeze.code, freeze.stderr).toBe(0)
    expect(pins(freeze.stdout)).toEqual(pins(lock))
    expect(pins(lock).length).toBeGreaterThan(20)

    const label = await run(DOCKER, ['image', 'inspect', '--format', '{{index .Config.Labels "dev.bento.lock.sha256"}}', image])
    expect(label.stdout.trim()).toBe(b.lock.sha256)

    // Streamed from `docker save`, never written out or held whole in memory.
    const scan = await scanSavedImage(image, [Buffer.from(TOKEN)])
    expect(scan.entries.length).toBeGreaterThan(5)
    expect(scan.hits).toEqual([])
  })

  it('a project with its own uv.lock: bento build reads it (no uv), pip freeze in the container equals the set', async () => {
    const project = join(root, 'uvlock')
    const home = join(root, 'home-uvlock')
    await mkdir(project)
    await writeFile(join(project, 'service.py'), SERVICE)
    await writeFile(join(project, 'bentofile.yaml'), 'service: "service:Locked"\ndocker:\n  python_version: "3.11"\n')
    await writeFile(
      join(project, 'pyproject.toml'),
      `[project]\nname = "uvlock-e2e"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = ["bentoml==1.4.40", "attrs", "idna; platform_machine == 'x86_64'"]\n\n[tool.uv]\nenvironments = ["sys_platform == 'linux' and implementation_name == 'cpython'"]\n`,
    )
    // The index here needs no credentials: uv.lock records the index URL it locked from.
    const open = await startLocalIndex(WHEELHOUSE, {preferredPort: 18792})
    try {
      const locked = await run(UV, ['lock', '--index-url', open.url, '--quiet'], {cwd: project, env: {UV_PYTHON_DOWNLOADS: 'never', UV_CACHE_DIR: join(root, 'uv-cache')}})
      expect(locked.code, locked.stderr).toBe(0)
    } finally {
      await open.close()
    }
    const built = await runBento(['build', project, '--json'], {env: {BENTOML_HOME: home, BENTO_UV: join(root, 'no-uv-here')}})
    expect(built.code, built.stderr).toBe(0)
    const b = JSON.parse(built.stdout) as {tag: string; path: string; lock: {sha256: string; file: string; source: string}}
    expect(b.lock.source).toBe('uv.lock')
    const lock = await readFile(join(b.path, b.lock.file), 'utf8')
    expect(lock).toMatch(/^idna==/m)
    const image = `bento-lock-e2e-uvlock:${RUN_ID}`
    images.push(image)
    const c = await runBento(['containerize', b.tag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}, timeoutMs: 900_000})
    expect(c.code, c.stderr).toBe(0)
    images.push(...imagesMadeBy(JSON.parse(c.stdout)))
    const freeze = await run(DOCKER, ['run', '--rm', '--entrypoint', '/app/.venv/bin/pip', image, 'freeze'])
    expect(freeze.code, freeze.stderr).toBe(0)
    expect(pins(freeze.stdout)).toEqual(pins(lock))
  })

  /** Every file under `dir` whose bytes hold `needle`. */
  async function filesHolding(dir: string, needle: string): Promise<string[]> {
    const hits: string[] = []
    for (const e of await readdir(dir, {withFileTypes: true, recursive: true})) {
      if (e.isFile() && (await readFile(join(e.parentPath, e.name))).includes(needle)) hits.push(join(e.parentPath, e.name))
    }
    return hits
  }

  /** `name==version` of every distribution in the image's /app/.venv (BentoML's venv has no pip). */
  async function installed(image: string): Promise<string[]> {
    const code = "import importlib.metadata as m\nfor d in m.distributions(): print(f\"{d.metadata['Name']}=={d.version}\")"
    const r = await run(DOCKER, ['run', '--rm', '--entrypoint', '/app/.venv/bin/python', image, '-c', code])
    expect(r.code, r.stderr).toBe(0)
    return pins(r.stdout)
  }

  it('from the index with basic auth: credentials only as build secrets; a tampered wheel is E_DOCKER_BUILD_STEP, nothing tagged', async () => {
    const gwIndex = await startLocalIndex(WHEELHOUSE, {auth: {user: 'e2e', password: TOKEN}, host: gateway})
    try {
      const project = join(root, 'secret')
      const home = join(root, 'home-secret')
      await mkdir(project)
      await writeFile(join(project, 'service.py'), SERVICE)
      await writeFile(
        join(project, 'bentofile.yaml'),
        `service: "service:Locked"\npython:\n  packages: [attrs]\n  index_url: "http://\${IDX_USER}:\${IDX_TOKEN}@${gateway}:${gwIndex.port}/simple"\n  trusted_host: ["${gateway}"]\n`,
      )
      const env = {BENTOML_HOME: home, BENTO_UV: UV, UV_CACHE_DIR: join(root, 'uv-cache'), IDX_USER: 'e2e', IDX_TOKEN: TOKEN}
      const built = await runBento(['build', project, '--json'], {env})
      expect(built.code, built.stderr).toBe(0)
      const b = JSON.parse(built.stdout) as {tag: string; path: string; lock: {file: string}}
      const lock = await readFile(join(b.path, b.lock.file), 'utf8')
      expect(lock).toContain(`--trusted-host ${gateway}\n`)
      expect(await filesHolding(b.path, TOKEN)).toEqual([])

      // A compromised index: attrs served with other bytes (and their hash on its page). The lock catches it.
      gwIndex.tamper('attrs')
      const badImage = `bento-lock-e2e-tampered:${RUN_ID}`
      images.push(badImage)
      const bad = await runBento(['containerize', b.tag, '-t', badImage, '--json'], {env: {BENTOML_HOME: home, IDX_USER: 'e2e', IDX_TOKEN: TOKEN}, timeoutMs: 900_000})
      expect(bad.code, bad.stderr).toBe(8)
      const err = (JSON.parse(bad.stdout) as {error: {code: string; message: string; hashMismatch: Array<{package: string; expected: string[]; got: string}>}}).error
      expect(err.code).toBe('E_DOCKER_BUILD_STEP')
      const locked = /^attrs==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)/m.exec(lock)
      expect(locked, lock).not.toBeNull()
      const hashes = [...(locked?.[2] ?? '').matchAll(/sha256:([0-9a-f]{64})/g)].map((m) => m[1] as string).sort()
      expect(err.hashMismatch).toEqual([{package: `attrs==${locked?.[1] ?? ''}`, expected: hashes, got: expect.stringMatching(/^[0-9a-f]{64}$/) as string}])
      expect(err.message).toContain(`attrs==${locked?.[1] ?? ''}`)
      for (const h of [...hashes, err.hashMismatch[0]?.got ?? '']) expect(err.message).toContain(h)
      expect(bad.stdout + bad.stderr).not.toContain(TOKEN)
      expect((await run(DOCKER, ['image', 'inspect', badImage])).code).not.toBe(0)

      // Without the credentials in the environment: a usage error before any build.
      const noCreds = await runBento(['containerize', b.tag, '-t', badImage, '--json'], {env: {BENTOML_HOME: home}})
      expect(noCreds.code).toBe(2)
      expect(noCreds.stdout).toContain('IDX_TOKEN')

      // The good files again: the install step gets the credentials as secrets, and keeps none.
      gwIndex.restore()
      const image = `bento-lock-e2e-secret:${RUN_ID}`
      images.push(image)
      const c = await runBento(['containerize', b.tag, '-t', image, '--json'], {env: {BENTOML_HOME: home, IDX_USER: 'e2e', IDX_TOKEN: TOKEN}, timeoutMs: 900_000})
      expect(c.code, c.stderr).toBe(0)
      images.push(...imagesMadeBy(JSON.parse(c.stdout)))
      const steps = (JSON.parse(c.stdout) as {steps: Array<{step: string}>}).steps.map((s) => s.step).join('\n')
      expect(steps).toContain('--mount=type=secret,id=bento-index-IDX_TOKEN')
      expect(gwIndex.requests.some((p) => p.startsWith('/files/attrs-'))).toBe(true)
      expect(await installed(image)).toEqual(pins(lock))

      const history = await run(DOCKER, ['history', '--no-trunc', image])
      const inspect = await run(DOCKER, ['image', 'inspect', image])
      expect(history.stdout).toContain('bento-index-IDX_TOKEN')
      expect(history.stdout + inspect.stdout).not.toContain(TOKEN)
      expect(inspect.stdout).not.toMatch(/IDX_TOKEN=/)
      // Every byte of `docker save`, streamed (never written out or held whole in memory).
      const scan = await scanSavedImage(image, [Buffer.from(TOKEN)])
      expect(scan.entries.length).toBeGreaterThan(5)
      expect(scan.hits).toEqual([])
    } finally {
      await gwIndex.close()
    }
  })

  it('the real `bentoml containerize` 1.4.40 of a Bento bento build locked installs exactly the lock', async () => {
    // BentoML's image installs with uv and passes no credentials: an open index on the gateway.
    const open = await startLocalIndex(WHEELHOUSE, {host: gateway})
    try {
      const project = join(root, 'real')
      const home = join(root, 'home-real')
      await mkdir(project)
      await writeFile(join(project, 'service.py'), SERVICE)
      await writeFile(join(project, 'bentofile.yaml'), `service: "service:Locked"\npython:\n  packages: [attrs]\n  index_url: "${open.url}"\n  trusted_host: ["${gateway}"]\n`)
      const built = await runBento(['build', project, '--json'], {env: {BENTOML_HOME: home, BENTO_UV: UV, UV_CACHE_DIR: join(root, 'uv-cache')}})
      expect(built.code, built.stderr).toBe(0)
      const b = JSON.parse(built.stdout) as {tag: string; path: string; lock: {file: string}}
      const lock = await readFile(join(b.path, b.lock.file), 'utf8')
      const image = `bento-lock-e2e-bentoml:${RUN_ID}`
      images.push(image)
      const r = await runBentoml(['containerize', b.tag, '-t', image], home)
      expect(r.code, r.stderr + r.stdout).toBe(0)
      // uv in BentoML's image installed from the lock's index (with its hashes), not from PyPI.
      expect(open.requests.some((p) => p.startsWith('/files/bentoml-1.4.40'))).toBe(true)
      expect(await installed(image)).toEqual(pins(lock))
    } finally {
      await open.close()
    }
  })
})
