import {spawn} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {accessSync, constants, statSync} from 'node:fs'
import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {delimiter, isAbsolute, join} from 'node:path'

import {InterruptedError, NotFoundError} from '../errors.js'
import {maskCredentials} from './mask.js'

/** The resolver bento runs: a uv executable and its version (part of every lock's cache key). */
export interface UvTool {
  path: string
  version: string
}

export type Env = Readonly<Record<string, string | undefined>>

/**
 * The environment variables uv 0.13 reads that change what `uv pip compile` resolves (indexes, what may be chosen,
 * its config file). Their values are part of a lock's cache key (credentials in them masked first), so a lock made
 * with `UV_EXCLUDE_NEWER=…` or another `UV_INDEX_URL` is not reused without them.
 */
export const UV_RESOLUTION_ENV = [
  'UV_INDEX_URL', 'UV_DEFAULT_INDEX', 'UV_INDEX', 'UV_EXTRA_INDEX_URL', 'UV_FIND_LINKS', 'UV_NO_INDEX', 'UV_INDEX_STRATEGY',
  'UV_EXCLUDE_NEWER', 'UV_PRERELEASE', 'UV_RESOLUTION', 'UV_CONSTRAINT', 'UV_OVERRIDE', 'UV_BUILD_CONSTRAINT', 'UV_TORCH_BACKEND',
  'UV_NO_BINARY', 'UV_NO_BINARY_PACKAGE', 'UV_NO_BUILD', 'UV_NO_BUILD_PACKAGE', 'UV_NO_SOURCES', 'UV_CONFIG_FILE', 'UV_NO_CONFIG',
] as const

/** The resolution settings of `env` (see UV_RESOLUTION_ENV) that are set, credentials in URLs masked. */
export function uvResolutionEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of UV_RESOLUTION_ENV) {
    const v = env[name]
    if (v !== undefined && v !== '') out[name] = maskCredentials(v, '***@')
  }
  return out
}

const INSTALL_HINT =
  'install uv (`pip install uv`, `pipx install uv` or your distribution\'s package) and put it on PATH, or set BENTO_UV to its path; ' +
  'or build unlocked with --no-lock (or python.lock_packages: false)'

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Where bento finds uv: `BENTO_UV` (a path to the executable) when set, else the first `uv` on `PATH` of the build's
 * environment. Returns null when there is none; `BENTO_UV` naming something that is not an executable is
 * E_UV_NOT_FOUND (a typo should not silently build unlocked).
 */
export function findUvPath(env: Env): string | null {
  const explicit = env.BENTO_UV
  if (explicit !== undefined && explicit !== '') {
    if (!isAbsolute(explicit) || !isExecutableFile(explicit)) {
      throw new NotFoundError(`BENTO_UV="${explicit}" is not an executable file (an absolute path to uv)`, {
        code: 'E_UV_NOT_FOUND',
        hint: INSTALL_HINT,
        data: {BENTO_UV: explicit},
      })
    }
    return explicit
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue
    const candidate = join(dir, 'uv')
    if (isExecutableFile(candidate)) return candidate
  }
  return null
}

/** The error for a lock that was asked for (`python.lock_packages: true`) when no uv is found. */
export function uvNotFound(): NotFoundError {
  return new NotFoundError('The requirements are to be locked (python.lock_packages: true) but uv is not found: BENTO_UV is not set and no uv is on PATH', {
    code: 'E_UV_NOT_FOUND',
    hint: INSTALL_HINT,
  })
}

export interface UvRun {
  code: number
  stdout: string
  stderr: string
}

/** Run uv with `args`; never throws for a non-zero exit (the caller reads `code`). */
export async function runUv(path: string, args: string[], opts: {cwd: string; env: Env; signal?: AbortSignal}): Promise<UvRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, {
      cwd: opts.cwd,
      env: Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => e[1] !== undefined)),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.signal ? {signal: opts.signal} : {}),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', (error) => reject(opts.signal?.aborted ? new InterruptedError('Build interrupted while uv was locking the requirements; nothing was stored.', {cause: error}) : error))
    child.on('close', (code) => resolve({code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8')}))
  })
}

/**
 * `uv --version` → `0.13.9`, remembered in `cacheDir` per executable (its path, size and modification time), so a
 * rebuild whose lock is cached runs no uv at all.
 */
export async function uvTool(path: string, env: Env, cacheDir?: string): Promise<UvTool> {
  if (cacheDir === undefined) return askVersion(path, env)
  const st = statSync(path)
  const id = createHash('sha256').update(JSON.stringify([path, st.size, st.mtimeMs, st.ino])).digest('hex').slice(0, 32)
  const file = join(cacheDir, `uv-${id}.version`)
  const known = (await readFile(file, 'utf8').catch(() => '')).trim()
  if (/^\d+\.\d+/.test(known)) return {path, version: known}
  const tool = await askVersion(path, env)
  await mkdir(cacheDir, {recursive: true})
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  await writeFile(tmp, tool.version + '\n')
  await rename(tmp, file)
  return tool
}

async function askVersion(path: string, env: Env): Promise<UvTool> {
  const r = await runUv(path, ['--version'], {cwd: '/', env}).catch((error: unknown) => {
    throw new NotFoundError(`uv at ${path} cannot be run: ${(error as Error).message}`, {code: 'E_UV_NOT_FOUND', hint: INSTALL_HINT, cause: error})
  })
  const m = /^uv\s+(\S+)/.exec(r.stdout.trim())
  if (r.code !== 0 || !m?.[1]) {
    throw new NotFoundError(`${path} is not uv (\`${path} --version\` printed "${(r.stdout + r.stderr).trim().slice(0, 120)}")`, {code: 'E_UV_NOT_FOUND', hint: INSTALL_HINT})
  }
  return {path, version: m[1]}
}
