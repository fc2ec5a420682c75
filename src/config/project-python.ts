/**
 * The Python version a project says outside its build config: `.python-version` (first line, pyenv / uv format)
 * or `requires-python` of pyproject.toml's `[project]`. BentoML builds with the Python running `bentoml build`,
 * which a project's tooling chose from these; bento runs no Python, so it reads them (issue 16, scope 7).
 */
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {DEFAULT_DISTRO, DISTRO_SPECS} from '../bentoml/config-facts.js'
import {newestPythonFor, pythonMinorOf} from '../bentoml/python-version.js'
import type {Diagnostic} from '../errors.js'
import type {RawConfig} from './normalize.js'
import {parseToml, tomlKeyPosition} from './toml-source.js'

export interface ProjectPython {
  /** The file that says it, as messages name it (relative to the project directory), and the line. */
  file: string
  line: number
  source: 'requires-python' | '.python-version'
  /** As written: `>=3.12`, `3.12.4`. */
  requirement: string
  /** The newest version the distro's base images offer that satisfies it; null when none does. */
  version: string | null
  /** `requires-python` is not a PEP 440 specifier. */
  unreadable?: boolean
  /** What the distro's base images offer. */
  offered: readonly string[]
  distro: string
  /**
   * The build config names neither `docker.python_version` nor `docker.base_image`: the project's version replaces
   * the default (an SDK image that sets `python_version` or `base_image` still wins; see the build service).
   */
  applies: boolean
}

/**
 * Reads `.python-version` in the project directory, else `requires-python` of `pyproject` (the build config when it
 * is a pyproject.toml, else the project's). Undefined when neither says a version. Never throws for bad content: a
 * file that cannot be read or parsed says nothing here (the config loader reports a bad build config itself).
 */
export async function readProjectPython(opts: {projectDir: string; pyproject: string; raw: RawConfig; name: (abs: string) => string}): Promise<ProjectPython | undefined> {
  const docker = opts.raw.docker ?? {}
  const distro = docker.distro && docker.distro in DISTRO_SPECS ? docker.distro : DEFAULT_DISTRO
  const offered = DISTRO_SPECS[distro as keyof typeof DISTRO_SPECS].python
  const applies = (docker.python_version === null || docker.python_version === undefined) && (docker.base_image === null || docker.base_image === undefined)
  const found = (await fromPythonVersionFile(opts.projectDir, offered)) ?? (await fromRequiresPython(opts.pyproject, offered))
  if (found === undefined) return undefined
  return {...found, file: opts.name(found.file), offered, distro, applies}
}

type Found = Pick<ProjectPython, 'file' | 'line' | 'source' | 'requirement' | 'version' | 'unreadable'>

async function readText(abs: string): Promise<string | undefined> {
  try {
    return await readFile(abs, 'utf8')
  } catch {
    return undefined
  }
}

async function fromPythonVersionFile(projectDir: string, offered: readonly string[]): Promise<Found | undefined> {
  const abs = path.join(projectDir, '.python-version')
  const text = await readText(abs)
  const first = text?.split(/\r\n|\r|\n/)[0]?.trim()
  if (!first) return undefined
  const minor = pythonMinorOf(first)
  // pypy3.10, system, 3.13t: no CPython base image is named by it; the file says nothing bento can use.
  if (minor === null) return undefined
  return {file: abs, line: 1, source: '.python-version', requirement: first, version: offered.includes(minor) ? minor : null}
}

async function fromRequiresPython(pyproject: string, offered: readonly string[]): Promise<Found | undefined> {
  const text = await readText(pyproject)
  if (text === undefined) return undefined
  const {document} = parseToml(text, pyproject)
  const project = document?.project
  const spec = project !== null && typeof project === 'object' && !Array.isArray(project) ? (project as Record<string, unknown>)['requires-python'] : undefined
  if (typeof spec !== 'string' || spec.trim() === '') return undefined
  const line = tomlKeyPosition(text, 'project', 'requires-python')?.line ?? 1
  const found: Found = {file: pyproject, line, source: 'requires-python', requirement: spec.trim(), version: null}
  try {
    found.version = newestPythonFor(spec, offered)
  } catch {
    found.unreadable = true
  }
  return found
}

/** The one message about it: a warning naming the version chosen, or the error when no base image satisfies it. */
export function projectPythonDiagnostic(p: ProjectPython): Diagnostic {
  const what = `${p.source} ${p.requirement}`
  if (p.version !== null) {
    return {
      file: p.file,
      line: p.line,
      col: 1,
      severity: 'warning',
      message: `${what}: the image uses Python ${p.version}`,
      hint: 'set docker.python_version (or Image(python_version=...)) to choose another version',
    }
  }
  if (p.unreadable) {
    return {
      file: p.file,
      line: p.line,
      col: 1,
      severity: 'error',
      message: `${what}: not a PEP 440 version specifier, so bento cannot choose the image's Python`,
      hint: `write e.g. requires-python = ">=3.12", or set docker.python_version`,
    }
  }
  return {
    file: p.file,
    line: p.line,
    col: 1,
    severity: 'error',
    message: `${what}: no Python the ${p.distro} base images offer satisfies it (${p.offered.join(', ')})`,
    hint: `change ${p.source} to allow one of ${p.offered.join(', ')}, or set docker.base_image to an image with the Python you need`,
  }
}
