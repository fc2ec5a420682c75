/**
 * bin/run.js and the bundles (issue 20, start-up): `bento --version` and `bento build` lines load dist/direct.cjs
 * (scripts/bundle.mjs) through V8's code cache (src/code-cache.ts), a build line dist/direct-build.cjs too; every
 * other command line goes to oclif from dist/oclif.cjs (oclif and our commands), through the code cache too; without
 * the bundles the same lines run from dist/, with the same output, help, errors and exit codes. Run
 * against a copy of the package whose dist/ links to the compiled one, so the bundles can be swapped or removed.
 */
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {REPO, run, tempDir} from '../helpers/env.js'
import {echoProject} from '../helpers/projects.js'

let root: string
let pkg: string

/**
 * A package whose dist/ entries link to the compiled ones; dist/direct.cjs as given (or none, and no bundle at all);
 * dist/oclif.cjs replaced by `oclif` when given.
 */
function layout(dir: string, bundle: 'real' | 'none' | string, oclif?: string): string {
  mkdirSync(join(dir, 'bin'), {recursive: true})
  mkdirSync(join(dir, 'dist'))
  copyFileSync(join(REPO, 'bin/run.js'), join(dir, 'bin/run.js'))
  copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'))
  for (const name of ['node_modules', 'templates', 'schema']) symlinkSync(join(REPO, name), join(dir, name))
  for (const entry of readdirSync(join(REPO, 'dist'))) {
    if (entry === 'direct.cjs' || (bundle === 'none' && entry.endsWith('.cjs')) || (oclif !== undefined && entry === 'oclif.cjs')) continue
    symlinkSync(join(REPO, 'dist', entry), join(dir, 'dist', entry))
  }
  if (bundle === 'real') copyFileSync(join(REPO, 'dist/direct.cjs'), join(dir, 'dist/direct.cjs'))
  else if (bundle !== 'none') writeFileSync(join(dir, 'dist/direct.cjs'), bundle)
  if (oclif !== undefined) writeFileSync(join(dir, 'dist/oclif.cjs'), oclif)
  return join(dir, 'bin/run.js')
}

beforeAll(async () => {
  root = await tempDir('bento-bin-bundle-')
  pkg = root
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

const STUB = `module.exports = {
  processInterrupts: () => ({onSignal() {}}),
  runDirect: async (argv) => { process.stdout.write('bundle: ' + argv.join(' ') + '\\n'); return true },
}
`

const OCLIF_STUB = `module.exports = {
  processInterrupts: () => ({onSignal() {}}),
  runDirect: async () => false,
  runOclif: async (dir) => { process.stdout.write('oclif bundle: ' + process.argv.slice(2).join(' ') + ' from ' + dir.split('/').slice(-2).join('/') + '\\n') },
}
`

describe('bin/run.js and dist/direct.cjs', () => {
  it('the bundles are built, the first small (what --version reads), and shipped', () => {
    expect(statSync(join(REPO, 'dist/direct.cjs')).size).toBeLessThan(64 * 1024)
    expect(existsSync(join(REPO, 'dist/direct-build.cjs'))).toBe(true)
    const pjson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {files: string[]; scripts: {build: string}}
    expect(pjson.files).toContain('dist')
    expect(pjson.scripts.build).toContain('scripts/bundle.mjs')
  })

  it('--version and build lines run from the bundle; other commands never load it', async () => {
    const bin = layout(join(pkg, 'stub'), STUB)
    expect((await run(process.execPath, [bin, '--version'])).stdout).toBe('bundle: --version\n')
    expect((await run(process.execPath, [bin, 'build', '-q', 'x'])).stdout).toBe('bundle: build -q x\n')
    const list = await run(process.execPath, [bin, 'list', '--help'])
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).not.toContain('bundle:')
    expect(list.stdout).toContain('USAGE')
  })

  it('without the bundle the same lines run from dist/, with the same output', async () => {
    const without = layout(join(pkg, 'none'), 'none')
    const withIt = layout(join(pkg, 'real'), 'real')
    const env = {TMPDIR: join(pkg, 'tmp-a')}
    mkdirSync(env.TMPDIR)
    const a = await run(process.execPath, [without, '--version'], {env})
    const b = await run(process.execPath, [withIt, '--version'], {env})
    expect(a.stdout).toMatch(/^bento-cli\/\d+\.\d+\.\d+ /)
    expect(b).toEqual(a)
    const project = await echoProject(join(pkg, 'project'), 'bundled')
    const build = async (bin: string, home: string) => {
      const r = await run(process.execPath, [bin, 'build', project, '--json'], {env: {...env, BENTOML_HOME: join(pkg, home)}})
      expect(r.code, r.stderr).toBe(0)
      const {durationMs: _d, path: _p, ...rest} = JSON.parse(r.stdout) as {durationMs: number; path: string}
      return rest
    }
    expect(await build(withIt, 'home-a')).toEqual(await build(without, 'home-b'))
  })

  it('keeps the code cache in <TMPDIR>/bento-code-cache-<uid> (0700, files 0600); NODE_DISABLE_COMPILE_CACHE=1: none', async () => {
    const bin = layout(join(pkg, 'cache'), 'real')
    const tmp = join(pkg, 'tmp-b')
    mkdirSync(tmp)
    const dir = join(tmp, `bento-code-cache-${process.getuid!()}`)
    const off = await run(process.execPath, [bin, '--version'], {env: {TMPDIR: tmp, NODE_DISABLE_COMPILE_CACHE: '1'}})
    expect(off.code).toBe(0)
    expect(existsSync(dir)).toBe(false)
    for (let i = 0; i < 2; i++) expect((await run(process.execPath, [bin, '--version'], {env: {TMPDIR: tmp}})).code).toBe(0)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    const files = readdirSync(dir)
    expect(files).toHaveLength(1)
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600)
    // A build line: the first bundle's cache for build lines, and the build bundle's.
    const project = await echoProject(join(pkg, 'cached-project'), 'cached')
    const built = await run(process.execPath, [bin, 'build', project], {env: {TMPDIR: tmp, BENTOML_HOME: join(pkg, 'home-c')}})
    expect(built.code, built.stderr).toBe(0)
    // <variant>-<8 hex of Node's flags>-<key>.v8
    expect(readdirSync(dir).map((f) => f.replace(/-[0-9a-f]{8}-[0-9a-f]{64}\.v8$/, '')).sort()).toEqual(['build', 'directbuild', 'version'])
  })

  it('a Docker command runs dockerode from dist/oclif.cjs: nothing of it from node_modules, no ssh2, no BuildKit session', async () => {
    // What the process required from node_modules, listed at exit. prune --dry-run makes a Docker client (and, with
    // no daemon, reports nothing to remove).
    const hook = join(pkg, 'loaded-hook.cjs')
    writeFileSync(hook, `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('/node_modules/')).map((k) => k.replace(/.*\\/node_modules\\//, '')).filter((k) => /^(dockerode|docker-modem|ssh2|cpu-features|@grpc|protobufjs)\\//.test(k))) + '\\n'))\n`)
    const r = await run(process.execPath, ['-r', hook, join(REPO, 'bin/run.js'), 'prune', '--dry-run', '--json'], {
      env: {BENTOML_HOME: join(pkg, 'home-docker'), DOCKER_HOST: 'unix:///nonexistent/bento-bin-bundle.sock'},
    })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(/^LOADED (.*)$/m.exec(r.stderr)?.[1] ?? 'null')).toEqual([])
    expect(readFileSync(join(REPO, 'dist/oclif.cjs'), 'utf8')).toContain('require_session().apply(this, arguments)')
    expect(readdirSync(join(REPO, 'dist/proto')).sort()).toEqual(['auth.proto', 'buildkit_status.proto'])
  })

  // With NODE_ENV development or test (vitest sets test, and the CLI children of the tests inherit it) and a
  // tsconfig.json beside package.json (a git checkout), oclif looks for the commands' TypeScript source: it loaded
  // TypeScript (≈ 9 MB, +0.23 s of CPU on every command) and tried to register tsx. bento runs dist/ only.
  it('NODE_ENV=development or test in a checkout: oclif loads neither TypeScript nor tsx, bundled or not', async () => {
    const hook = join(pkg, 'loaded-packages-hook.cjs')
    writeFileSync(hook, `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify([...new Set(Object.keys(require.cache).filter((k) => k.includes('/node_modules/')).map((k) => k.replace(/.*\\/node_modules\\//, '').split('/')[0]))]) + '\\n'))\n`)
    const unbundled = layout(join(pkg, 'none-ts'), 'none')
    copyFileSync(join(REPO, 'tsconfig.json'), join(pkg, 'none-ts', 'tsconfig.json'))
    for (const bin of [join(REPO, 'bin/run.js'), unbundled]) {
      for (const NODE_ENV of ['development', 'test']) {
        const r = await run(process.execPath, ['-r', hook, bin, 'list', '--json'], {env: {NODE_ENV, BENTOML_HOME: join(pkg, 'home-ts')}})
        expect(r.code, r.stderr).toBe(0)
        const loaded = JSON.parse(/^LOADED (.*)$/m.exec(r.stderr)?.[1] ?? 'null') as string[]
        expect(loaded.filter((p) => p === 'typescript' || p === 'tsx' || p === 'ts-node'), `${bin} NODE_ENV=${NODE_ENV}`).toEqual([])
      }
    }
  })

  it('every other command line runs oclif from dist/oclif.cjs (a direct line that needs oclif too); --version never loads it', async () => {
    expect(statSync(join(REPO, 'dist/oclif.cjs')).isFile()).toBe(true)
    const bin = layout(join(pkg, 'oclif-stub'), 'real', OCLIF_STUB)
    for (const argv of [['list'], ['get', 'x:y', '--json'], ['models', 'list'], ['containerize', '--help'], ['nope'], ['build', '--help']]) {
      const r = await run(process.execPath, [bin, ...argv])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe(`oclif bundle: ${argv.join(' ')} from bin/run.js\n`)
    }
    const version = await run(process.execPath, [bin, '--version'])
    expect(version.stdout).toMatch(/^bento-cli\/\d+\.\d+\.\d+ /)
  })

  it('oclif from dist/oclif.cjs prints what oclif from dist/ prints: help, results, error JSON, exit codes', async () => {
    const without = layout(join(pkg, 'oclif-none'), 'none')
    const withIt = layout(join(pkg, 'oclif-real'), 'real')
    const home = join(pkg, 'oclif-home')
    const project = await echoProject(join(pkg, 'oclif-project'), 'oclifbundle')
    const env = {TMPDIR: join(pkg, 'tmp-c'), BENTOML_HOME: home, COLUMNS: '100'}
    mkdirSync(env.TMPDIR)
    const built = await run(process.execPath, [withIt, 'build', project, '--json'], {env})
    expect(built.code, built.stderr).toBe(0)
    const {tag} = JSON.parse(built.stdout) as {tag: string}
    // The first line from the bundle writes the code cache, the others run from it.
    const lines = [
      ['list', '--json'],
      ['--help'],
      ['get', tag],
      ['get', 'missing:tag', '--json'],
      ['models', 'list', '--json'],
      ['containerize', '--help'],
      ['list', '--nope'],
      ['nope'],
    ]
    const pidless = (text: string) => text.replace(/\(node:\d+\)/g, '(node:PID)')
    const same = async (argv: string[]) => {
      const [a, b] = await Promise.all([without, withIt].map(async (bin) => run(process.execPath, [bin, ...argv], {env})))
      expect({argv, ...b!, stderr: pidless(b!.stderr)}).toEqual({argv, ...a!, stderr: pidless(a!.stderr)})
    }
    await same(lines[0]!)
    await Promise.all(lines.slice(1).map(same))
    expect(readdirSync(join(env.TMPDIR, `bento-code-cache-${process.getuid!()}`)).filter((f) => f.startsWith('oclif-'))).toHaveLength(1)
  })
})
