import {readFileSync, realpathSync} from 'node:fs'
import {lstat, readFile, stat} from 'node:fs/promises'
import {isAbsolute, join, relative, resolve, sep} from 'node:path'

import {type Image, type ImageBuildConfig, type ImageFiles, imageFilesFor, type ImageOptions, ImageMergeError, populateImageFromBuildConfig} from '../bentoml/image.js'
import {legacyDefaultReadme} from '../bentoml/readme.js'
import type {BuildConfig, loadBuildConfig} from '../config/index.js'
import {dotenvDirs} from '../config/dotenv.js'
import type {Path, Position} from '../config/context.js'
import {ConfigError, type Diagnostic, NotFoundError} from '../errors.js'
import type {EnvRead} from '../python/eval/evaluate.js'
import {inlineRequirements, nestedRequirementRefs} from '../python/requirements.js'
import {hashFile} from './digest.js'
import {vanishedError} from './files.js'
import type {PlanFile, PlanImage, planBuild} from './plan.js'

/* What the build reads from the project besides the selected files: the files the build config names, the README,
 * the .env files, the SDK image merged with the build config (bento/inputs.ts gathers them, bento/plan.ts plans from
 * them). */

/**
 * The `.env` files `load_dotenv()` may load for the service's modules (python-dotenv looks from the module's
 * directory up): directory in the build context → content, null where there is none. A `.env` that is not a file
 * (a directory, a FIFO) is none; one above the build context is not looked for.
 */
export async function projectDotenvs(projectDir: string, moduleFiles: string[]): Promise<Map<string, string | null>> {
  const found = new Map<string, string | null>()
  for (const dir of new Set(moduleFiles.flatMap(dotenvDirs))) {
    const path = join(projectDir, dir, '.env')
    const st = await stat(path).catch(() => undefined)
    found.set(dir, st?.isFile() ? await readFile(path, 'utf8').catch(() => null) : null)
  }
  return found
}

/**
 * One warning for every read of the build's environment by the service module (names only: values may be
 * secrets), at the first read.
 */
export function envReadWarning(reads: EnvRead[]): Diagnostic {
  const first = [...reads].sort((a, b) => (a.site.file === b.site.file ? a.site.line - b.site.line : a.site.file < b.site.file ? -1 : 1))[0] as EnvRead
  const files = [...new Set(reads.map((r) => r.site.file))].sort()
  return {
    ...first.site,
    severity: 'warning',
    message: `${files.join(', ')} ${files.length > 1 ? 'read' : 'reads'} the environment: ${reads.map((r) => r.name).join(', ')}; a different value gives a different Bento`,
    hint: 'the values read are part of the Bento\'s version (build with the same environment to get the same tag); --json lists the names as envRead',
  }
}

/**
 * Read a file of the build context; one it cannot read (permissions, I/O) is a typed error naming it (D15), as an
 * unreadable directory is, with the two ways out.
 */
export async function projectRead<T>(rel: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    if (code === undefined || code === 'ENOSPC') throw error
    if (code === 'ENOENT' || code === 'ENOTDIR') throw vanishedError(rel, (error as NodeJS.ErrnoException).path ?? rel, error)
    throw new NotFoundError(`Cannot read "${rel}" of the build context (${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code})`, {
      code: 'E_BUILD_CONTEXT',
      cause: error,
      hint: `Make it readable (chmod), or leave it out of the Bento: add "${rel}" to exclude in the bentofile or to a .bentoignore.`,
      data: {path: rel, errno: code},
    })
  }
}

export async function readExtras(
  projectDir: string,
  configFile: string,
  config: Awaited<ReturnType<typeof loadBuildConfig>>['config'],
): Promise<Parameters<typeof planBuild>[0]['extras']> {
  const problems: Diagnostic[] = []
  const file = async (p: string | null, key: string): Promise<PlanFile | undefined> => {
    if (!p) return undefined
    const abs = isAbsolute(p) ? p : resolve(projectDir, p)
    try {
      const st = await lstat(abs)
      if (!st.isFile() && !st.isSymbolicLink()) throw Object.assign(new Error('not a file'), {code: 'EISDIR'})
      return {rel: relative(projectDir, abs), abs, size: st.size, mode: st.mode, sha256: await hashFile(abs)}
    } catch {
      problems.push({file: configFile, key, severity: 'error', message: `file "${p}" does not exist`, hint: `paths are relative to ${projectDir}`})
      return undefined
    }
  }
  const setupScript = await file(config.docker.setup_script, 'docker.setup_script')
  const condaEnvironment = await file(config.conda.environment_yml, 'conda.environment_yml')
  const dockerfileTemplate = await file(config.docker.dockerfile_template, 'docker.dockerfile_template')
  const wheels: PlanFile[] = []
  for (const [i, w] of (config.python.wheels ?? []).entries()) {
    const f = await file(w, `python.wheels[${i}]`)
    if (f) wheels.push(f)
  }
  let requirementsTxt: {rel: string; text: string; sites: Array<{file: string; line: number}>} | undefined
  const req = await file(config.python.requirements_txt, 'python.requirements_txt')
  if (req) {
    // Nested -r/-c files are inlined, each relative to the file naming it (as BentoML), so the Bento's
    // requirements.txt stands alone.
    const texts = new Map<string, string | undefined>()
    const queue = [req.rel]
    while (queue.length > 0) {
      const rel = queue.shift() as string
      if (texts.has(rel)) continue
      let text: string | undefined
      try {
        text = await readFile(resolve(projectDir, rel), 'utf8')
      } catch {
        text = undefined
      }
      texts.set(rel, text)
      if (text !== undefined) queue.push(...nestedRequirementRefs(rel, text).map((r) => r.path))
    }
    const inlined = inlineRequirements(req.rel, (p) => texts.get(p))
    for (const pr of inlined.problems) problems.push({file: pr.file, line: pr.line, severity: 'error', message: pr.message, hint: pr.hint})
    requirementsTxt = {rel: req.rel, text: inlined.text, sites: inlined.sites}
  }
  if (problems.length > 0) throw new ConfigError(`${configFile}: files it names are missing`, problems)
  return {setupScript, dockerfileTemplate, wheels, requirementsTxt, ...(condaEnvironment ? {condaEnvironment} : {})}
}

export async function readReadme(
  projectDir: string,
  configFile: string,
  description: string | null,
): Promise<Parameters<typeof planBuild>[0]['readme']> {
  if (description) {
    const m = description.match(/^\s*file:\s*(.+?)\s*$/)
    if (!m) return {text: description, source: 'description'}
    const p = resolve(projectDir, m[1]!)
    try {
      return {text: await readFile(p, 'utf8'), source: 'description-file'}
    } catch {
      throw new ConfigError(`${configFile}: description file missing`, [
        {file: configFile, key: 'description', severity: 'error', message: `file "${m[1]}" does not exist`},
      ])
    }
  }
  try {
    return {text: await readFile(join(projectDir, 'README.md'), 'utf8'), source: 'project'}
  } catch {
    return {text: legacyDefaultReadme(), source: 'default'}
  }
}

/**
 * BentoML 1.4.40 builds a `@bentoml.service` (new SDK) as a v2 Bento unless the bentofile uses a key that v2 does
 * not support (conda, docker.cuda_version, docker.dockerfile_template, python.wheels): then it warns and falls back
 * to v1. The same warning, at the key's line; BentoML's merge (src/bentoml/image.ts) decides which key and says what.
 */
export const V2_HINTS: Record<string, string> = {
  conda: 'SDK images have no conda: list the packages under python.packages, or use a base image that has conda',
  'docker.cuda_version': 'use docker.base_image with a CUDA image instead, e.g. nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04',
  'docker.dockerfile_template': 'SDK images take extra build steps as commands (Image.run) instead of a Dockerfile template',
}

export function bentoV2Warnings(config: BuildConfig, configFile: string, locate: (path: Path) => Position | undefined): Diagnostic[] {
  let merged: ReturnType<typeof populateImageFromBuildConfig>
  try {
    merged = populateImageFromBuildConfig(null, config)
  } catch {
    return [] // a merge that fails needs files or a v2 image; only its warnings matter here, and they come first
  }
  return merged.warnings.map(({key, message}) => {
    const [first = message, ...rest] = message.split('\n')
    const at = locate(key.split('.'))
    return {
      file: configFile,
      ...(at ? {line: at.line, col: at.col} : {}),
      key,
      severity: 'warning' as const,
      message: `${first} (BentoML 1.4.40)`,
      hint: rest.join(' ') || V2_HINTS[key] || `remove ${key} to let BentoML 1.4.40 build a v2 Bento`,
    }
  })
}

/**
 * The build context as BentoML's image SDK reads files (`resolve_user_filepath`, 1.4.34 rules), with
 * `requirements_txt` answered by its inlined text (nested -r/-c files included, see readExtras).
 */
export function projectImageFiles(projectDir: string, extras: Parameters<typeof planBuild>[0]['extras']): ImageFiles {
  const ctx = realpathSync(projectDir)
  const files = imageFilesFor(ctx, {
    realpath: (abs) => {
      try {
        return realpathSync(abs)
      } catch {
        return undefined
      }
    },
    readText: (abs) => {
      try {
        return readFileSync(abs, 'utf8')
      } catch {
        return undefined
      }
    },
  })
  const req = extras.requirementsTxt
  return {
    read: (p) => {
      const r = files.read(p)
      return 'text' in r && req !== undefined && r.rel === req.rel.split(sep).join('/') ? {rel: r.rel, text: req.text, sites: req.sites} : r
    },
  }
}

/**
 * The options BentoML merges into an SDK image: the bentofile before `with_defaults()` (Bento.create merges first,
 * then fills the defaults), so an unset docker.distro / docker.python_version / python.lock_packages /
 * python.pack_git_packages leaves the image's own value (`Image(python_version="3.12")` stays 3.12).
 */
export function beforeDefaults(config: BuildConfig, raw: {docker?: {distro?: string | null; python_version?: string | null}; python?: {lock_packages?: boolean | null; pack_git_packages?: boolean | null}}): ImageBuildConfig {
  return {
    ...config,
    docker: {...config.docker, distro: raw.docker?.distro ?? null, python_version: raw.docker?.python_version ?? null},
    python: {...config.python, lock_packages: raw.python?.lock_packages ?? null, pack_git_packages: raw.python?.pack_git_packages ?? null},
  }
}

/**
 * The image of an SDK service's Bento: BentoML's `populate_image_from_build_config(svc.image, bentofile)`. Null when
 * there is no SDK image and the bentofile forces spec 1 (conda, cuda_version, dockerfile_template, wheels), as
 * BentoML. Script digests are filled in by the caller.
 */
export function sdkImage(
  configFile: string,
  config: ImageBuildConfig,
  sdk: Image | null,
  options: ImageOptions,
  ctxAbs: string,
): PlanImage | null {
  let merged
  try {
    merged = populateImageFromBuildConfig(sdk, config, options)
  } catch (error) {
    if (error instanceof ImageMergeError) throw new ConfigError(`${configFile}: ${error.message}`, [error.rule.toDiagnostic({file: configFile, key: error.key})])
    throw error
  }
  // The merge's own warnings ("not supported by bento v2") are reported at their key's line by bentoV2Warnings.
  if (merged.image === null) return null
  const img = merged.image
  const warnings: Diagnostic[] = []
  if (merged.bentomlDrops.includes('scripts')) {
    warnings.push({
      file: configFile,
      key: 'docker.setup_script',
      severity: 'warning',
      message: 'BentoML 1.4.40 loses the run_script files of an SDK image when it merges the bentofile into it; bento keeps them',
    })
  }
  const scripts: PlanImage['scripts'] = [...img.scripts].map(([rel, target]) => ({from: join(ctxAbs, rel), target, sha256: ''}))
  return {info: img.info(), lockPackages: img.lock_python_packages, scripts, warnings, saysPythonVersion: img.saysPythonVersion, requirementSites: img.requirementSites}
}
