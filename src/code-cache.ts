/**
 * V8's code cache for the direct-path bundle (issue 20, start-up; `dist/direct.cjs`, made by scripts/bundle.mjs).
 * Compiling the bundle's JavaScript costs more than running a no-op build: bin/run.js loads it through
 * `requireCached`, which hands V8 the code it compiled in an earlier run.
 *
 * - Node ≥ 22.1 has its own on-disk cache (`module.enableCompileCache`): it is pointed at our directory and the
 *   bundle is `require`d. Older Node (20): the bundle runs as a `vm.Script` with `cachedData`; once the command has
 *   run (at process exit, so the functions it compiled lazily are in it) the cache is written if there was none or
 *   V8 rejected it.
 * - Where: `<os.tmpdir()>/bento-code-cache-<uid>`, created with mode 0700 and used only if it is a directory of
 *   this user that nobody else may read or write (another user could otherwise hand us code): never shared.
 * - Keyed by the bundle's content (sha256), Node's version, the architecture, Node's flags and the command kind
 *   (`--version` and `build` compile different functions): a changed bundle or Node never meets an old cache.
 * - Each file holds the sha256 of its payload before it: a truncated or corrupt file is ignored (and rewritten), as
 *   is any error of the cache itself; writes are a temp file renamed into place. One file per command kind and Node
 *   flags is kept (writing one removes that kind's older files with the same flags; a run with other flags keeps
 *   its own beside it): the directory stays ≈ 1 MB per set of flags.
 * - `NODE_DISABLE_COMPILE_CACHE` set (Node's own switch): no cache, a plain `require`.
 */
import {createHash} from 'node:crypto'
import {lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import nodeModule from 'node:module'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {Script} from 'node:vm'

export interface CodeCacheOptions {
  env?: NodeJS.ProcessEnv
  /** The cache directory; default `codeCacheDir()`. */
  dir?: string
  /** Whose cache; default `process.getuid()`. Without a uid (Windows) there is no cache. */
  uid?: number
  /** What the process will run (`version`, `build`…): part of the key. */
  variant?: string
  /** Where the cache is written once the command has run; default: at process exit. */
  onDone?: (write: () => void) => void
  /** Node's flags (part of the key); default `process.execArgv`. A parameter for tests. */
  execArgv?: readonly string[]
  /** Node's `module.enableCompileCache`, where it exists; a parameter for tests. */
  enableCompileCache?: ((dir: string) => unknown) | undefined
}

/** What `requireCached` did, for tests and `BENTO_DEBUG`-less diagnosis. */
export interface CodeCacheOutcome {
  /** `off`: disabled or no usable directory; `node`: Node's own cache; `hit`: V8 took our cache; `miss`: none or rejected. */
  cache: 'off' | 'node' | 'hit' | 'miss'
  /** The cache file (vm path). */
  file?: string
}

const HASH_BYTES = 32

/** `<os.tmpdir()>/bento-code-cache-<uid>`. */
export function codeCacheDir(uid: number, tmp = tmpdir()): string {
  return join(tmp, `bento-code-cache-${uid}`)
}

/** The directory, made 0700 if missing; false when it is not a private directory of `uid` (then it is not used). */
export function privateDir(dir: string, uid: number): boolean {
  try {
    mkdirSync(dir, {mode: 0o700})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false
  }
  try {
    const st = lstatSync(dir)
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0
  } catch {
    return false
  }
}

/** The payload of a cache file, or undefined when it is missing, short or does not match its checksum. */
export function readCacheFile(file: string): Buffer | undefined {
  let data: Buffer
  try {
    data = readFileSync(file)
  } catch {
    return undefined
  }
  if (data.length <= HASH_BYTES) return undefined
  const payload = data.subarray(HASH_BYTES)
  const sum = createHash('sha256').update(payload).digest()
  return sum.equals(data.subarray(0, HASH_BYTES)) ? payload : undefined
}

/** Writes `payload` with its checksum, atomically (temp file, rename); errors are swallowed (a cache is optional). */
export function writeCacheFile(file: string, payload: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, Buffer.concat([createHash('sha256').update(payload).digest(), payload]), {mode: 0o600})
    renameSync(tmp, file)
  } catch {
    rmSync(tmp, {force: true})
  }
}

/**
 * A file name's prefix per variant and Node flags: `build-<flags>-`, `oclif-<flags>-` (8 hex digits of the flags'
 * sha256). One cache file per prefix is kept: processes run with other flags (`--import`, NODE_OPTIONS) keep theirs
 * beside it instead of removing it.
 */
function prefixOf(variant: string, execArgv: readonly string[]): string {
  const flags = createHash('sha256').update(execArgv.join('\0')).digest('hex').slice(0, 8)
  return `${variant.replace(/[^a-z0-9]/gi, '') || 'default'}-${flags}-`
}

/** The cache file of a bundle's bytes in `dir`: keyed by them, Node's version, the architecture, Node's flags, the variant. */
export function cacheFileFor(dir: string, source: Buffer, variant = '', execArgv: readonly string[] = process.execArgv): string {
  const key = createHash('sha256')
    .update(`${process.version}\0${process.arch}\0${execArgv.join(' ')}\0${variant}\0`)
    .update(source)
    .digest('hex')
  return join(dir, `${prefixOf(variant, execArgv)}${key}.v8`)
}

/**
 * Removes the other cache files of the variant and flags (an older bundle's or Node's): the directory holds one per
 * variant and flags. The prefix is the file's name without its key (`<prefix><64 hex>.v8`, cacheFileFor).
 */
function pruneOthers(file: string): void {
  const dir = dirname(file)
  const prefix = basename(file).slice(0, -(64 + '.v8'.length))
  try {
    for (const name of readdirSync(dir)) {
      if (name.startsWith(prefix) && join(dir, name) !== file) rmSync(join(dir, name), {force: true})
    }
  } catch {
    // a cache is optional
  }
}

/** `require(file)` of a CommonJS bundle, with V8's code cache where it can be used safely (see above). */
export function requireCached(file: string, options: CodeCacheOptions = {}): {exports: unknown; outcome: CodeCacheOutcome} {
  const env = options.env ?? process.env
  const uid = options.uid ?? process.getuid?.()
  const plain = (cache: CodeCacheOutcome['cache']): {exports: unknown; outcome: CodeCacheOutcome} => ({exports: createRequire(file)(file) as unknown, outcome: {cache}})
  if ((env.NODE_DISABLE_COMPILE_CACHE ?? '') !== '' || uid === undefined) return plain('off')
  const dir = options.dir ?? codeCacheDir(uid)
  if (!privateDir(dir, uid)) return plain('off')
  const enable = 'enableCompileCache' in options ? options.enableCompileCache : (nodeModule as {enableCompileCache?: (dir: string) => unknown}).enableCompileCache
  if (typeof enable === 'function') {
    enable.call(nodeModule, dir)
    return plain('node')
  }
  const bytes = readFileSync(file)
  const cacheFile = cacheFileFor(dir, bytes, options.variant, options.execArgv)
  const source = bytes.toString('utf8')
  const cachedData = readCacheFile(cacheFile)
  // As Node's CommonJS loader wraps a module (the cache belongs to this exact text).
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : {cachedData}),
  })
  const hit = cachedData !== undefined && !script.cachedDataRejected
  if (!hit) {
    const write = (): void => {
      try {
        writeCacheFile(cacheFile, script.createCachedData())
        pruneOthers(cacheFile)
      } catch {
        // no cache this time
      }
    }
    if (options.onDone) options.onDone(write)
    else process.once('exit', write)
  }
  const mod = {exports: {} as unknown}
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: {exports: unknown}, filename: string, dirname: string) => void
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file))
  return {exports: mod.exports, outcome: {cache: hit ? 'hit' : 'miss', file: cacheFile}}
}
