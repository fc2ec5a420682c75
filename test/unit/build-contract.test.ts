/**
 * The error contract of `bento build` through the compiled CLI: diagnostics name the file actually read (bentofile.yaml,
 * pyproject.toml, a dotenv file) with the line, BentoML's refusals and warnings are reproduced, and a dotenv file is
 * read with the build's environment.
 */
import {readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {type RunResult, tempDir} from '../helpers/env.js'
import {writeTree} from '../helpers/files.js'
import {ECHO_SERVICE, echoProject, legacyEchoProject} from '../helpers/projects.js'

let root: string
let home: string
let n = 0

beforeAll(async () => {
  root = await tempDir('bento-build-contract-')
  home = join(root, 'home')
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

async function project(files: Record<string, string>): Promise<string> {
  return writeTree(join(root, `p${n++}`), {'service.py': ECHO_SERVICE, ...files})
}

async function build(dir: string, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runBentoInProcess(['build', '--json', dir], {env: {BENTOML_HOME: home, ...env}})
}

function configError(r: RunResult): {message: string; hint?: string} {
  expect(r.code, r.stdout + r.stderr).toBe(3)
  expect(r.stderr).not.toContain('    at ')
  const {error} = JSON.parse(r.stdout) as {error: {code: string; message: string; hint?: string}}
  expect(error.code).toBe('E_CONFIG')
  return error
}

describe('bento build names the file it read, with the line', () => {
  it('a pyproject.toml project: service errors name pyproject.toml and the line of `service`, never bentofile.yaml', async () => {
    const dir = await project({'pyproject.toml': '[project]\nname = "p"\n\n[tool.bentoml.build]\nservice = "nope:Echo"\n'})
    const error = configError(await build(dir))
    expect(error.message).toMatch(/pyproject\.toml:5:\d+ service: service module "nope" not found/)
    expect(JSON.stringify(error)).not.toContain('bentofile.yaml')
  })

  it('a label key an image cannot hold: bentofile.yaml:line, not bento.yaml', async () => {
    const dir = await echoProject(join(root, 'label'), 'label', 'labels:\n  ok: "1"\n  "bad key": "2"\n')
    const error = configError(await build(dir))
    expect(error.message).toMatch(/bentofile\.yaml:5:3 labels\.bad key: "bad key" is not a valid image label key/)
    expect(error.message).not.toContain('bento.yaml')
  })

  it('an apt package and an environment variable: each at its line', async () => {
    const dir = await echoProject(join(root, 'apt'), 'apt', 'docker:\n  system_packages: ["curl", "a b"]\nenvs:\n  - name: "1X"\n')
    const error = configError(await build(dir))
    expect(error.message).toMatch(/bentofile\.yaml:4:\d+ docker\.system_packages\[1\]: "a b" is not an apt package name/)
    expect(error.message).toMatch(/bentofile\.yaml:6:\d+ envs\[0\]\.name: "1X" is not a valid environment variable name/)
  })

  it('files the config names that are missing, and include patterns that match nothing: at the line of their key', async () => {
    const dir = await echoProject(join(root, 'missing'), 'missing', 'include:\n  - "*.py"\n  - "data/*.csv"\ndocker:\n  setup_script: ./setup.sh\npython:\n  wheels:\n    - ./dist/x.whl\n')
    const error = configError(await build(dir))
    expect(error.message).toMatch(/bentofile\.yaml:7:17 docker\.setup_script: file "\.\/setup\.sh" does not exist/)
    expect(error.message).toMatch(/bentofile\.yaml:10:7 python\.wheels\[0\]: file "\.\/dist\/x\.whl" does not exist/)
    await writeFile(join(dir, 'bentofile.yaml'), 'service: "service:Echo"\nname: missing\ninclude:\n  - "*.py"\n  - "data/*.csv"\n')
    const ok = await build(dir)
    expect(ok.code, ok.stderr).toBe(0)
    expect((JSON.parse(ok.stdout) as {warnings: string[]}).warnings).toContainEqual(expect.stringMatching(/^bentofile\.yaml:5:5 include\[1\]: pattern "data\/\*\.csv" matches no file/))
  })

  it('docker.python_version "2.7": refused as `bentoml build` refuses it, at file:line', async () => {
    const dir = await echoProject(join(root, 'py27'), 'py27', 'docker:\n  python_version: "2.7"\n')
    const error = configError(await build(dir))
    expect(error.message).toMatch(/bentofile\.yaml:4:19 docker\.python_version: 2\.7 is not supported for debian\. Supported python versions are: 3\.9/)
  })
})

describe('docker.env dotenv files', () => {
  it('${VAR} expands from the environment of bento build (BentoML reads os.environ)', async () => {
    // docker.env is written in spec-1 Bentos (a @bentoml.service builds spec 2, where BentoML ignores docker.env).
    const dir = await legacyEchoProject(join(root, 'dotenv'), 'dotenv', 'docker:\n  env: .env\n')
    await writeFile(join(dir, '.env'), 'TOKEN=${BENTO_CONTRACT_TOKEN}\nLOCAL=x-$TOKEN\n')
    const r = await build(dir, {BENTO_CONTRACT_TOKEN: 's3cret'})
    expect(r.code, r.stderr).toBe(0)
    const bento = (JSON.parse(r.stdout) as {path: string}).path
    const yaml = await readFile(join(bento, 'bento.yaml'), 'utf8')
    expect(yaml).toMatch(/^    TOKEN: 's3cret'$/m)
    expect(yaml).toMatch(/^    LOCAL: 'x-s3cret'$/m)
  })
})

describe("BentoML 1.4.40's warnings for the bentofile keys its v2 Bentos do not support", () => {
  it('a @bentoml.service with docker.cuda_version: the warning at the line of the key', async () => {
    const dir = await echoProject(join(root, 'cuda'), 'cuda', 'docker:\n  cuda_version: "11.6"\n')
    const r = await build(dir)
    expect(r.code, r.stderr).toBe(0)
    const warnings = (JSON.parse(r.stdout) as {warnings: string[]}).warnings
    expect(warnings).toContainEqual(expect.stringMatching(/^bentofile\.yaml:4:17 docker\.cuda_version: docker\.cuda_version is not supported by bento v2, fallback to bento v1/))
    expect(r.stderr).toMatch(/docker\.cuda_version is not supported by bento v2/)
  })
})

describe('python.packages beside python.requirements_txt', () => {
  it('a @bentoml.service Bento for a target before 1.4.19 installs both, without the "ignored" warning; from 1.4.19 on the packages are ignored, with it', async () => {
    const dir = await echoProject(join(root, 'pkgs'), 'pkgs', 'python:\n  requirements_txt: requirements.txt\n  packages:\n    - pandas\n')
    await writeFile(join(dir, 'requirements.txt'), 'numpy\n')
    const ignored = /'packages' is ignored/
    const old = await runBentoInProcess(['build', '--json', dir, '--bentoml-version', '1.4.18'], {env: {BENTOML_HOME: home}})
    expect(old.code, old.stderr).toBe(0)
    expect((JSON.parse(old.stdout) as {warnings: string[]}).warnings).not.toContainEqual(expect.stringMatching(ignored))
    const oldReqs = await readFile(join((JSON.parse(old.stdout) as {path: string}).path, 'env/python/requirements.txt'), 'utf8')
    expect(oldReqs).toMatch(/^numpy\npandas\nbentoml==1\.4\.18\n/)
    const now = await build(dir)
    expect(now.code, now.stderr).toBe(0)
    expect((JSON.parse(now.stdout) as {warnings: string[]}).warnings).toContainEqual(expect.stringMatching(ignored))
    const nowReqs = await readFile(join((JSON.parse(now.stdout) as {path: string}).path, 'env/python/requirements.txt'), 'utf8')
    expect(nowReqs).toBe('numpy\nbentoml==1.4.40\n')
  })
})
