/**
 * BentoML 1.4.40's image SDK (`bentoml.images.Image`, `_bentoml_sdk/images.py`) as a pure TypeScript model,
 * and `populate_image_from_build_config`, the merge of a bentofile into it.
 *
 * Used by the static reader of service code (each `Image(...)` / `.run(...)` the evaluator executes is a
 * call on this class) and by the build for projects without an SDK image (`populateImageFromBuildConfig(null, …)`).
 *
 *     const image = new Image({python_version: '3.12'}, {files})
 *       .systemPackages('curl')
 *       .requirementsFile('requirements.txt')
 *     const merged = populateImageFromBuildConfig(image, rawBentofile, {files}).image
 *     merged?.info()   // the spec-2 `image:` block before locking
 *
 * Pure: no file system, no clock, no environment. Files named by `requirements_file`, `pyproject_toml` and
 * `run_script` are read through the `ImageFiles` reader the caller passes in. A rule BentoML enforces by raising
 * (`BentoMLConfigException`) throws an `ImageRuleError` carrying BentoML's message; the caller turns it into a
 * diagnostic at the position it knows (`err.toDiagnostic(site)`).
 *
 * Where this model deliberately differs from BentoML 1.4.40 (each is a BentoML defect, see the 1.4.40 notes §1i):
 * - `run_script` targets are named `script__<md5 of the path relative to the build context>` instead of the md5
 *   of the absolute host path, so the Bento is the same on every machine. BentoML's containerize does not care:
 *   the name only has to match between `image.commands` and the file under `env/docker/`.
 * - `populateImageFromBuildConfig` keeps `scripts` and the `uv_lock()` flag. BentoML's `attrs.evolve` drops both
 *   (they are `init=False` fields), so a `run_script` of an SDK image runs a file the Bento does not contain and
 *   `uv_lock()` loses the locked requirements. The result reports this in `bentomlDrops` so callers can warn.
 * Everything else (the duplicated default install command after the merge included) is as BentoML does it.
 */
import {createHash} from 'node:crypto'
import {posix} from 'node:path'

import {parse as parseToml} from 'smol-toml'

import {DEFAULT_PYTHON_VERSION} from './config-facts.js'
import type {Diagnostic} from '../errors.js'

/** The distro facts the image SDK reads from `CONTAINER_METADATA` (1.4.40). */
export interface DistroImageFacts {
  /** `python.image`; `{spec_version}` is the Python version (`ubi8`: without the dot). */
  pythonImage: string
  defaultInstallCommand: string
  /** `{packages}` is the space-joined, shell-quoted package list. */
  installCommand: string
}

/** `CONTAINER_METADATA` of BentoML 1.4.40, the parts the image SDK uses, in BentoML's key order. */
export const IMAGE_DISTROS: Readonly<Record<string, DistroImageFacts>> = {
  amazonlinux: {
    pythonImage: 'amazonlinux:2',
    defaultInstallCommand:
      'yum update && yum install -y amazon-linux-extras ca-certificates gcc gcc-c++ make bash shadow-utils && amazon-linux-extras enable && yum groupinstall -y "Development Tools"',
    installCommand: 'yum install -y {packages}',
  },
  ubi8: {
    pythonImage: 'registry.access.redhat.com/ubi8/python-{spec_version}:1',
    defaultInstallCommand: 'yum update && yum install -y ca-certificates gcc gcc-c++ make bash shadow-utils git',
    installCommand: 'yum install -y {packages}',
  },
  debian: {
    pythonImage: 'python:{spec_version}-slim',
    defaultInstallCommand:
      'apt-get update && apt-get install -q -y --no-install-recommends --allow-remove-essential ca-certificates gnupg2 bash build-essential git',
    installCommand: 'apt-get install -q -y -o Dpkg::Options::=--force-confdef {packages}',
  },
  alpine: {
    pythonImage: 'python:{spec_version}-alpine',
    defaultInstallCommand: 'apk add --update bash gcc libc-dev shadow musl-dev build-base linux-headers g++ git',
    installCommand: 'apk add --update {packages}',
  },
}

/** `CONTAINER_SUPPORTED_DISTROS` (1.4.40), as BentoML prints it in messages. */
export const IMAGE_DISTRO_NAMES = Object.keys(IMAGE_DISTROS)


/** `Image.__init__` keyword arguments, snake_case as in Python. */
export interface ImageInit {
  base_image?: string
  distro?: string
  python_version?: string
  commands?: string[]
  lock_python_packages?: boolean
  pack_git_packages?: boolean
  python_requirements?: string
  post_commands?: string[]
  build_include_paths?: string[]
}

/** `Image.__init__` parameters in positional order. */
export const IMAGE_INIT_PARAMS = [
  'base_image',
  'distro',
  'python_version',
  'commands',
  'lock_python_packages',
  'pack_git_packages',
  'python_requirements',
  'post_commands',
  'build_include_paths',
] as const satisfies ReadonlyArray<keyof ImageInit>

/** Attributes user code may assign (`image.base_image = '…'`): the public attrs fields. */
export type ImageField = (typeof IMAGE_INIT_PARAMS)[number]

/**
 * Why an `ImageFiles.read` failed, as BentoML's `resolve_user_filepath(path, None)` (1.4.34+) would fail;
 * `env`: the path names `$VAR`, which BentoML expands from the environment (bento does not read it).
 */
export type FileProblem = 'absolute' | 'not-found' | 'outside' | 'hidden' | 'system' | 'not-a-file' | 'env'

/** Where a line of `python_requirements` was written (for messages): a file and line, or a bentofile key. */
export interface RequirementSite {
  file?: string
  line?: number
  key?: string
}

/** Reads files named in image calls, relative to the build context (BentoML's cwd while importing the service). */
export interface ImageFiles {
  /**
   * Resolve `path` as `resolve_user_filepath(path, None)` does with the build context as cwd, and read it.
   * Returns the posix path relative to the build context and the text, or the problem. `sites`, one per line of
   * `text`, says where each line was written when it is not `rel` itself (a requirements file with its nested
   * `-r` files inlined).
   */
  read(path: string): {rel: string; text: string; sites?: RequirementSite[]} | {problem: FileProblem; resolved?: string}
}

export type ImageRuleKind =
  /** `Unsupported distro: …` (constructor without base_image, or `system_packages`). */
  | 'unsupported-distro'
  /** `Can't separate adding python requirements`: Python requirements after a post-install command. */
  | 'requirements-after-post-command'
  /** `No packages provided`: `python_packages()` with no argument (also an empty pyproject dependency list). */
  | 'no-packages'
  /** A file named by `requirements_file` / `pyproject_toml` / `run_script` cannot be read under BentoML's path rules. */
  | 'file'
  /** `pyproject_toml` names a file that is not valid TOML. */
  | 'invalid-toml'

/** What BentoML raises while building an image: its message, and the next step. */
export class ImageRuleError extends Error {
  constructor(
    readonly kind: ImageRuleKind,
    message: string,
    readonly hint: string,
  ) {
    super(message)
    this.name = 'ImageRuleError'
  }

  /** A diagnostic at `site` (where the call is in the user's code or the bentofile key). */
  toDiagnostic(site: {file: string; line?: number; col?: number; key?: string}): Diagnostic {
    const d: Diagnostic = {file: site.file, severity: 'error', message: this.message, hint: this.hint}
    if (site.line !== undefined) d.line = site.line
    if (site.col !== undefined) d.col = site.col
    if (site.key !== undefined) d.key = site.key
    return d
  }
}

/** Python's `shlex.quote`. */
export function shellQuote(s: string): string {
  if (s === '') return "''"
  // `_find_unsafe` is `[^\w@%+=:,./-]` with re.ASCII.
  if (!/[^A-Za-z0-9_@%+=:,./-]/.test(s)) return s
  return `'${s.replace(/'/g, `'"'"'`)}'`
}

/** The spec-2 `image:` block of bento.yaml (`ImageInfo`), before the requirements are locked. */
export interface ImageInfo {
  base_image: string
  python_version: string
  commands: string[]
  python_requirements: string
  post_commands: string[]
  build_include: string[]
}

export interface ImageOptions {
  /** File reader for requirements_file / pyproject_toml / run_script; without one these calls fail as "not found". */
  files?: ImageFiles
  /** `python_version` when not given (BentoML: the Python running the build). Default `DEFAULT_PYTHON_VERSION`. */
  defaultPythonVersion?: string
}

const NO_FILES: ImageFiles = {read: () => ({problem: 'not-found'})}

function unsupportedDistro(distro: string): ImageRuleError {
  return new ImageRuleError(
    'unsupported-distro',
    `Unsupported distro: ${distro}, expected one of ${pyList(IMAGE_DISTRO_NAMES)}`,
    `use one of ${IMAGE_DISTRO_NAMES.join(', ')}, or set base_image`,
  )
}

function pyList(xs: readonly string[]): string {
  return `[${xs.map((x) => `'${x}'`).join(', ')}]`
}

/**
 * `bentoml.images.Image`. Methods mutate the image and return it (as BentoML's do), so two names bound to one
 * image see each other's calls. Fields keep BentoML's snake_case names.
 */
export class Image {
  base_image: string
  distro: string
  #pythonVersion: string
  /**
   * The image names its Python: `python_version` or `base_image` given to the constructor (or to `evolve`), or
   * `python_version` assigned. False when `python_version` is the default.
   */
  saysPythonVersion: boolean
  commands: string[]
  lock_python_packages: boolean
  pack_git_packages: boolean
  python_requirements: string
  post_commands: string[]
  build_include_paths: string[]
  /** Script path relative to the build context → target in the Bento (`./env/docker/script__<md5>`). */
  readonly scripts: Map<string, string>
  /** Set by the first Python requirement: later `run`s become post-install commands. */
  afterPipInstall: boolean
  /** `uv_lock()` was called: requirements come from `uv export` of the project's uv.lock. */
  uvLock: boolean
  /** Where each line of `python_requirements` was written, one entry per line (bento's, for messages). */
  requirementSites: RequirementSite[]
  /** The call being made, set by the caller (the evaluator: the line in the service code): `python_packages` lines get it. */
  site: RequirementSite | undefined
  readonly files: ImageFiles
  readonly defaultPythonVersion: string

  constructor(init: ImageInit = {}, options: ImageOptions = {}) {
    this.files = options.files ?? NO_FILES
    this.defaultPythonVersion = options.defaultPythonVersion ?? DEFAULT_PYTHON_VERSION
    this.base_image = init.base_image ?? ''
    this.distro = init.distro ?? 'debian'
    this.#pythonVersion = init.python_version ?? this.defaultPythonVersion
    this.saysPythonVersion = init.python_version !== undefined || init.base_image !== undefined
    // attrs keeps the list object it was given: evolve() shares it with the original (see populate).
    this.commands = init.commands ?? []
    this.lock_python_packages = init.lock_python_packages ?? true
    this.pack_git_packages = init.pack_git_packages ?? true
    this.python_requirements = init.python_requirements ?? ''
    this.post_commands = init.post_commands ?? []
    this.build_include_paths = init.build_include_paths ?? []
    this.scripts = new Map()
    this.afterPipInstall = false
    this.uvLock = false
    // Lines given to the constructor (evolve) have no known site until evolve copies them.
    this.requirementSites = this.python_requirements === '' ? [] : this.python_requirements.replace(/\n$/, '').split('\n').map(() => ({}))
    this.site = undefined
    // __attrs_post_init__
    const facts = IMAGE_DISTROS[this.distro]
    if (!this.base_image) {
      if (facts === undefined) throw unsupportedDistro(this.distro)
      const v = this.distro === 'ubi8' ? this.python_version.replace(/\./g, '') : this.python_version
      this.base_image = facts.pythonImage.replace('{spec_version}', v)
    }
    if (facts !== undefined) this.commands.splice(0, 0, facts.defaultInstallCommand)
  }

  /** `system_packages(*packages)`: one install command with shell-quoted names, always a pre-install command. */
  systemPackages(...packages: string[]): this {
    const facts = IMAGE_DISTROS[this.distro]
    if (facts === undefined) throw unsupportedDistro(this.distro)
    this.commands.push(facts.installCommand.replace('{packages}', packages.map(shellQuote).join(' ')))
    return this
  }

  /** `requirements_file(path)`: the file's lines, read now (BentoML reads it at import time). */
  requirementsFile(path: string): this {
    this.checkNoPostCommands()
    const f = this.read(path)
    // Path.read_text() reads with universal newlines.
    const text = f.text.replace(/\r\n?/g, '\n').replace(/\n+$/, '')
    this.python_requirements += text + '\n'
    this.requirementSites.push(...text.split('\n').map((_, i) => f.sites?.[i] ?? {file: f.rel, line: i + 1}))
    this.afterPipInstall = true
    return this
  }

  /** `pyproject_toml(path="pyproject.toml")`: `[project].dependencies` only (no extras, no uv sources). */
  pyprojectToml(path = 'pyproject.toml'): this {
    this.checkNoPostCommands()
    const f = this.read(path)
    let doc: Record<string, unknown>
    try {
      doc = parseToml(f.text) as Record<string, unknown>
    } catch (e) {
      throw new ImageRuleError('invalid-toml', `${f.rel} is not valid TOML: ${(e as Error).message.split('\n')[0] ?? ''}`, `fix ${f.rel}`)
    }
    const project = doc.project
    const deps = project !== null && typeof project === 'object' ? (project as Record<string, unknown>).dependencies : undefined
    const list = Array.isArray(deps) ? deps.map(String) : []
    return this.pythonPackages(...list)
  }

  /** `uv_lock()`: requirements from `uv export --frozen` of the project's uv.lock; turns locking off. */
  uvLockRequirements(): this {
    this.uvLock = true
    this.lock_python_packages = false
    return this
  }

  /** `python_packages(*packages)`: lines appended verbatim (pip options such as `--index-url X` included). */
  pythonPackages(...packages: string[]): this {
    this.checkNoPostCommands()
    if (packages.length === 0) {
      throw new ImageRuleError('no-packages', 'No packages provided', 'pass at least one requirement to python_packages()')
    }
    this.python_requirements += packages.join('\n') + '\n'
    this.requirementSites.push(...packages.flatMap((p) => p.split('\n')).map(() => ({...this.site})))
    this.afterPipInstall = true
    return this
  }

  /** `run(command)`: pre-install until the first Python requirement, post-install after it. */
  run(command: string): this {
    ;(this.afterPipInstall ? this.post_commands : this.commands).push(command)
    return this
  }

  /** `run_script(path)`: the script is copied into `env/docker/` and run (chmod +x first). */
  runScript(path: string): this {
    const list = this.afterPipInstall ? this.post_commands : this.commands
    const f = this.read(path)
    const target = scriptTarget(f.rel)
    list.push(`chmod +x ${target} && ${target}`)
    this.scripts.set(f.rel, target)
    return this
  }

  /** `build_include(*paths)`: Bento `src/` paths copied before the Python install. */
  buildInclude(...paths: string[]): this {
    this.build_include_paths.push(...paths)
    return this
  }

  /** Python method name → implementation, for evaluators that call by name. */
  static readonly METHODS = {
    system_packages: 'systemPackages',
    requirements_file: 'requirementsFile',
    pyproject_toml: 'pyprojectToml',
    uv_lock: 'uvLockRequirements',
    python_packages: 'pythonPackages',
    run: 'run',
    run_script: 'runScript',
    build_include: 'buildInclude',
  } as const

  /** The `image:` block as `freeze` writes it, with `python_requirements` before locking. */
  info(): ImageInfo {
    return {
      base_image: this.base_image,
      python_version: this.python_version,
      commands: [...this.commands],
      python_requirements: this.python_requirements,
      post_commands: [...this.post_commands],
      build_include: [...this.build_include_paths],
    }
  }

  get python_version(): string {
    return this.#pythonVersion
  }

  set python_version(v: string) {
    this.#pythonVersion = v
    this.saysPythonVersion = true
  }

  /** `attrs.evolve(image, **changes)`: a new Image from the init fields (the lists are shared, as in attrs). */
  evolve(changes: ImageInit): Image {
    const next = new Image(
      {
        base_image: this.base_image,
        distro: this.distro,
        python_version: this.python_version,
        commands: this.commands,
        lock_python_packages: this.lock_python_packages,
        pack_git_packages: this.pack_git_packages,
        python_requirements: this.python_requirements,
        post_commands: this.post_commands,
        build_include_paths: this.build_include_paths,
        ...changes,
      },
      {files: this.files, defaultPythonVersion: this.defaultPythonVersion},
    )
    next.saysPythonVersion = this.saysPythonVersion || changes.python_version !== undefined || changes.base_image !== undefined
    if (changes.python_requirements === undefined) next.requirementSites = this.requirementSites.map((x) => ({...x}))
    return next
  }

  private checkNoPostCommands(): void {
    if (this.post_commands.length > 0) {
      throw new ImageRuleError(
        'requirements-after-post-command',
        "Can't separate adding python requirements",
        'add every Python requirement (python_packages, requirements_file, pyproject_toml) before the first run() that follows one',
      )
    }
  }

  private read(path: string): {rel: string; text: string; sites?: RequirementSite[]} {
    const r = this.files.read(path)
    if ('problem' in r) throw fileError(path, r.problem, r.resolved)
    return r
  }
}

/** `./env/docker/script__<md5(rel)>`: BentoML hashes the absolute host path; bento the context-relative one. */
export function scriptTarget(rel: string): string {
  return `./env/docker/script__${createHash('md5').update(rel).digest('hex')}`
}

function fileError(path: string, problem: FileProblem, resolved = path): ImageRuleError {
  const hint = 'name a file inside the build context by a relative path, outside any directory whose name starts with "."'
  switch (problem) {
    case 'absolute':
      return new ImageRuleError('file', `Absolute path ${path} is not allowed`, hint)
    case 'not-found':
      return new ImageRuleError('file', `file ${path} not found`, 'paths are relative to the build context (where bentofile.yaml is)')
    case 'outside':
      return new ImageRuleError('file', `Accessing file outside of current working directory is not allowed: ${resolved}`, hint)
    case 'hidden':
      return new ImageRuleError('file', `Accessing hidden files is not allowed: ${resolved}`, hint)
    case 'system':
      return new ImageRuleError('file', `Accessing system files is not allowed: ${resolved}`, hint)
    case 'not-a-file':
      return new ImageRuleError('file', `${path} is not a file`, hint)
    case 'env':
      return new ImageRuleError(
        'file',
        `${path} names an environment variable, which BentoML expands from the environment of the build; bento builds do not depend on the environment`,
        'write the path literally, relative to the build context',
      )
  }
}

/** The two file-system operations `imageFilesFor` needs (the caller's: real fs, or a map in tests). */
export interface UserFileSystem {
  /** The real absolute path (symlinks followed) of an existing `abs`, else undefined. */
  realpath(abs: string): string | undefined
  /** The text of the regular file at `abs`, else undefined. */
  readText(abs: string): string | undefined
}

/**
 * An `ImageFiles` that applies BentoML 1.4.34+'s `resolve_user_filepath(path, None)` with the build context as
 * cwd, in BentoML's order: absolute (`~` included) → not found → outside the context → a component starting
 * with `.` → under /etc or /proc. `ctxAbs` is the real path of the build context. One deliberate difference:
 * BentoML also rejects a `.` component *above* the build context (every file of a project under
 * `~/.jenkins/workspace/…` fails); bento checks the path inside the context only.
 */
export function imageFilesFor(ctxAbs: string, fs: UserFileSystem): ImageFiles {
  return {
    read(path) {
      if (/\$(\w|\{)/.test(path)) return {problem: 'env'}
      if (posix.isAbsolute(path) || path.startsWith('~')) return {problem: 'absolute'}
      const resolved = fs.realpath(posix.resolve(ctxAbs, path))
      if (resolved === undefined) return {problem: 'not-found'}
      const root = ctxAbs.endsWith('/') ? ctxAbs : `${ctxAbs}/`
      if (resolved !== ctxAbs && !resolved.startsWith(root)) return {problem: 'outside', resolved}
      const rel = posix.relative(ctxAbs, resolved)
      if (rel.split('/').some((p) => p.startsWith('.'))) return {problem: 'hidden', resolved}
      if (['/etc', '/proc'].some((s) => resolved === s || resolved.startsWith(`${s}/`))) return {problem: 'system', resolved}
      const text = fs.readText(resolved)
      if (text === undefined) return {problem: 'not-a-file', resolved}
      return {rel, text}
    },
  }
}

// ---------------------------------------------------------------------------------------------
// populate_image_from_build_config

/**
 * The bentofile keys the merge reads, as the user wrote them (BentoML runs it on the config *before*
 * `with_defaults()`): `null`/absent = not set. `src/config`'s `RawConfig` fits this shape.
 */
export interface ImageBuildConfig {
  docker?: {
    base_image?: string | null
    distro?: string | null
    python_version?: string | null
    cuda_version?: string | null
    dockerfile_template?: string | null
    system_packages?: readonly string[] | null
    setup_script?: string | null
  }
  python?: {
    requirements_txt?: string | null
    packages?: readonly string[] | null
    lock_packages?: boolean | null
    pack_git_packages?: boolean | null
    index_url?: string | null
    no_index?: boolean | null
    trusted_host?: readonly string[] | null
    extra_index_url?: readonly string[] | null
    find_links?: readonly string[] | null
    wheels?: readonly string[] | null
  }
  conda?: {
    environment_yml?: string | null
    channels?: readonly string[] | null
    dependencies?: readonly unknown[] | null
    pip?: readonly string[] | null
  }
}

/** A warning the merge logs (BentoML's text), with the bentofile key it is about. */
export interface ImageMergeWarning {
  key: string
  message: string
}

export interface ImageMergeResult {
  /** The merged image; null when the bentofile forces a spec-1 Bento (conda, cuda_version, dockerfile_template, wheels without an SDK image). */
  image: Image | null
  warnings: ImageMergeWarning[]
  /**
   * What BentoML 1.4.40 itself loses in this merge and bento keeps (`attrs.evolve` drops init=False fields):
   * `scripts` (the Bento then lacks the run_script file) and `uv_lock`. Empty when nothing was lost.
   */
  bentomlDrops: Array<'scripts' | 'uv_lock'>
}

/** Where a bentofile value failed in the merge: the key, and BentoML's error. */
export class ImageMergeError extends Error {
  constructor(
    readonly key: string,
    readonly rule: ImageRuleError,
  ) {
    super(rule.message)
    this.name = 'ImageMergeError'
  }
}

const nonEmpty = (xs: readonly unknown[] | null | undefined): boolean => xs !== null && xs !== undefined && xs.length > 0

/**
 * `populate_image_from_build_config(image, build_config, build_ctx)` of BentoML 1.4.40: the bentofile's
 * docker/python options override the image's constructor values, then system packages, index options,
 * requirements (`requirements_txt`, else `packages`) and `setup_script` are appended in BentoML's order.
 * Throws `ImageMergeError` (with the bentofile key) where BentoML raises.
 */
export function populateImageFromBuildConfig(
  image: Image | null,
  config: ImageBuildConfig,
  options: ImageOptions = {},
): ImageMergeResult {
  const warnings: ImageMergeWarning[] = []
  const fallback = image === null ? 'fallback to bento v1' : 'it will be ignored'
  const v1 = (): ImageMergeResult => ({image: null, warnings, bentomlDrops: []})
  const docker = config.docker ?? {}
  const python = config.python ?? {}
  const conda = config.conda ?? {}

  const condaEmpty = !nonEmpty(conda.dependencies) && !nonEmpty(conda.pip) && !nonEmpty(conda.channels) && !conda.environment_yml
  if (!condaEmpty) {
    warnings.push({key: 'conda', message: `conda options are not supported by bento v2, ${fallback}`})
    if (image === null) return v1()
  }
  if (docker.cuda_version !== null && docker.cuda_version !== undefined) {
    warnings.push({key: 'docker.cuda_version', message: `docker.cuda_version is not supported by bento v2, ${fallback}`})
    if (image === null) return v1()
  }
  if (docker.dockerfile_template !== null && docker.dockerfile_template !== undefined) {
    warnings.push({key: 'docker.dockerfile_template', message: `docker.dockerfile_template is not supported by bento v2, ${fallback}`})
    if (image === null) return v1()
  }
  const params: ImageInit = {}
  if (docker.base_image !== null && docker.base_image !== undefined) params.base_image = docker.base_image
  if (docker.distro !== null && docker.distro !== undefined) params.distro = docker.distro
  if (docker.python_version !== null && docker.python_version !== undefined) params.python_version = docker.python_version
  if (nonEmpty(python.wheels)) {
    warnings.push({
      key: 'python.wheels',
      message: `python.wheels is not supported by bento v2, ${fallback}\nAdd the wheels directly into your project instead.`,
    })
    if (image === null) return v1()
  }
  if (python.lock_packages !== null && python.lock_packages !== undefined) params.lock_python_packages = python.lock_packages
  if (python.pack_git_packages !== null && python.pack_git_packages !== undefined) params.pack_git_packages = python.pack_git_packages

  const step = <T>(key: string, f: () => T): T => {
    try {
      return f()
    } catch (e) {
      if (e instanceof ImageRuleError) throw new ImageMergeError(key, e)
      throw e
    }
  }
  // python_packages lines the merge adds: each is at its bentofile key (`python.packages[1]`).
  const packagesAt = (key: string, packages: readonly string[], indexed: boolean): void => {
    step(key, () => merged.pythonPackages(...packages))
    const sites = packages.flatMap((p, i) => p.split('\n').map(() => ({key: indexed ? `${key}[${i}]` : key})))
    merged.requirementSites.splice(merged.requirementSites.length - sites.length, sites.length, ...sites)
  }

  let merged: Image
  const bentomlDrops: ImageMergeResult['bentomlDrops'] = []
  if (image === null) {
    merged = step(params.distro !== undefined ? 'docker.distro' : 'docker', () => new Image(params, options))
  } else {
    merged = step('docker.distro', () => image.evolve(params))
    // bento keeps what BentoML's evolve drops.
    for (const [k, v] of image.scripts) merged.scripts.set(k, v)
    merged.uvLock = image.uvLock
    if (image.scripts.size > 0) bentomlDrops.push('scripts')
    if (image.uvLock) bentomlDrops.push('uv_lock')
  }
  if (nonEmpty(docker.system_packages)) step('docker.system_packages', () => merged.systemPackages(...(docker.system_packages ?? [])))
  if (python.index_url) packagesAt('python.index_url', [`--index-url ${python.index_url}`], false)
  if (python.no_index) packagesAt('python.no_index', ['--no-index'], false)
  if (nonEmpty(python.trusted_host)) packagesAt('python.trusted_host', (python.trusted_host ?? []).map((h) => `--trusted-host ${h}`), true)
  if (nonEmpty(python.extra_index_url)) packagesAt('python.extra_index_url', (python.extra_index_url ?? []).map((u) => `--extra-index-url ${u}`), true)
  if (nonEmpty(python.find_links)) packagesAt('python.find_links', (python.find_links ?? []).map((l) => `--find-links ${l}`), true)
  if (python.requirements_txt) step('python.requirements_txt', () => merged.requirementsFile(python.requirements_txt ?? ''))
  else if (nonEmpty(python.packages)) packagesAt('python.packages', python.packages ?? [], true)
  if (docker.setup_script) step('docker.setup_script', () => merged.runScript(docker.setup_script ?? ''))
  return {image: merged, warnings, bentomlDrops}
}
