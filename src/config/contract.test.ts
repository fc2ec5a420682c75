/**
 * Problems that used to surface late (while rendering the Dockerfile, as `bento.yaml` without a line) or not at all
 * are reported by the config reader, at the file and line the user wrote them.
 */
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ConfigError, type Diagnostic, formatDiagnostic} from '../errors.js'
import {loadBuildConfig} from './load.js'
import {parseBuildConfig} from './parse.js'

const errorLines = (ds: Diagnostic[]): string[] => ds.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d).split('\n')[0] ?? '')

function problems(text: string, kind: 'bentofile' | 'pyproject' = 'bentofile'): string[] {
  const result = parseBuildConfig(text, kind === 'bentofile' ? 'bentofile.yaml' : 'pyproject.toml', kind)
  return errorLines(result.diagnostics)
}

describe('Dockerfile-level checks at build time, with positions', () => {
  it('an environment variable name a Dockerfile cannot hold: envs[i].name at its line', () => {
    expect(problems('service: svc\nenvs:\n  - name: OK\n  - name: "1BAD"\n    value: x\n')).toEqual([
      expect.stringMatching(/^bentofile\.yaml:4:11 envs\[1\]\.name: "1BAD" is not a valid environment variable name/),
    ])
  })

  it('a reserved name and a value with a line break', () => {
    expect(problems('service: svc\nenvs:\n  - name: BENTO_PATH\n    value: /x\n  - name: MULTI\n    value: "a\\nb"\n')).toEqual([
      expect.stringMatching(/^bentofile\.yaml:3:11 envs\[0\]\.name: BENTO_PATH is set by the image/),
      expect.stringMatching(/^bentofile\.yaml:6:12 envs\[1\]\.value: the value of MULTI contains a line break/),
    ])
  })

  it('docker.env as a mapping and as a list: the key at its line', () => {
    expect(problems('service: svc\ndocker:\n  env:\n    GOOD: 1\n    "BAD-NAME": 2\n')).toEqual([
      expect.stringMatching(/^bentofile\.yaml:5:5 docker\.env\.BAD-NAME: "BAD-NAME" is not a valid environment variable name/),
    ])
    expect(problems('service: svc\ndocker:\n  env:\n    - PATH=/x\n')).toEqual([
      expect.stringMatching(/^bentofile\.yaml:4:7 docker\.env\[0\]: PATH is set by the image/),
    ])
  })

  it('a system package that is not an apt package name: docker.system_packages[i] at its line', () => {
    expect(problems('service: svc\ndocker:\n  system_packages:\n    - curl\n    - "git; rm -rf /"\n')).toEqual([
      expect.stringMatching(/^bentofile\.yaml:5:7 docker\.system_packages\[1\]: "git; rm -rf \/" is not an apt package name/),
    ])
  })

  it('a label key an image label cannot hold: labels.<key> at its line', () => {
    expect(problems('service: svc\nlabels:\n  owner: me\n  "bad key": x\n')).toEqual([
      expect.stringMatching(/^bentofile\.yaml:4:3 labels\.bad key: "bad key" is not a valid image label key/),
    ])
  })

  it('a base image that is not an image reference', () => {
    expect(problems('service: svc\ndocker:\n  base_image: "python:3.11 AS x"\n')).toEqual([
      expect.stringMatching(/^bentofile\.yaml:3:15 docker\.base_image: "python:3\.11 AS x" is not an image reference/),
    ])
  })

  it('in pyproject.toml: the line of the key in [tool.bentoml.build]', () => {
    const toml = '[tool.bentoml.build]\nservice = "svc"\n\n[tool.bentoml.build.labels]\n"bad key" = "x"\n'
    expect(problems(toml, 'pyproject')).toEqual([expect.stringMatching(/^pyproject\.toml:5:\d+ labels\.bad key: "bad key" is not a valid image label key/)])
  })
})

describe('docker.python_version that BentoML refuses for the distro', () => {
  it('2.7 with the default distro is refused as `bentoml build` refuses it, at file:line', () => {
    expect(problems('service: svc\ndocker:\n  python_version: "2.7"\n')).toEqual([
      expect.stringMatching(/^bentofile\.yaml:3:19 docker\.python_version: 2\.7 is not supported for debian\. Supported python versions are: 3\.9, 3\.10, 3\.11, 3\.12, 3\.13/),
    ])
  })

  it('3.8 too (the default distro is debian); with a base_image the version is only ignored', () => {
    expect(problems('service: svc\ndocker:\n  python_version: "3.8"\n')).toHaveLength(1)
    expect(problems('service: svc\ndocker:\n  base_image: "python:3.8-slim"\n  python_version: "3.8"\n')).toEqual([])
  })
})

describe('docker.env dotenv files, read as BentoML reads them', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bento-dotenv-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  async function load(files: Record<string, string>, environ: Record<string, string>) {
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), {recursive: true})
      await writeFile(path.join(dir, name), content)
    }
    return loadBuildConfig({projectDir: dir, environ})
  }

  it('${VAR} and $VAR expand from the environment, after earlier keys of the file', async () => {
    const loaded = await load(
      {'bentofile.yaml': 'service: svc\ndocker:\n  env: .env\n', '.env': 'A=a\nFROM_ENV=${BENTO_TEST_VAR}\nFROM_FILE=$A-x\nMISSING=${NOPE_NOT_SET}\n'},
      {BENTO_TEST_VAR: 'from the environment', A: 'environment loses'},
    )
    expect(loaded.config.docker.env).toEqual({A: 'a', FROM_ENV: 'from the environment', FROM_FILE: 'a-x', MISSING: ''})
  })

  it('the dotenv path itself expands $VAR and ~ (os.path.expandvars, expanduser)', async () => {
    const loaded = await load({'bentofile.yaml': 'service: svc\ndocker:\n  env: $ENV_DIR/prod.env\n', 'conf/prod.env': 'X=1\n'}, {ENV_DIR: 'conf'})
    expect(loaded.config.docker.env).toEqual({X: '1'})
  })

  it('a bad variable name in the dotenv file names that file and its line', async () => {
    const error = await load({'bentofile.yaml': 'service: svc\ndocker:\n  env: .env\n', '.env': 'GOOD=1\n\nPATH=/usr/bin\n'}, {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(errorLines((error as ConfigError).diagnostics)).toEqual([expect.stringMatching(/^\.env:3:1 PATH: PATH is set by the image/)])
  })
})
