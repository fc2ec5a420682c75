import {createHash, randomBytes} from 'node:crypto'
import {mkdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {BENTOML_UV_COMPILE_ARGS} from '../bentoml/lock-facts.js'
import type {Cleanup} from '../cleanup.js'
import {LockError, UsageError} from '../errors.js'
import {maskCredentials, maskSecrets, referencedVariables} from './mask.js'
import {type Env, runUv, uvResolutionEnv, type UvTool} from './uv.js'

/** Bumped when what bento asks uv for (or writes around its output) changes: old cache entries are then not reused. */
const LOCK_FORMAT = 1

/** A target of the lock: the Docker platform the image is for and the uv `--python-platform` it maps to. */
export interface LockPlatform {
  /** As the user named it: `linux/amd64`, `linux/arm64`, or a uv target (`x86_64-manylinux_2_28`). */
  name: string
  uvTarget: string
}

/**
 * glibc 2.36 is Debian 12's (the `python:3.X-slim` base images): wheels up to manylinux_2_36 install there. This is the
 * target `bentoml build` 1.4.40 also locks for on hosts that are not Linux x86_64.
 */
const DOCKER_PLATFORMS: Readonly<Record<string, string>> = {
  'linux/amd64': 'x86_64-manylinux_2_36',
  'linux/x86_64': 'x86_64-manylinux_2_36',
  'linux/arm64': 'aarch64-manylinux_2_36',
  'linux/arm64/v8': 'aarch64-manylinux_2_36',
  'linux/aarch64': 'aarch64-manylinux_2_36',
}

const UV_TARGET = /^(?:linux|windows|macos|(?:x86_64|aarch64|i686|armv7|ppc64le|s390x)-(?:unknown-linux-gnu|unknown-linux-musl|manylinux_2_\d+|manylinux\d+|apple-darwin|pc-windows-msvc))$/

/** `--platform` of `bento build` (default linux/amd64): a Docker platform, or a uv target as `bentoml build --platform` takes. */
export function lockPlatform(flag: string | undefined): LockPlatform {
  const name = flag ?? 'linux/amd64'
  const mapped = DOCKER_PLATFORMS[name]
  if (mapped !== undefined) return {name, uvTarget: mapped}
  if (UV_TARGET.test(name)) return {name, uvTarget: name}
  throw new UsageError(`--platform "${name}" is not a platform the lock can target`, {
    hint: `use ${Object.keys(DOCKER_PLATFORMS).join(', ')}, or a uv target such as x86_64-manylinux_2_28 (as bentoml build --platform)`,
    data: {platform: name},
  })
}

/** The index options of a spec-1 build config, as requirement-file lines (spec 2 already has them in its requirements). */
export interface IndexOptions {
  index_url?: string | null
  no_index?: boolean | null
  trusted_host?: string[] | null
  find_links?: string[] | null
  extra_index_url?: string[] | null
  pip_args?: string | null
}

/** pip_args entries uv's requirement files understand (the rest are pip-only and do not change the resolution). */
const PIP_ARG_OPTIONS = new Set(['--index-url', '-i', '--extra-index-url', '--find-links', '-f', '--trusted-host', '--no-index', '--pre'])

export function indexOptionLines(p: IndexOptions): string[] {
  const lines: string[] = []
  if (p.index_url) lines.push(`--index-url ${p.index_url}`)
  for (const u of p.extra_index_url ?? []) lines.push(`--extra-index-url ${u}`)
  for (const l of p.find_links ?? []) lines.push(`--find-links ${l}`)
  for (const h of p.trusted_host ?? []) lines.push(`--trusted-host ${h}`)
  if (p.no_index) lines.push('--no-index')
  const words = (p.pip_args ?? '').split(/\s+/).filter(Boolean)
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    const [flag, inline] = w.startsWith('--') && w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined]
    if (!PIP_ARG_OPTIONS.has(flag)) continue
    if (flag === '--no-index' || flag === '--pre') lines.push(flag)
    else if (inline !== undefined) lines.push(`${flag} ${inline}`)
    else if (words[i + 1] !== undefined) lines.push(`${flag} ${words[++i] as string}`)
  }
  return lines
}

export interface LockRequest {
  /** The requirement lines as the Bento holds them (spec 2: the index option lines among them). */
  requirements: string[]
  /** Option lines written before the requirements (spec 1: `indexOptionLines(config.python)`). */
  optionLines: string[]
  /** `X.Y` of the image. */
  pythonVersion: string
  platform: LockPlatform
  uv: UvTool
  /** `$BENTOML_HOME`: locks are cached in `.bento/locks/<key>.txt`. */
  home: string
  /** Where relative paths of the requirements resolve (the project directory). */
  cwd: string
  /** The build's environment: `${VAR}` in the requirements expands from it (uv does), and uv reads its own settings there. */
  env: Env
  signal?: AbortSignal
  /** Where the lock's temp directory is registered while it exists (removed on a forced exit). */
  cleanup?: Cleanup
}

export interface Lock {
  /** The lock file: a comment naming the target, the index options, then every package `==` pinned with `--hash=sha256:` lines. */
  text: string
  /** sha256 of `text`: the `dev.bento.lock.sha256` label. */
  sha256: string
  platform: string
  pythonVersion: string
  uvVersion: string
  packages: number
  /** Taken from the cache: no resolver ran. */
  cached: boolean
  /** The cache key (hex); for a lock read from the project, its sha256. */
  key: string
  /** Where the set comes from: uv resolved it (`uv`), or the project's own lock file read statically. */
  source?: 'uv' | 'uv.lock' | 'pylock.toml' | 'bento-lock.json'
}

/**
 * The cache key: every input that can change the lock (the uv version and uv's resolution settings in the
 * environment included); never a credential's value.
 */
export function lockKey(req: Pick<LockRequest, 'requirements' | 'optionLines' | 'pythonVersion' | 'platform' | 'uv'> & {env?: Env}): string {
  const uvEnv = uvResolutionEnv(req.env ?? {})
  return createHash('sha256')
    .update(
      JSON.stringify({
        format: LOCK_FORMAT,
        input: compileInput(req),
        python: req.pythonVersion,
        platform: req.platform.uvTarget,
        uv: req.uv.version,
        // Absent when none is set: the keys of locks made without them stay as they were.
        ...(Object.keys(uvEnv).length > 0 ? {uvEnv} : {}),
      }),
    )
    .digest('hex')
}

function compileInput(req: Pick<LockRequest, 'requirements' | 'optionLines'>): string {
  return [...req.optionLines, ...req.requirements].join('\n') + '\n'
}

/** `$BENTOML_HOME/.bento/locks`: `<key>.txt` per lock, `uv-<id>.version` per uv executable. */
export function lockCacheDir(home: string): string {
  return join(home, '.bento', 'locks')
}

/**
 * The locked set for `req`: from the cache when the same inputs were locked before (no resolver runs), else by
 * `uv pip compile --generate-hashes` for the image's Python and platform; stored in the cache only when it succeeds.
 */
export async function lockRequirements(req: LockRequest): Promise<Lock> {
  const key = lockKey(req)
  const cached = join(lockCacheDir(req.home), `${key}.txt`)
  const meta = {platform: req.platform.name, pythonVersion: req.pythonVersion, uvVersion: req.uv.version, key, source: 'uv' as const}
  const hit = await readFile(cached, 'utf8').catch(() => null)
  if (hit !== null) return {...meta, text: hit, sha256: sha256(hit), packages: countPackages(hit), cached: true}

  const work = join(lockCacheDir(req.home), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`)
  await mkdir(work, {recursive: true})
  const forget = req.cleanup?.add(work)
  try {
    const input = join(work, 'requirements.in')
    await writeFile(input, compileInput(req))
    const args = [
      'pip', 'compile', input,
      ...BENTOML_UV_COMPILE_ARGS,
      '--generate-hashes',
      '--python-version', req.pythonVersion,
      '--python-platform', req.platform.uvTarget,
      '--quiet',
    ]
    // Never download a Python (or anything but packages from the indexes the requirements name).
    const env = {...req.env, UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1', NO_COLOR: '1'}
    const run = await runUv(req.uv.path, args, {cwd: req.cwd, env, ...(req.signal ? {signal: req.signal} : {})})
    if (run.code !== 0) throw lockFailed(req, run.stderr || run.stdout)
    const text = finish(run.stdout, req)
    const unhashed = unhashedRequirements(text)
    if (unhashed.length > 0) {
      throw new LockError(`Cannot lock with hashes: ${unhashed.join(', ')} ${unhashed.length > 1 ? 'have' : 'has'} no hash (a VCS or URL requirement)`, {
        hint: 'pin it as a package of the index (or a wheel in find_links), or build unlocked with --no-lock (python.lock_packages: false)',
        data: {requirements: unhashed},
      })
    }
    const staged = join(work, 'lock.txt')
    await writeFile(staged, text)
    await rename(staged, cached)
    return {...meta, text, sha256: sha256(text), packages: countPackages(text), cached: false}
  } finally {
    await rm(work, {recursive: true, force: true})
    forget?.()
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** uv's output with literal credentials dropped from every URL, after one comment line naming the target. */
function finish(stdout: string, req: LockRequest): string {
  const body = maskCredentials(stdout.replace(/\r\n/g, '\n'), '').replace(/^\n+/, '')
  const noIndex = [...req.optionLines, ...req.requirements].some((l) => /^\s*--no-index\b/.test(l)) && !/^--no-index\b/m.test(body)
  const head = `# bento lock: python ${req.pythonVersion}, ${req.platform.name} (${req.platform.uvTarget}); every line hashed: install with --require-hashes\n`
  // uv does not emit --trusted-host: without it pip in the image refuses an http index that is not localhost.
  const trusted = [...new Set([...req.optionLines, ...req.requirements].flatMap((l) => /^\s*--trusted-host(?:\s+|=)(\S+)/.exec(l)?.[1] ?? []))]
    .filter((h) => !body.split('\n').includes(`--trusted-host ${h}`))
    .map((h) => `--trusted-host ${h}\n`)
    .join('')
  return head + (noIndex ? '--no-index\n' : '') + trusted + body + (body.endsWith('\n') ? '' : '\n')
}

/** Requirement entries (name==version or URL) of a lock. */
function entries(text: string): string[][] {
  const out: string[][] = []
  let cur: string[] | null = null
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    if (cur && /^--hash=/.test(line.replace(/\\$/, '').trim())) {
      cur.push(line)
      continue
    }
    if (line.startsWith('-')) {
      cur = null
      continue
    }
    cur = [line]
    out.push(cur)
  }
  return out
}

function countPackages(text: string): number {
  return entries(text).length
}

function unhashedRequirements(text: string): string[] {
  return entries(text)
    .filter((e) => !e.some((l) => l.includes('--hash=')))
    .map((e) => (e[0] as string).replace(/\s*\\$/, '').trim())
}

/** E_LOCK naming the requirement uv could not satisfy and the indexes asked, credentials masked. */
function lockFailed(req: LockRequest, output: string): LockError {
  const lines = [...req.optionLines, ...req.requirements]
  const secrets = referencedVariables(lines).map((n) => req.env[n]).filter((v): v is string => v !== undefined && v !== '')
  const masked = maskSecrets(maskCredentials(output, '***@'), secrets).trim()
  const indexes = indexesOf(lines, req.env).map((u) => maskCredentials(u, '***@'))
  const conflict = /Because you require (\S+?) and (\S+?), we can conclude/.exec(masked)
  const requirement =
    conflict?.[1] ??
    /Because (?:there is no version of |there are no versions of |only )?(?!you\b)([A-Za-z0-9][A-Za-z0-9._\-[\]]*(?:[<>=!~]=?[^\s,]+)?)/.exec(masked)?.[1] ??
    /Failed to fetch: \S+?\/([^/\s]+)\/?(?:\s|$)/.exec(masked)?.[1]
  const detail = masked
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^error: No solution found/.test(l))
    .map((l) => `  ${l.trim()}`)
    .join('\n')
  return new LockError(
    `Cannot lock the requirements for python ${req.pythonVersion}, ${req.platform.name}${conflict ? `: ${conflict[1]} and ${conflict[2]} conflict` : requirement ? `: ${requirement} cannot be resolved` : ''} from ${indexes.join(', ') || 'no index'}\n${detail}`,
    {
      hint: 'check the requirement and that the index has it (for this Python and platform), and the index URL and its credentials (${VAR} in an index URL expands from the environment); or build unlocked with --no-lock',
      data: {...(requirement ? {requirement} : {}), indexes, platform: req.platform.name, pythonVersion: req.pythonVersion, uvOutput: masked},
    },
  )
}

/**
 * The indexes a resolution asks: the index URL (default PyPI unless --no-index), extra index URLs, find-links. uv's
 * own settings in the environment win over the requirement file's (UV_INDEX_URL / UV_DEFAULT_INDEX replace its
 * --index-url; UV_INDEX / UV_EXTRA_INDEX_URL / UV_FIND_LINKS come first), and are named with the variable.
 */
function indexesOf(lines: string[], env: Env): string[] {
  let index: string | null = 'https://pypi.org/simple'
  const extra: string[] = []
  let noIndex = /^(?:1|true|yes)$/i.test(env.UV_NO_INDEX ?? '')
  const fromEnv = (name: string): string[] => (env[name] ?? '').split(/\s+/).filter(Boolean).map((u) => `${u.replace(/^[A-Za-z0-9_-]+=(?=[a-z]+:\/\/)/, '')} (${name})`)
  const envIndex = fromEnv('UV_DEFAULT_INDEX')[0] ?? fromEnv('UV_INDEX_URL')[0]
  const envExtra = [...fromEnv('UV_INDEX'), ...fromEnv('UV_EXTRA_INDEX_URL'), ...fromEnv('UV_FIND_LINKS')]
  for (const l of lines) {
    const m = /^\s*(--index-url|-i|--extra-index-url|--find-links|-f)(?:\s+|=)(\S+)/.exec(l)
    if (/^\s*--no-index\b/.test(l)) noIndex = true
    if (!m) continue
    if (m[1] === '--index-url' || m[1] === '-i') index = m[2] as string
    else extra.push(m[2] as string)
  }
  if (envIndex !== undefined) index = envIndex
  return [...(noIndex || index === null ? [] : [index]), ...envExtra, ...extra]
}
