import {createHash} from 'node:crypto'
import {chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {cacheFileFor, codeCacheDir, readCacheFile, requireCached} from './code-cache.js'

let root: string
let bundle: string
const uid = process.getuid?.() ?? 0

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bento-code-cache-test-'))
  bundle = join(root, 'bundle.cjs')
  mkdirSync(join(root, 'lib'))
  writeFileSync(join(root, 'lib', 'dep.cjs'), 'module.exports = 20\n')
  // A CommonJS module as a bundle is: require of a relative file and of a builtin, __filename, __dirname, lazily
  // compiled functions.
  writeFileSync(
    bundle,
    `const dep = require('./lib/dep.cjs')\nconst {basename} = require('node:path')\nfunction later(x) { return x * 2 + dep }\nmodule.exports = {answer: later(11), file: basename(__filename), dir: __dirname, self: this === module.exports}\n`,
  )
})
afterAll(() => {
  rmSync(root, {recursive: true, force: true})
})

/** Runs requireCached and the cache write it schedules (at exit in the CLI). */
function load(dir: string, opts: Parameters<typeof requireCached>[1] = {}): ReturnType<typeof requireCached> {
  const writes: Array<() => void> = []
  const r = requireCached(bundle, {dir, uid, env: {}, enableCompileCache: undefined, onDone: (w) => writes.push(w), ...opts})
  for (const w of writes) w()
  return r
}

const EXPECTED = () => ({answer: 42, file: 'bundle.cjs', dir: root, self: true})

describe('requireCached (V8 code cache of the direct-path bundle)', () => {
  it('runs the file as CommonJS; the first run writes the cache, the next one uses it', () => {
    const dir = join(root, 'cache-a')
    const first = load(dir)
    expect(first.exports).toEqual(EXPECTED())
    expect(first.outcome.cache).toBe('miss')
    expect(existsSync(first.outcome.file!)).toBe(true)
    const second = load(dir)
    expect(second.outcome).toEqual({cache: 'hit', file: first.outcome.file})
    expect(second.exports).toEqual(EXPECTED())
  })

  it("processes with other Node flags keep caches of their own side by side: neither removes the other's", () => {
    // A CLI run with `--import …` (or NODE_OPTIONS) beside plain runs: each writing its cache used to remove the
    // other's, and every run then compiled and wrote it again.
    const dir = join(root, 'cache-flags')
    const plain = load(dir, {variant: 'oclif', execArgv: []})
    const flagged = load(dir, {variant: 'oclif', execArgv: ['--import', '/x/preload.mjs']})
    expect(flagged.outcome.file).not.toBe(plain.outcome.file)
    expect(readdirSync(dir).sort()).toEqual([plain.outcome.file!, flagged.outcome.file!].map((f) => f.split('/').pop()).sort())
    expect(load(dir, {variant: 'oclif', execArgv: []}).outcome.cache).toBe('hit')
    expect(load(dir, {variant: 'oclif', execArgv: ['--import', '/x/preload.mjs']}).outcome.cache).toBe('hit')
  })

  it('makes its directory 0700 and its files 0600', () => {
    const dir = join(root, 'cache-mode')
    const r = load(dir)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(r.outcome.file!).mode & 0o777).toBe(0o600)
  })

  it('keys by content and command kind: another bundle text or variant never meets an old cache', () => {
    const dir = join(root, 'cache-key')
    const a = load(dir, {variant: 'build'})
    const b = load(dir, {variant: '--version'})
    expect(b.outcome.cache).toBe('miss')
    expect(b.outcome.file).not.toBe(a.outcome.file)
    const other = join(root, 'other.cjs')
    writeFileSync(other, readFileSync(bundle, 'utf8').replace('x * 2', 'x * 3'))
    const writes: Array<() => void> = []
    const c = requireCached(other, {dir, uid, env: {}, enableCompileCache: undefined, variant: 'build', onDone: (w) => writes.push(w)})
    expect(c.outcome.cache).toBe('miss')
    expect((c.exports as {answer: number}).answer).toBe(53)
    // Written: it replaces the older bundle's file of its variant, the other variant's stays.
    for (const w of writes) w()
    expect(readdirSync(dir).sort()).toEqual([c.outcome.file!, b.outcome.file!].map((f) => f.slice(dir.length + 1)).sort())
  })

  it('ignores a corrupt cache file (truncated, a flipped byte, empty) and writes a good one', () => {
    const dir = join(root, 'cache-corrupt')
    const file = load(dir).outcome.file!
    const good = readFileSync(file)
    const flipped = Buffer.from(good)
    flipped[flipped.length - 10]! ^= 0xff
    const bads = {truncated: good.subarray(0, 20), short: good.subarray(0, good.length - 1), flipped, empty: Buffer.alloc(0)}
    for (const [what, bad] of Object.entries(bads)) {
      writeFileSync(file, bad)
      const r = load(dir)
      expect(r.exports).toEqual(EXPECTED())
      expect([what, r.outcome.cache]).toEqual([what, 'miss'])
      expect(readCacheFile(file)).toBeDefined()
      expect(load(dir).outcome.cache).toBe('hit')
    }
  })

  it('a cache V8 rejects (its checksum right, its content not V8 code) is ignored and rewritten', () => {
    // A text this process has not compiled yet (V8 would take it from its in-memory cache and never look).
    const fresh = join(root, 'fresh.cjs')
    const text = `${readFileSync(bundle, 'utf8')}// ${Date.now()}\n`
    writeFileSync(fresh, text)
    const dir = join(root, 'cache-rejected')
    mkdirSync(dir, {mode: 0o700})
    const file = cacheFileFor(dir, Buffer.from(text), 'build')
    const garbage = Buffer.alloc(4096, 7)
    writeFileSync(file, Buffer.concat([createHash('sha256').update(garbage).digest(), garbage]))
    const writes: Array<() => void> = []
    const r = requireCached(fresh, {dir, uid, env: {}, enableCompileCache: undefined, variant: 'build', onDone: (w) => writes.push(w)})
    expect(r.outcome).toEqual({cache: 'miss', file})
    expect((r.exports as {answer: number}).answer).toBe(42)
    for (const w of writes) w()
    expect(readCacheFile(file)?.equals(garbage)).toBe(false)
  })

  it("never uses a directory another user owns or others may read or write, nor a symlink: it is not written to", () => {
    // Owned by us but the cache is asked for another uid (as if another user had made the directory first).
    const foreign = join(root, 'cache-foreign')
    mkdirSync(foreign, {mode: 0o700})
    expect(load(foreign, {uid: uid + 1}).outcome).toEqual({cache: 'off'})
    expect(readdirSync(foreign)).toEqual([])
    const open = join(root, 'cache-open')
    mkdirSync(open)
    chmodSync(open, 0o755)
    expect(load(open).outcome).toEqual({cache: 'off'})
    expect(readdirSync(open)).toEqual([])
    const target = join(root, 'cache-target')
    mkdirSync(target, {mode: 0o700})
    const link = join(root, 'cache-link')
    symlinkSync(target, link)
    expect(load(link).outcome).toEqual({cache: 'off'})
    expect(readdirSync(target)).toEqual([])
    // A file where the directory would be.
    const file = join(root, 'cache-file')
    writeFileSync(file, '')
    expect(load(file).outcome).toEqual({cache: 'off'})
    for (const dir of [foreign, open, link, file]) expect(load(dir).exports).toEqual(EXPECTED())
  })

  it('a directory of another uid (as root: made by nobody) is not used', () => {
    if (uid !== 0) return // the case above covers it without root
    const dir = join(root, 'cache-nobody')
    mkdirSync(dir, {mode: 0o700})
    chownSync(dir, 65534, 65534)
    expect(load(dir).outcome).toEqual({cache: 'off'})
    expect(readdirSync(dir)).toEqual([])
  })

  it('NODE_DISABLE_COMPILE_CACHE turns it off: no directory, a plain require', () => {
    const dir = join(root, 'cache-disabled')
    const r = load(dir, {env: {NODE_DISABLE_COMPILE_CACHE: '1'}})
    expect(r.outcome).toEqual({cache: 'off'})
    expect(r.exports).toEqual(EXPECTED())
    expect(existsSync(dir)).toBe(false)
  })

  it("uses Node's own compile cache, in the same private directory, where Node has it (≥ 22.1)", () => {
    const dir = join(root, 'cache-node')
    const asked: string[] = []
    const r = load(dir, {enableCompileCache: (d) => asked.push(d)})
    expect(r.outcome).toEqual({cache: 'node'})
    expect(asked).toEqual([dir])
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('lives in <tmpdir>/bento-code-cache-<uid>', () => {
    expect(codeCacheDir(1234, '/tmp')).toBe('/tmp/bento-code-cache-1234')
  })
})
