/** loadBuildConfig: find the build config file in a project directory, read it, and parse it. */
import {readFileSync} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'
import {homedir} from 'node:os'
import path from 'node:path'
import {ConfigError, type Diagnostic} from '../errors.js'
import type {Path, Position} from './context.js'
import type {RawConfig} from './normalize.js'
import {parseBuildConfig} from './parse.js'
import {type ProjectPython, readProjectPython} from './project-python.js'
import type {BuildConfig, ConfigKind, ParseOptions} from './types.js'

export interface LoadOptions extends ParseOptions {
  projectDir: string
  /** A bentofile (absolute, or relative to projectDir); overrides the lookup. `pyproject.toml` is read as TOML. */
  file?: string
}

export interface LoadedConfig {
  config: BuildConfig
  /** The file's options before BentoML's defaults are filled in (what an SDK image is merged with). */
  raw: RawConfig
  /** Absolute path of the file read (no file: where bentofile.yaml would be). */
  path: string
  kind: ConfigKind
  /** No bentofile.yaml or pyproject.toml: BentoML's default build config (service.py, everything included). */
  defaults: boolean
  /** The file as messages name it: relative to the project directory when inside it. */
  name: string
  warnings: Diagnostic[]
  /** The line and column of a key's value in the file read (`['service']`, `['docker', 'cuda_version']`). */
  locate(path: Path): Position | undefined
  /**
   * The Python version the project says outside the build config (`.python-version`, `requires-python`). When it
   * `applies` and a base image offers one, `config.docker.python_version` is already that version; the build says
   * so (or refuses) with `projectPythonDiagnostic` once it knows the SDK image does not set its own.
   */
  python?: ProjectPython
}

/** BentoML's lookup order (`DEFAULT_BENTO_BUILD_FILES`). */
export const BUILD_FILES = ['bentofile.yaml', 'pyproject.toml'] as const

async function isFile(p: string): Promise<boolean> {
  return (await fileKind(p)) === 'file'
}

/** What `p` is (following symlinks); 'missing' when it cannot be stat'ed. */
async function fileKind(p: string): Promise<'file' | 'directory' | 'other' | 'missing'> {
  try {
    const st = await stat(p)
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other'
  } catch {
    return 'missing'
  }
}

function displayName(projectDir: string, file: string): string {
  const rel = path.relative(projectDir, file)
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(homedir(), p.slice(1)) : p
}

export async function loadBuildConfig(options: LoadOptions): Promise<LoadedConfig> {
  const projectDir = path.resolve(options.projectDir)
  let file: string | undefined

  if (options.file !== undefined) {
    file = path.resolve(projectDir, expandHome(options.file))
    const found = await fileKind(file)
    if (found === 'directory') {
      throw new ConfigError(`bentofile "${options.file}" is a directory`, [], {
        hint: `-f takes a file, e.g. -f ${path.join(options.file, BUILD_FILES[0])}; the build context is the positional argument`,
      })
    }
    if (found === 'other') {
      throw new ConfigError(`bentofile "${options.file}" is not a regular file`, [], {
        hint: '-f takes a regular file (a bentofile.yaml or pyproject.toml), not a device, FIFO or socket',
      })
    }
    if (found === 'missing') {
      throw new ConfigError(`bentofile "${options.file}" not found`, [], {
        hint: `check the path given to -f (relative paths are resolved against ${projectDir})`,
      })
    }
  } else {
    const bentofile = path.join(projectDir, BUILD_FILES[0])
    const pyproject = path.join(projectDir, BUILD_FILES[1])
    // As BentoML: a pyproject.toml is the build config even without [tool.bentoml.build] (its [project] name and
    // dependencies count), and with neither file the default config builds service.py.
    if (await isFile(bentofile)) file = bentofile
    else if (await isFile(pyproject)) file = pyproject
    else {
      const result = parseBuildConfig('{}\n', BUILD_FILES[0], 'bentofile', options)
      if (!result.config) throw new ConfigError('the default build config is invalid', result.diagnostics)
      const raw = result.raw ?? {}
      const python = await withProjectPython(result.config, raw, projectDir, pyproject)
      return {config: result.config, raw, path: bentofile, kind: 'bentofile', defaults: true, name: BUILD_FILES[0], warnings: [], locate: () => undefined, ...python}
    }
  }

  const text = await readFile(file, 'utf8')
  const kind: ConfigKind = path.basename(file) === 'pyproject.toml' ? 'pyproject' : 'bentofile'
  const name = displayName(projectDir, file)
  const result = parseBuildConfig(text, name, kind, {
    ...options,
    readFile:
      options.readFile ??
      ((p) => {
        try {
          return readFileSync(path.resolve(projectDir, expandHome(p)), 'utf8')
        } catch {
          return undefined
        }
      }),
  })
  if (!result.config) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length
    throw new ConfigError(`${name} is invalid (${errors} ${errors === 1 ? 'problem' : 'problems'})`, result.diagnostics, {
      hint: 'fix every problem listed, then run the command again',
    })
  }
  // BentoML 1.4.38+: a pyproject.toml with a src/ directory beside it is a src layout unless it says otherwise.
  if (kind === 'pyproject' && result.config.python.is_src_layout === null && (await fileKind(path.join(path.dirname(file), 'src'))) === 'directory') {
    result.config.python.is_src_layout = true
  }
  const sourceMap = result.sourceMap
  const raw = result.raw ?? {}
  const python = await withProjectPython(result.config, raw, projectDir, kind === 'pyproject' ? file : path.join(projectDir, BUILD_FILES[1]))
  return {
    ...python,
    config: result.config,
    raw,
    path: file,
    kind,
    defaults: false,
    name,
    warnings: result.diagnostics.filter((d) => d.severity === 'warning'),
    locate: (p) => sourceMap?.locate(p, 'value'),
  }
}

/** Reads the project's Python version and, when it applies and a base image offers one, puts it in the config. */
async function withProjectPython(config: BuildConfig, raw: RawConfig, projectDir: string, pyproject: string): Promise<{python?: ProjectPython}> {
  const python = await readProjectPython({projectDir, pyproject, raw, name: (abs) => displayName(projectDir, abs)})
  if (python === undefined) return {}
  if (python.applies && python.version !== null) config.docker.python_version = python.version
  return {python}
}
