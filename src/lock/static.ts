/**
 * A project's own lock read statically, no resolver run (issue 17, scope 4): `uv.lock` (uv's universal lock) and
 * `pylock.toml` (PEP 751). The pinned set for one target (the image's platform and Python) is what `uv export
 * --frozen` gives once its markers are evaluated for that target: the project's dependencies, its default dependency
 * groups (`dev`, or `[tool.uv] default-groups`), the extras asked for, and what they need; the project itself and its
 * editable / workspace / directory members left out (their dependencies kept). Written as a hashed requirements file
 * like the locks uv compiles (src/lock/lock.ts), so the image installs it with `--require-hashes`.
 */
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {parse as parseToml} from 'smol-toml'

import {isPep440Version, satisfiesSpecifier} from '../bentoml/pep440.js'
import {LockError} from '../errors.js'
import type {LockPlatform} from './lock.js'
import {evaluateMarker, type MarkerEnvironment, markerEnvironment} from './markers.js'
import {maskCredentials} from './mask.js'

/** The lock files bento reads, in the order it looks for them in a project. */
export const PROJECT_LOCK_FILES = ['uv.lock', 'pylock.toml'] as const
export type ProjectLockFile = (typeof PROJECT_LOCK_FILES)[number]

export interface StaticLockRequest {
  projectDir: string
  file: ProjectLockFile
  platform: LockPlatform
  /** `X.Y` of the image (or `X.Y.Z`). */
  pythonVersion: string
  /** Extras of the project to include (uv export --extra). */
  extras?: string[]
  /** Dependency groups to include instead of the default ones (uv export --no-default-groups --group …). */
  groups?: string[]
}

export interface StaticLock {
  /** The hashed requirements file: a comment naming the source and target, index options, `name==version` + hashes. */
  text: string
  sha256: string
  source: ProjectLockFile
  platform: string
  pythonVersion: string
  packages: number
  /** The pinned packages (normalized name → version). */
  pins: ReadonlyMap<string, string>
}

interface Pin {
  name: string
  version: string
  hashes: string[]
  index: string | null
}

type Table = Record<string, unknown>

function isTable(v: unknown): v is Table {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function tables(v: unknown): Table[] {
  return Array.isArray(v) ? v.filter(isTable) : []
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-')
}

function notCovered(file: string, req: StaticLockRequest, why: string, data: Record<string, unknown> = {}): LockError {
  return new LockError(`${file} does not cover python ${req.pythonVersion}, ${req.platform.name}: ${why}`, {
    hint: `lock the project for this target (uv lock, with requires-python and [tool.uv] environments covering it), or build for a platform and Python the lock covers (--platform, docker.python_version)`,
    data: {file, platform: req.platform.name, pythonVersion: req.pythonVersion, ...data},
  })
}

function fullVersion(python: string): string {
  return python.split('.').length >= 3 ? python : `${python}.0`
}

/** Read `req.file` of the project and take the pinned set for the target. E_LOCK naming the file when it cannot. */
export async function readProjectLock(req: StaticLockRequest): Promise<StaticLock> {
  const path = join(req.projectDir, req.file)
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new LockError(`${req.file} cannot be read: ${(error as Error).message}`, {hint: `check ${path}`, data: {file: req.file}})
  })
  let doc: Table
  try {
    doc = parseToml(text) as Table
  } catch (error) {
    throw new LockError(`${req.file} is not valid TOML: ${((error as Error).message.split('\n')[0] ?? '').trim()}`, {hint: `regenerate it (uv lock / uv export --format pylock.toml)`, data: {file: req.file}})
  }
  const env = markerEnvironment({uvTarget: req.platform.uvTarget, pythonVersion: req.pythonVersion})
  const requiresPython = str(doc['requires-python'])
  if (requiresPython !== undefined && !satisfiesSpecifier(fullVersion(req.pythonVersion), requiresPython)) {
    throw notCovered(req.file, req, `it requires python ${requiresPython}`, {requiresPython})
  }
  const pins = req.file === 'uv.lock' ? await uvLockPins(doc, req, env) : pylockPins(doc, req, env)
  for (const p of pins) checkWheels(p, req)
  const out = render(pins.map((p) => p.pin), req)
  return {
    text: out,
    sha256: createHash('sha256').update(out).digest('hex'),
    source: req.file,
    platform: req.platform.name,
    pythonVersion: req.pythonVersion,
    packages: pins.length,
    pins: new Map(pins.map((p) => [normalizeName(p.pin.name), p.pin.version])),
  }
}

/** The project lock file bento reads in `dir` (uv.lock first, then pylock.toml), or null. */
export function findProjectLock(dir: string): ProjectLockFile | null {
  return PROJECT_LOCK_FILES.find((f) => existsSync(join(dir, f))) ?? null
}

/**
 * Every requirement line of the Bento (the user's, the frameworks', `bentoml==<target>`) whose marker holds for the
 * target must be pinned in the lock at a version its specifier allows: no resolver runs to add what is missing.
 * Option lines (`--index-url …`) are the lock's business and skipped. E_LOCK naming the file and the lines otherwise.
 */
export function checkRequirementsCovered(lock: StaticLock, requirements: readonly string[], target: {uvTarget: string}): void {
  const env = markerEnvironment({uvTarget: target.uvTarget, pythonVersion: lock.pythonVersion})
  const missing: string[] = []
  for (const raw of requirements) {
    const line = raw.replace(/\s+#.*$/, '').trim()
    if (line === '' || line.startsWith('#') || line.startsWith('-')) continue
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;@]*?)\s*(?:;\s*(.*))?$/.exec(line)
    if (!m) {
      missing.push(line)
      continue
    }
    if (m[3] !== undefined && !evaluateMarker(m[3], env)) continue
    const version = lock.pins.get(normalizeName(m[1] as string))
    const spec = (m[2] ?? '').replace(/^\((.*)\)$/, '$1').trim()
    if (version === undefined || (spec !== '' && !satisfiesSpecifier(version, spec))) missing.push(version === undefined ? line : `${line} (${lock.source} pins ${version})`)
  }
  if (missing.length > 0) {
    throw new LockError(`${lock.source} does not hold ${missing.length > 1 ? 'these requirements' : 'this requirement'} of the Bento (no resolver runs when the project has a lock): ${missing.join(', ')}`, {
      hint: `add ${missing.length > 1 ? 'them' : 'it'} to the project and lock again (uv add …; uv lock), or build unlocked with --no-lock`,
      data: {file: lock.source, requirements: missing},
    })
  }
}

interface Selected {
  pin: Pin
  wheels: string[]
  hasSdist: boolean
}

function hashesOf(dists: Table[], key: 'uv' | 'pylock'): string[] {
  const out: string[] = []
  for (const d of dists) {
    if (key === 'uv') {
      const h = str(d.hash)
      if (h !== undefined) out.push(h.replace(/^(sha256|sha384|sha512):/, '$1:'))
    } else if (isTable(d.hashes)) {
      for (const algo of ['sha256', 'sha384', 'sha512']) {
        const h = str(d.hashes[algo])
        if (h !== undefined) out.push(`${algo}:${h}`)
      }
    }
  }
  return out
}

function wheelName(d: Table): string | undefined {
  const n = str(d.name) ?? str(d.url) ?? str(d.path) ?? str(d.filename)
  return n === undefined ? undefined : decodeURIComponent(n.split('/').pop() ?? '')
}

const LOCAL_SOURCES = ['virtual', 'editable', 'directory']

async function defaultGroups(projectDir: string): Promise<string[]> {
  const pyproject = await readFile(join(projectDir, 'pyproject.toml'), 'utf8').catch(() => null)
  if (pyproject === null) return ['dev']
  try {
    const uv = ((parseToml(pyproject) as Table).tool as Table | undefined)?.uv
    const groups = isTable(uv) ? uv['default-groups'] : undefined
    if (Array.isArray(groups)) return groups.map(String)
  } catch {
    // pyproject.toml is checked where the build reads it; uv's default then.
  }
  return ['dev']
}

/** uv.lock: walk the dependency graph from the project (or the workspace members) with the target's markers. */
async function uvLockPins(doc: Table, req: StaticLockRequest, env: MarkerEnvironment): Promise<Selected[]> {
  const file = req.file
  for (const m of Array.isArray(doc['supported-markers']) ? [doc['supported-markers'].map(String)] : []) {
    if (m.length > 0 && !m.some((x) => evaluateMarker(x, env))) throw notCovered(file, req, `it supports only ${m.join(' | ')}`)
  }
  const packages = tables(doc.package)
  const byName = new Map<string, Table[]>()
  for (const p of packages) byName.set(normalizeName(str(p.name) ?? ''), [...(byName.get(normalizeName(str(p.name) ?? '')) ?? []), p])
  const isLocal = (p: Table): boolean => isTable(p.source) && LOCAL_SOURCES.some((k) => k in (p.source as Table))
  let roots = packages.filter((p) => isTable(p.source) && ['virtual', 'editable'].some((k) => (p.source as Table)[k] === '.'))
  if (roots.length === 0) {
    const members = isTable(doc.manifest) && Array.isArray(doc.manifest.members) ? new Set(doc.manifest.members.map((m) => normalizeName(String(m)))) : new Set<string>()
    roots = packages.filter((p) => members.has(normalizeName(str(p.name) ?? '')))
  }
  if (roots.length === 0) throw new LockError(`${file} names no project (no package with source virtual or editable ".")`, {hint: 'run uv lock in the project directory', data: {file}})
  const extras = new Set((req.extras ?? []).map(normalizeName))
  const groups = new Set(req.groups ?? (await defaultGroups(req.projectDir)))

  const find = (edge: Table): Table => {
    const name = normalizeName(str(edge.name) ?? '')
    let candidates = byName.get(name) ?? []
    if (edge.version !== undefined) candidates = candidates.filter((c) => c.version === edge.version)
    if (edge.source !== undefined) candidates = candidates.filter((c) => JSON.stringify(c.source) === JSON.stringify(edge.source))
    if (candidates.length > 1) {
      candidates = candidates.filter((c) => !Array.isArray(c['resolution-markers']) || c['resolution-markers'].some((m) => evaluateMarker(String(m), env)))
    }
    const hit = candidates[0]
    if (hit === undefined) throw new LockError(`${file} is inconsistent: a dependency on ${name} names no locked package`, {hint: 'run uv lock again', data: {file, package: name}})
    return hit
  }
  const selected = new Map<Table, Set<string>>()
  const queue: Array<[Table, Set<string>]> = []
  const visit = (p: Table, withExtras: Set<string>): void => {
    const seen = selected.get(p)
    const fresh = [...withExtras].filter((e) => !seen?.has(e))
    if (seen !== undefined && fresh.length === 0) return
    const all = new Set([...(seen ?? []), ...withExtras])
    selected.set(p, all)
    queue.push([p, seen === undefined ? all : new Set(fresh)])
  }
  const first = new Set<Table>()
  for (const r of roots) {
    selected.set(r, new Set())
    const edges = [...tables(r.dependencies)]
    const optional = isTable(r['optional-dependencies']) ? r['optional-dependencies'] : {}
    for (const e of extras) edges.push(...tables(optional[e]))
    const dev = isTable(r['dev-dependencies']) ? r['dev-dependencies'] : {}
    for (const g of groups) edges.push(...tables(dev[g]))
    for (const edge of edges) if (evaluateMarker(str(edge.marker) ?? '', env)) first.add(edge)
  }
  for (const edge of first) visit(find(edge), new Set(Array.isArray(edge.extra) ? edge.extra.map((x) => normalizeName(String(x))) : []))
  while (queue.length > 0) {
    const [p, newExtras] = queue.shift() as [Table, Set<string>]
    const isNew = newExtras === selected.get(p) // the first visit: its own dependencies too
    const edges = isNew ? [...tables(p.dependencies)] : []
    const optional = isTable(p['optional-dependencies']) ? p['optional-dependencies'] : {}
    for (const e of newExtras) edges.push(...tables(optional[e]))
    for (const edge of edges) {
      if (!evaluateMarker(str(edge.marker) ?? '', env)) continue
      visit(find(edge), new Set(Array.isArray(edge.extra) ? edge.extra.map((x) => normalizeName(String(x))) : []))
    }
  }
  const out: Selected[] = []
  for (const p of selected.keys()) {
    if (roots.includes(p) || isLocal(p)) continue
    const name = str(p.name) ?? ''
    const version = str(p.version)
    const source = isTable(p.source) ? p.source : {}
    const sdist = isTable(p.sdist) ? [p.sdist] : []
    const wheels = tables(p.wheels)
    const hashes = hashesOf([...sdist, ...wheels], 'uv')
    if (version === undefined || hashes.length === 0) {
      throw new LockError(`${file}: ${name} has no hash in the lock (a ${Object.keys(source)[0] ?? 'local'} source): it cannot be installed with --require-hashes`, {
        hint: 'pin it from a package index (uv lock with an index URL), or build unlocked with --no-lock',
        data: {file, package: name},
      })
    }
    out.push({pin: {name, version, hashes, index: str(source.registry) ?? null}, wheels: wheels.map(wheelName).filter((w): w is string => w !== undefined), hasSdist: sdist.length > 0})
  }
  return out
}

/** pylock.toml (PEP 751): every package whose marker holds for the target (extras and dependency groups as asked). */
function pylockPins(doc: Table, req: StaticLockRequest, env: MarkerEnvironment): Selected[] {
  const file = req.file
  const environments = Array.isArray(doc.environments) ? doc.environments.map(String) : []
  if (environments.length > 0 && !environments.some((m) => evaluateMarker(m, env))) throw notCovered(file, req, `it is for ${environments.join(' | ')}`)
  const extras = new Set((req.extras ?? []).map(normalizeName))
  const groups = new Set(req.groups ?? (Array.isArray(doc['default-groups']) ? doc['default-groups'].map(String) : []))
  const out: Selected[] = []
  const names = new Set<string>()
  for (const p of tables(doc.packages)) {
    const name = str(p.name) ?? ''
    if (!evaluateMarker(str(p.marker) ?? '', env, extras, groups)) continue
    const rp = str(p['requires-python'])
    if (rp !== undefined && !satisfiesSpecifier(fullVersion(req.pythonVersion), rp)) continue
    if (isTable(p.directory)) continue
    const version = str(p.version)
    const sdist = isTable(p.sdist) ? [p.sdist] : []
    const wheels = tables(p.wheels)
    const hashes = hashesOf([...sdist, ...wheels, ...(isTable(p.archive) ? [p.archive] : [])], 'pylock')
    if (version === undefined || !isPep440Version(version) || hashes.length === 0) {
      throw new LockError(`${file}: ${name} has no version or no hash (a VCS or local source): it cannot be installed with --require-hashes`, {
        hint: 'pin it from a package index, or build unlocked with --no-lock',
        data: {file, package: name},
      })
    }
    if (names.has(normalizeName(name))) throw new LockError(`${file}: two entries of ${name} apply to python ${req.pythonVersion}, ${req.platform.name}`, {hint: 'regenerate the lock', data: {file, package: name}})
    names.add(normalizeName(name))
    out.push({pin: {name, version, hashes, index: str(p.index) ?? null}, wheels: wheels.map(wheelName).filter((w): w is string => w !== undefined), hasSdist: sdist.length > 0})
  }
  return out
}

/** A package with wheels only must have one that installs on the target (checked for Linux targets). */
function checkWheels(s: Selected, req: StaticLockRequest): void {
  if (s.hasSdist || s.wheels.length === 0) return
  const tgt = /^(x86_64|aarch64|i686|armv7|ppc64le|s390x)-(manylinux_2_(\d+)|unknown-linux-gnu)$/.exec(req.platform.uvTarget)
  if (tgt === null) return
  const arch = tgt[1] as string
  const glibc = tgt[3] === undefined ? 17 : Number(tgt[3])
  const minor = Number(req.pythonVersion.split('.')[1] ?? '0')
  const ok = s.wheels.some((w) => wheelFits(w, arch, glibc, minor))
  if (!ok) {
    throw notCovered(req.file, req, `${s.pin.name} ${s.pin.version} has no wheel for it (and no sdist): ${s.wheels.join(', ')}`, {package: s.pin.name})
  }
}

const LEGACY_MANYLINUX: Readonly<Record<string, number>> = {manylinux1: 5, manylinux2010: 12, manylinux2014: 17}

function wheelFits(wheel: string, arch: string, glibc: number, minor: number): boolean {
  const parts = wheel.replace(/\.whl$/, '').split('-')
  if (parts.length < 5) return true
  const [py, abi, plat] = parts.slice(-3) as [string, string, string]
  const pyOk = py.split('.').some((t) => {
    if (t === 'py3' || t === 'py2.py3') return true
    const m = /^(py|cp)3(\d+)$/.exec(t)
    if (!m) return false
    const v = Number(m[2])
    return m[1] === 'py' || abi === 'abi3' || abi === 'none' ? v <= minor : v === minor
  })
  const abiOk = abi.split('.').some((a) => a === 'none' || a === 'abi3' || a === `cp3${minor}`)
  const platOk = plat.split('.').some((p) => {
    if (p === 'any') return true
    const m = /^(manylinux_(\d+)_(\d+)|manylinux1|manylinux2010|manylinux2014|linux)_(.+)$/.exec(p)
    if (!m || m[4] !== arch) return false
    if (m[1] === 'linux') return false
    const need = m[2] !== undefined ? Number(m[2]) === 2 ? Number(m[3]) : 99 : (LEGACY_MANYLINUX[m[1] as string] ?? 99)
    return need <= glibc
  })
  return pyOk && abiOk && platOk
}

function render(pins: Pin[], req: StaticLockRequest): string {
  const sorted = [...pins].sort((a, b) => normalizeName(a.name).localeCompare(normalizeName(b.name)))
  const indexes = [...new Set(sorted.map((p) => p.index).filter((i): i is string => i !== null))].map((i) => maskCredentials(i, ''))
  const lines = [`# bento lock: read from ${req.file} (no resolver ran): python ${req.pythonVersion}, ${req.platform.name} (${req.platform.uvTarget}); every line hashed: install with --require-hashes`]
  for (const [i, url] of indexes.entries()) {
    const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(url)
    lines.push(remote ? `${i === 0 ? '--index-url' : '--extra-index-url'} ${url}` : `--find-links ${url}`)
  }
  for (const p of sorted) {
    lines.push(`${normalizeName(p.name)}==${p.version} \\`)
    const hs = [...new Set(p.hashes)].sort()
    hs.forEach((h, i) => lines.push(`    --hash=${h}${i < hs.length - 1 ? ' \\' : ''}`))
  }
  return lines.join('\n') + '\n'
}
