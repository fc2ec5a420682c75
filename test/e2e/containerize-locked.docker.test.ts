/**
 * Locked dependencies end to end: `bento build` locks an `@bentoml.service` project with the real uv against a local
 * PEP 503 index behind basic auth (started here over the provisioned wheelhouse; the credentials are `${VAR}`
 * references expanded from the environment), then `bento containerize --wheelhouse` installs the lock with
 * `--require-hashes` on the real Docker engine: `pip freeze` in the container is exactly the locked set, and no
 * layer of the image holds the index token.
 */
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {imagesMadeBy, removeDir, removeHomeImages, REPO, run, runBento, tempDir} from '../helpers/env.js'
import {scanSavedImage} from '../helpers/image-scan.js'
import {type LocalIndex, startLocalIndex} from '../helpers/pypi-index.js'

const DOCKER = process.env.BENTO_DOCKER_CLI ?? '/usr/bin/docker'
const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const UV = join(process.env.BENTOML_1440_VENV ?? join(TOOLS, 'bentoml-1.4.40-venv'), 'bin/uv')
const RUN_ID = randomBytes(4).toString('hex')
const TOKEN = `tok-${RUN_ID}-e2e-secret`

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

  beforeAll(async () => {
    if (!existsSync(UV)) throw new Error(`uv missing at ${UV}: run scripts/provision/bentoml-1.4.40-venv.sh`)
    const ping = await run(DOCKER, ['version', '--format', '{{.Server.Version}}'])
    if (ping.code !== 0) throw new Error(`no Docker daemon: run scripts/provision/docker.sh (${ping.stderr})`)
    root = await tempDir('bento-lock-e2e-')
    index = await startLocalIndex(WHEELHOUSE, {auth: {user: 'e2e', password: TOKEN}})
  })
  afterAll(async () => {
    for (const i of new Set(images)) await run(DOCKER, ['rmi', '-f', i])
    await index?.close()
    for (const h of ['home', 'home-uvlock']) await removeHomeImages(join(root, h))
    await removeDir(root)
  })

  it('pip freeze in the container equals the lock; no layer holds the token', async () => {
    const project = join(root, 'p')
    const home = join(root, 'home')
    await mkdir(project)
    await writeFile(join(project, 'service.py'), 'import bentoml\n\n\n@bentoml.service\nclass Locked:\n    @bentoml.api\n    def hi(self) -> str:\n        return "hi"\n')
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
    await writeFile(join(project, 'service.py'), 'import bentoml\n\n\n@bentoml.service\nclass Locked:\n    @bentoml.api\n    def hi(self) -> str:\n        return "hi"\n')
    await writeFile(join(project, 'bentofile.yaml'), 'service: "service:Locked"\ndocker:\n  python_version: "3.11"\n')
    await writeFile(
      join(project, 'pyproject.toml'),
      `[project]\nname = "uvlock-e2e"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = ["bentoml==1.4.40", "attrs", "idna; platform_machine == 'x86_64'"]\n\n[tool.uv]\nenvironments = ["sys_platform == 'linux' and implementation_name == 'cpython'"]\n`,
    )
    // The index here needs no credentials: uv.lock records the index URL it locked from.
    const open = await startLocalIndex(WHEELHOUSE)
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
})
