/**
 * `bento build --json` of a project whose Python version is said only by `requires-python` / `.python-version`
 * (issue 16, scope 7): the image uses the newest Python the base images offer that satisfies it, with one warning;
 * an explicit version wins without one; a requirement nothing satisfies is E_CONFIG at its line.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {build, expectError, makeProject, Scratch, writeModel} from '../helpers/build-inputs.js'

const scratch = new Scratch()
afterAll(async () => {
  await scratch.cleanup()
})

/** An SDK service with syntax only Python 3.12 reads (PEP 695 generics). */
const SERVICE = `import bentoml


def first[T](xs: list[T]) -> T:
    return xs[0]


@bentoml.service
class Svc:
    @bentoml.api
    def hi(self, name: str) -> str:
        return first([name])
`

const SERVICE_313 = SERVICE.replace('@bentoml.service\n', '@bentoml.service(image=bentoml.images.Image(python_version="3.13"))\n')

const pyproject = (requires: string): string =>
  `[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = "${requires}"\ndependencies = ["bentoml"]\n\n[tool.bentoml.build]\nservice = "service:Svc"\n`

async function project(files: Record<string, string>): Promise<string> {
  // makeProject writes the iris service.py and a bentofile.yaml unless told otherwise: this project has neither.
  const dir = await makeProject({'bentofile.yaml': '', ...files}, join(await scratch.dir('bento-pyver-'), 'p'))
  const {rm} = await import('node:fs/promises')
  if (!('bentofile.yaml' in files) || files['bentofile.yaml'] === '') await rm(join(dir, 'bentofile.yaml'))
  return dir
}

interface BuildJson {
  path: string
  warnings: string[]
}

describe('bento build: the Python version of the project', () => {
  // The newest Python the base images offer that satisfies requires-python (3.13 is offered: >=3.12,<3.13 pins 3.12).
  it('requires-python >=3.12,<3.13 and no version in the build config → python:3.12-slim, one warning at the line', async () => {
    const home = await scratch.dir('bento-pyver-home-')
    const dir = await project({'service.py': SERVICE, 'pyproject.toml': pyproject('>=3.12,<3.13')})
    const r = await build(dir, home)
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as BuildJson
    const said = out.warnings.filter((w) => w.includes('requires-python'))
    expect(said).toHaveLength(1)
    expect(said[0]).toMatch(/^pyproject\.toml:4:1 requires-python >=3\.12,<3\.13: the image uses Python 3\.12/)
    const yaml = await readFile(join(out.path, 'bento.yaml'), 'utf8')
    expect(yaml).toMatch(/\n {2}base_image: ['"]?python:3\.12-slim/)
    expect(yaml).toMatch(/\n {2}python_version: ['"]3\.12['"]/)
    const dockerfile = await readFile(join(out.path, 'env/docker/Dockerfile'), 'utf8')
    expect(dockerfile).toContain('FROM python:3.12-slim')
  })

  it('the image says its version: it wins, no warning', async () => {
    const home = await scratch.dir('bento-pyver-home-')
    const dir = await project({'service.py': SERVICE_313, 'pyproject.toml': pyproject('>=3.12,<3.13')})
    const r = await build(dir, home)
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as BuildJson
    expect(out.warnings.filter((w) => w.includes('requires-python'))).toEqual([])
    expect(await readFile(join(out.path, 'bento.yaml'), 'utf8')).toMatch(/\n {2}python_version: ['"]3\.13['"]/)
  })

  it('a runner-style service (spec 1): .python-version 3.12.4 → docker.python_version 3.12, and a new Bento version', async () => {
    const home = await scratch.dir('bento-pyver-home-')
    await writeModel(home)
    const dir = await makeProject({}, join(await scratch.dir('bento-pyver-'), 'iris'))
    const before = await build(dir, home)
    expect(before.code, before.stderr).toBe(0)
    const {writeFile} = await import('node:fs/promises')
    await writeFile(join(dir, '.python-version'), '3.12.4\n')
    const r = await build(dir, home)
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as BuildJson & {version: string}
    expect(out.version).not.toBe((JSON.parse(before.stdout) as {version: string}).version)
    expect(out.warnings.filter((w) => w.startsWith('.python-version:1:1 .python-version 3.12.4: the image uses Python 3.12'))).toHaveLength(1)
    const yaml = await readFile(join(out.path, 'bento.yaml'), 'utf8')
    expect(yaml).toMatch(/\ndocker:\n(?: {2}.*\n)*? {2}python_version: ['"]3\.12['"]/)
    expect(await readFile(join(out.path, 'env/docker/Dockerfile'), 'utf8')).toContain('FROM python:3.12-slim')
  })

  it('a requirement no base image satisfies is E_CONFIG at its line', async () => {
    const home = await scratch.dir('bento-pyver-home-')
    const dir = await project({'service.py': SERVICE, 'pyproject.toml': pyproject('>=3.99')})
    const r = await build(dir, home)
    expectError(r, 'E_CONFIG', 3, /pyproject\.toml:4:1 requires-python >=3\.99: no Python the debian base images offer satisfies it/)
  })
})
