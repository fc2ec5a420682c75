/**
 * The Python version of a project that names none in its build config: `requires-python` ([project] of
 * pyproject.toml) or `.python-version`, as loadBuildConfig reads them (issue 16, scope 7).
 */
import {describe, expect, it} from 'vitest'

import {dirEachTest, writeTree} from '../../test/helpers/files.js'

import {DEFAULT_PYTHON_VERSION, SUPPORTED_PYTHON_VERSIONS} from '../bentoml/config-facts.js'
import {formatDiagnostic} from '../errors.js'
import {loadBuildConfig} from './load.js'
import {projectPythonDiagnostic} from './project-python.js'

const project = dirEachTest('bento-pyver-')
const write = async (files: Record<string, string>): Promise<string> => writeTree(project.dir, files)

const pyproject = (requires: string, build = 'service = "service:Svc"\n'): string =>
  `[project]\nname = "demo"\nversion = "0.1.0"\n\nrequires-python = "${requires}"\ndependencies = ["bentoml"]\n\n[tool.bentoml.build]\n${build}`

describe('the Python version from the project', () => {
  // The rule (issue 16): the newest version the base images offer that satisfies it. The table offers up to 3.13.
  const NEWEST = SUPPORTED_PYTHON_VERSIONS.at(-1)!

  it('requires-python >=3.12 → the newest offered (3.13), with one warning at its line', async () => {
    await write({'pyproject.toml': pyproject('>=3.12')})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(NEWEST).toBe('3.13')
    expect(loaded.config.docker.python_version).toBe(NEWEST)
    expect(loaded.python).toMatchObject({file: 'pyproject.toml', line: 5, requirement: '>=3.12', version: NEWEST, applies: true})
    const d = projectPythonDiagnostic(loaded.python!)
    expect(d.severity).toBe('warning')
    expect(formatDiagnostic(d)).toMatch(/^pyproject\.toml:5:1 requires-python >=3\.12: the image uses Python 3\.13\n/)
  })

  it('requires-python >=3.12,<3.13 → 3.12', async () => {
    await write({'pyproject.toml': pyproject('>=3.12,<3.13')})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.docker.python_version).toBe('3.12')
  })

  it('requires-python that is not a PEP 440 specifier is an error at its line', async () => {
    await write({'pyproject.toml': pyproject('3.12+')})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(projectPythonDiagnostic(loaded.python!)).toMatchObject({file: 'pyproject.toml', line: 5, severity: 'error', message: expect.stringContaining('not a PEP 440') as unknown})
  })

  it('picks the newest offered version inside the range: >=3.9,<3.11 → 3.10', async () => {
    await write({'pyproject.toml': pyproject('>=3.9,<3.11')})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.docker.python_version).toBe('3.10')
  })

  it('reads requires-python from pyproject.toml beside a bentofile.yaml too', async () => {
    await write({'bentofile.yaml': 'service: "service:Svc"\n', 'pyproject.toml': pyproject('~=3.12.0', '')})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.docker.python_version).toBe('3.12')
    expect(loaded.python?.file).toBe('pyproject.toml')
  })

  it('.python-version 3.12.4 → 3.12 (first line, pyenv/uv format)', async () => {
    await write({'bentofile.yaml': 'service: "service:Svc"\n', '.python-version': '3.12.4\n3.11\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.docker.python_version).toBe('3.12')
    expect(loaded.python).toMatchObject({file: '.python-version', line: 1, requirement: '3.12.4', version: '3.12'})
    expect(formatDiagnostic(projectPythonDiagnostic(loaded.python!))).toMatch(/^\.python-version:1:1 \.python-version 3\.12\.4: the image uses Python 3\.12\n/)
  })

  it('.python-version without a build config file (BentoML defaults)', async () => {
    await write({'service.py': '', '.python-version': '3.13\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.defaults).toBe(true)
    expect(loaded.config.docker.python_version).toBe('3.13')
  })

  it('an explicit python_version wins over both (the project version does not apply)', async () => {
    await write({'bentofile.yaml': 'service: "service:Svc"\ndocker:\n  python_version: "3.11"\n', 'pyproject.toml': pyproject('>=3.12', ''), '.python-version': '3.13\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.docker.python_version).toBe('3.11')
    expect(loaded.python?.applies).toBe(false)
  })

  it('[tool.bentoml.build.docker] python_version wins over requires-python', async () => {
    await write({'pyproject.toml': pyproject('>=3.12', 'service = "service:Svc"\n[tool.bentoml.build.docker]\npython_version = "3.13"\n')})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.docker.python_version).toBe('3.13')
    expect(loaded.python?.applies).toBe(false)
  })

  it('a docker.base_image says the Python itself: the project version does not apply', async () => {
    await write({'bentofile.yaml': 'service: "service:Svc"\ndocker:\n  base_image: "python:3.12-slim"\n', 'pyproject.toml': pyproject('>=3.12', '')})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.docker.python_version).toBeNull()
    expect(loaded.python?.applies).toBe(false)
  })

  it.each(['>=3.14', '<3.8'])('a requirement no base image satisfies (%s) is an error at its line naming what is offered', async (spec) => {
    await write({'pyproject.toml': pyproject(spec)})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.python).toMatchObject({version: null, applies: true})
    const d = projectPythonDiagnostic(loaded.python!)
    expect(d.severity).toBe('error')
    expect(formatDiagnostic(d)).toContain(`pyproject.toml:5:1 requires-python ${spec}: no Python the debian base images offer satisfies it (${SUPPORTED_PYTHON_VERSIONS.join(', ')})`)
  })

  it('.python-version naming a version no base image offers is an error at line 1', async () => {
    await write({'bentofile.yaml': 'service: "service:Svc"\n', '.python-version': '3.7.17\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    const d = projectPythonDiagnostic(loaded.python!)
    expect(d).toMatchObject({file: '.python-version', line: 1, severity: 'error'})
  })

  it('no pyproject.toml and no .python-version: the default is unchanged', async () => {
    await write({'bentofile.yaml': 'service: "service:Svc"\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.docker.python_version).toBe(DEFAULT_PYTHON_VERSION)
    expect(loaded.python).toBeUndefined()
  })

  it('a pyproject.toml without requires-python: the default is unchanged', async () => {
    await write({'pyproject.toml': '[project]\nname = "demo"\n\n[tool.bentoml.build]\nservice = "service:Svc"\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.docker.python_version).toBe(DEFAULT_PYTHON_VERSION)
    expect(loaded.python).toBeUndefined()
  })
})
