/**
 * `service:` paths through the compiled CLI, as BentoML 1.4.40 resolves them (issue 16, scope 8): bento.yaml's
 * `service:` and the Bento's src/ are what the real `bentoml build` writes (test/e2e/service-path-interop.test.ts
 * compares them with it).
 */
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {runBento, tempDir} from '../helpers/env.js'
import {filesUnder, writeTree} from '../helpers/files.js'

const SVC = `import bentoml
from pkg.words import greet


@bentoml.service
class Svc:
    @bentoml.api
    def hello(self, name: str) -> str:
        return greet(name)
`

let root: string
let home: string
let n = 0

beforeAll(async () => {
  root = await tempDir('bento-service-paths-')
  home = join(root, 'home')
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

async function project(files: Record<string, string>): Promise<string> {
  return writeTree(join(root, `p${n++}`), files)
}

const pyproject = (service: string): string => `[project]\nname = "greeting"\nversion = "0.1.0"\n\n[tool.bentoml.build]\nservice = "${service}"\n`

async function build(dir: string): Promise<{service: string; src: string[]; warnings: string[]}> {
  const r = await runBento(['build', '--json', dir], {env: {BENTOML_HOME: home}})
  expect(r.code, r.stdout + r.stderr).toBe(0)
  const out = JSON.parse(r.stdout) as {path: string; warnings: string[]}
  const yaml = await readFile(join(out.path, 'bento.yaml'), 'utf8')
  return {service: (parse(yaml) as {service: string}).service, src: await filesUnder(join(out.path, 'src')), warnings: out.warnings}
}

describe('bento build: service paths as BentoML 1.4.40 resolves them', () => {
  it('a pyproject src layout with service = "src.pkg.service:Svc" builds (was E_CONFIG "service module not found"); bento.yaml says src.pkg.service:Svc, src/ flattened', async () => {
    const dir = await project({'pyproject.toml': pyproject('src.pkg.service:Svc'), 'src/pkg/__init__.py': '', 'src/pkg/service.py': SVC, 'src/pkg/words.py': 'def greet(n):\n    return n\n'})
    const b = await build(dir)
    expect(b.service).toBe('src.pkg.service:Svc')
    expect(b.src).toEqual(['bentofile.yaml', 'pkg/__init__.py', 'pkg/service.py', 'pkg/words.py', 'pyproject.toml'])
    // BentoML 1.4.40 writes the same Bento, which `bentoml serve` of the Bento cannot import: bento says so.
    expect(b.warnings).toContainEqual(expect.stringMatching(/pyproject\.toml:6:1 service: the service module "src\.pkg\.service" is not in the Bento[^]*service = "pkg\.service:Svc"/))
  })

  it('src layout, service = "src/pkg/service.py:Svc": module src.pkg.service', async () => {
    const dir = await project({'pyproject.toml': pyproject('src/pkg/service.py:Svc'), 'src/pkg/service.py': SVC.replace('from pkg.words import greet\n', 'greet = str\n')})
    expect((await build(dir)).service).toBe('src.pkg.service:Svc')
  })

  it('src layout, service = "pkg.service:Svc" (importable when the project is installed): pkg.service:Svc, no warning about it', async () => {
    const dir = await project({'pyproject.toml': pyproject('pkg.service:Svc'), 'src/pkg/__init__.py': '', 'src/pkg/service.py': SVC, 'src/pkg/words.py': 'def greet(n):\n    return n\n'})
    const b = await build(dir)
    expect(b.service).toBe('pkg.service:Svc')
    expect(b.warnings).not.toContainEqual(expect.stringContaining('is not in the Bento'))
  })

  it('service: "sub/service.py:Svc" without sub/__init__.py: module sub.service (was E_CONFIG "make sub a package")', async () => {
    const dir = await project({'bentofile.yaml': 'service: "sub/service.py:Svc"\n', 'sub/service.py': SVC.replace('from pkg.words import greet\n', 'greet = str\n')})
    const b = await build(dir)
    expect(b.service).toBe('sub.service:Svc')
    expect(b.src).toEqual(['bentofile.yaml', 'sub/service.py'])
  })
})
