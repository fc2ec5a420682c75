import {execFileSync, spawnSync} from 'node:child_process'
import {chmod, mkdir, mkdtemp, rm, symlink, truncate, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ConfigError, NotFoundError} from '../errors.js'
import {LARGE_FILE_BYTES, selectFiles} from './files.js'

/** Files as `path: content`; a value `{link: target}` makes a symlink; a path ending in `/` an empty dir. */
type Spec = Record<string, string | {link: string}>

let root: string
let ctx: string

async function make(spec: Spec, base = ctx): Promise<void> {
  for (const [rel, v] of Object.entries(spec)) {
    const p = join(base, rel)
    await mkdir(rel.endsWith('/') ? p : dirname(p), {recursive: true})
    if (rel.endsWith('/')) continue
    if (typeof v === 'string') await writeFile(p, v)
    else await symlink(v.link, p)
  }
}

const rels = async (include = ['*'], exclude: string[] = []): Promise<string[]> =>
  (await selectFiles({ctxDir: ctx, include, exclude})).files.map((f) => f.rel)

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bento-files-'))
  ctx = join(root, 'ctx')
  await mkdir(ctx)
})

afterEach(async () => {
  await chmod(join(ctx, 'private'), 0o755).catch(() => undefined)
  await rm(root, {recursive: true, force: true})
})

describe('selectFiles: rules', () => {
  it('returns files only, sorted in UTF-8 byte order, with abs, size and permission bits', async () => {
    await make({'b.py': 'xx', 'B.py': '', 'a/z.py': '', 'é.py': '', 'a.py': '', 'empty/': ''})
    await chmod(join(ctx, 'b.py'), 0o751)
    const {files, warnings} = await selectFiles({ctxDir: ctx, include: ['*'], exclude: []})
    expect(files.map((f) => f.rel)).toEqual(['B.py', 'a.py', 'a/z.py', 'b.py', 'é.py'])
    const b = files.find((f) => f.rel === 'b.py')
    expect(b).toMatchObject({size: 2, mode: 0o751})
    expect(b?.abs.endsWith(join('ctx', 'b.py'))).toBe(true)
    expect(b?.symlinkTarget).toBeUndefined()
    expect(warnings).toEqual([])
  })

  it('always ignores .git/, .venv/, venv/, __pycache__/ (at any depth) and .DS_Store — but not files named .git or venv', async () => {
    await make({
      '.git/config': '',
      '.venv/x.py': '',
      'venv/x.py': '',
      '__pycache__/a.pyc': '',
      '.DS_Store': '',
      'sub/.git': 'gitdir: x',
      'sub/venv': '',
      'sub/__pycache__/b.pyc': '',
      'sub/.DS_Store': '',
      'myvenv/x.py': '',
      '.env': '',
    })
    expect(await rels()).toEqual(['.env', 'myvenv/x.py', 'sub/.git', 'sub/venv'])
  })

  it('applies exclude after include; negations work in both lists', async () => {
    await make({'a.py': '', 'b.py': '', 'c.txt': '', 'data/x.csv': '', 'data/keep.csv': ''})
    expect(await rels(['*.py', 'data/'], ['b.py', 'data/', '!keep.csv'])).toEqual(['a.py', 'data/keep.csv'])
    expect(await rels(['*', '!*.txt'], [])).toEqual(['a.py', 'b.py', 'data/keep.csv', 'data/x.csv'])
  })

  it('.bentoignore patterns are relative to their directory and only apply below it', async () => {
    await make({
      '.bentoignore': '/build\n*.log\n',
      'build/a.py': '',
      'x.log': '',
      'sub/.bentoignore': '/build\n!keep.log\nsecret.txt\n',
      'sub/build/a.py': '',
      'sub/deep/build/a.py': '',
      'sub/keep.log': '',
      'sub/secret.txt': '',
      'other/secret.txt': '',
      'other/build/a.py': '',
    })
    expect(await rels()).toEqual([
      '.bentoignore',
      'other/build/a.py',
      'other/secret.txt',
      'sub/.bentoignore',
      'sub/deep/build/a.py',
    ])
  })

  it('a .bentoignore can ignore itself; CRLF line endings are handled', async () => {
    await make({'.bentoignore': '.bentoignore\r\n*.md\r\n', 'a.md': '', 'a.py': ''})
    expect(await rels()).toEqual(['a.py'])
  })
})

describe('selectFiles: warnings', () => {
  it('warns about include patterns that match no file, or only excluded ones', async () => {
    await make({'a.py': '', 'x.tmp': '', '.venv/lib.py': '', 'data/big.bin': ''})
    const {warnings} = await selectFiles({
      ctxDir: ctx,
      include: ['*.py', 'missing/', '# comment', 'x.tmp', '.venv/', '!a.py', 'data/'],
      exclude: ['x.tmp', 'data/'],
      configFile: 'pyproject.toml',
    })
    expect(warnings.map((w) => [w.file, w.key, w.severity])).toEqual([
      ['pyproject.toml', 'include[1]', 'warning'],
      ['pyproject.toml', 'include[3]', 'warning'],
      ['pyproject.toml', 'include[4]', 'warning'],
      ['pyproject.toml', 'include[6]', 'warning'],
    ])
    expect(warnings[0]?.message).toContain('"missing/"')
  })

  it(`warns about files larger than 10 MiB (strictly), without reading them`, async () => {
    await make({'big.bin': '', 'edge.bin': '', 'small.py': ''})
    await truncate(join(ctx, 'big.bin'), LARGE_FILE_BYTES + 1)
    await truncate(join(ctx, 'edge.bin'), LARGE_FILE_BYTES)
    const {files, warnings} = await selectFiles({ctxDir: ctx, include: ['*'], exclude: []})
    expect(files.map((f) => f.rel)).toEqual(['big.bin', 'edge.bin', 'small.py'])
    expect(warnings.map((w) => w.file)).toEqual(['big.bin'])
    expect(warnings[0]?.message).toMatch(/larger than 10MiB/)
  })

  it('skips FIFOs with a warning (BentoML would crash copying them)', async () => {
    await make({'a.py': ''})
    execFileSync('mkfifo', [join(ctx, 'pipe')])
    const {files, warnings} = await selectFiles({ctxDir: ctx, include: ['*'], exclude: []})
    expect(files.map((f) => f.rel)).toEqual(['a.py'])
    expect(warnings.map((w) => w.file)).toEqual(['pipe'])
  })
})

describe('selectFiles: symlinks (BentoML 1.4.20+ walk, made safe)', () => {
  it('keeps a symlinked file inside the context as a link, relative to its directory', async () => {
    await make({
      'real.py': 'x',
      'lib/util.py': '',
      'link.py': {link: 'real.py'},
      'lib/up.py': {link: '../real.py'},
      'chain.py': {link: 'link.py'},
    })
    await symlink(join(ctx, 'lib', 'util.py'), join(ctx, 'abs.py'))
    const {files, warnings} = await selectFiles({ctxDir: ctx, include: ['*'], exclude: []})
    const links = Object.fromEntries(files.filter((f) => f.symlinkTarget).map((f) => [f.rel, f.symlinkTarget]))
    expect(links).toEqual({'abs.py': 'lib/util.py', 'chain.py': 'real.py', 'lib/up.py': '../real.py', 'link.py': 'real.py'})
    expect(warnings).toEqual([])
  })

  it('does not walk symlinked directories, and says so when the link would be included', async () => {
    await make({'lib/a.py': '', 'lib-link': {link: 'lib'}, 'hidden-link': {link: 'lib'}})
    const {files, warnings} = await selectFiles({ctxDir: ctx, include: ['*'], exclude: ['hidden-link']})
    expect(files.map((f) => f.rel)).toEqual(['lib/a.py'])
    expect(warnings.map((w) => w.file)).toEqual(['lib-link'])
  })

  it('skips links out of the context, dangling links and loops, with a warning each', async () => {
    await make({'secret.txt': 'host secret'}, root)
    await make({
      'ok.py': '',
      'out.txt': {link: '../secret.txt'},
      'etc-link': {link: '/etc/hostname'},
      'dangling.py': {link: 'missing.py'},
      'loop-a': {link: 'loop-b'},
      'loop-b': {link: 'loop-a'},
      'into-ctx-root': {link: '.'},
    })
    const {files, warnings} = await selectFiles({ctxDir: ctx, include: ['*'], exclude: []})
    expect(files.map((f) => f.rel)).toEqual(['ok.py'])
    expect(warnings.map((w) => w.file).sort()).toEqual(['dangling.py', 'etc-link', 'into-ctx-root', 'loop-a', 'loop-b', 'out.txt'])
    expect(warnings.find((w) => w.file === 'into-ctx-root')?.message).toMatch(/symlinked directory not followed/)
    expect(warnings.find((w) => w.file === 'out.txt')?.message).toMatch(/outside the build context/)
  })

  it('warns when a kept link points at a file that is not selected (it would dangle in the Bento)', async () => {
    await make({'target.bin': '', 'link.bin': {link: 'target.bin'}})
    const {files, warnings} = await selectFiles({ctxDir: ctx, include: ['*'], exclude: ['target.bin']})
    expect(files.map((f) => f.rel)).toEqual(['link.bin'])
    expect(warnings.map((w) => w.file)).toEqual(['link.bin'])
  })

  it('reads a symlinked .bentoignore; ignores a dangling one', async () => {
    await make({'rules.txt': '*.log\n', 'a.log': '', 'sub/.bentoignore': {link: 'nowhere'}, 'sub/b.log': ''})
    await symlink('rules.txt', join(ctx, '.bentoignore'))
    expect(await rels(['*'], ['rules.txt'])).toEqual(['.bentoignore'])
  })
})

describe('selectFiles: errors', () => {
  it('rejects a missing build context', async () => {
    const err = await selectFiles({ctxDir: join(root, 'nope'), include: ['*'], exclude: []}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotFoundError)
    expect((err as NotFoundError).code).toBe('E_BUILD_CONTEXT')
  })

  it('rejects include entries starting with ../ (as BentoML)', async () => {
    const err = await selectFiles({ctxDir: ctx, include: ['*', '../shared/'], exclude: []}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).diagnostics.map((d) => d.key)).toEqual(['include[1]'])
  })

  it('reports every invalid pattern of include and exclude at once', async () => {
    const err = await selectFiles({ctxDir: ctx, include: ['ok', 'bad\\'], exclude: ['!', 'a[z-a]']}).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).diagnostics.map((d) => `${d.file} ${d.key}`)).toEqual([
      'bentofile.yaml include[1]',
      'bentofile.yaml exclude[0]',
      'bentofile.yaml exclude[1]',
    ])
  })

  it('locates invalid .bentoignore lines by file and line; rejects non-UTF-8', async () => {
    await make({'sub/.bentoignore': '# ok\nfoo\\ \n'})
    const err = await selectFiles({ctxDir: ctx, include: ['*'], exclude: []}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).diagnostics.map((d) => [d.file, d.line])).toEqual([['sub/.bentoignore', 2]])

    await writeFile(join(ctx, 'sub', '.bentoignore'), Buffer.from([0x66, 0xff, 0x0a]))
    const err2 = await selectFiles({ctxDir: ctx, include: ['*'], exclude: []}).catch((e: unknown) => e)
    expect(err2).toBeInstanceOf(ConfigError)
    expect((err2 as ConfigError).diagnostics[0]?.file).toBe('sub/.bentoignore')
  })

  describe('unreadable directories', () => {
    // Root reads anything, so as root the check runs in a child process as `nobody`.
    const asRoot = process.getuid?.() === 0
    // The compiled module, from where nobody can read it (test/global-setup.ts: the checkout, or a copy of it).
    const filesJs = (): string => join(process.env.BENTO_NOBODY_REPO ?? fileURLToPath(new URL('../../', import.meta.url)), 'dist/bento/files.js')

    async function run(exclude: string[]): Promise<{files?: string[]; error?: {name: string; code: string; message: string; hint?: string}}> {
      if (!asRoot) {
        try {
          return {files: (await selectFiles({ctxDir: ctx, include: ['*'], exclude})).files.map((f) => f.rel)}
        } catch (e) {
          const b = e as NotFoundError
          return {error: {name: b.name, code: b.code, message: b.message, hint: b.hint}}
        }
      }
      await chmod(root, 0o755)
      const script = `
        import {selectFiles} from ${JSON.stringify(filesJs())}
        try {
          const r = await selectFiles({ctxDir: ${JSON.stringify(ctx)}, include: ['*'], exclude: ${JSON.stringify(exclude)}})
          console.log(JSON.stringify({files: r.files.map((f) => f.rel)}))
        } catch (e) {
          console.log(JSON.stringify({error: {name: e.name, code: e.code, message: e.message, hint: e.hint}}))
        }`
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        uid: 65534,
        gid: 65534,
        cwd: root,
        encoding: 'utf8',
        env: {...process.env, HOME: root},
      })
      if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`)
      return JSON.parse(child.stdout.trim().split('\n').pop() as string)
    }

    it('is a clear error naming the directory and how to fix it', async () => {
      await make({'a.py': '', 'private/x.py': ''})
      await chmod(join(ctx, 'private'), 0o000)
      const r = await run([])
      expect(r.error).toMatchObject({name: 'NotFoundError', code: 'E_BUILD_CONTEXT'})
      expect(r.error?.message).toMatch(/Cannot read directory "private"/)
      expect(r.error?.hint).toMatch(/"private\/" to exclude/)
    })

    it('is not read at all when excluded (or always ignored)', async () => {
      await make({'a.py': '', 'private/x.py': '', '.venv/x.py': ''})
      await chmod(join(ctx, 'private'), 0o000)
      await chmod(join(ctx, '.venv'), 0o000)
      expect(await run(['private/'])).toEqual({files: ['a.py']})
      await chmod(join(ctx, '.venv'), 0o755)
    })
  })
})

describe('a file removed during the build (E7)', () => {
  it('removed between the listing and its lstat: E_BUILD_CONTEXT naming it, "run it again"', async () => {
    await make({'a.py': 'x', 'data/b.txt': 'b', 'data/c.txt': 'c'})
    const removing = selectFiles({
      ctxDir: ctx,
      include: ['*'],
      exclude: [],
      onListed: async (dirRel) => {
        if (dirRel === 'data') await rm(join(ctx, 'data', 'b.txt'))
      },
    })
    await expect(removing).rejects.toMatchObject({
      code: 'E_BUILD_CONTEXT',
      message: expect.stringMatching(/data\/b\.txt.*a file changed during the build; run it again/) as unknown,
      data: {path: join(ctx, 'data', 'b.txt')},
    })
  })

  it('a directory removed between the listing of its parent and its own: E_BUILD_CONTEXT, "run it again"', async () => {
    await make({'a.py': 'x', 'data/b.txt': 'b'})
    const removing = selectFiles({
      ctxDir: ctx,
      include: ['*'],
      exclude: [],
      onListed: async (dirRel) => {
        if (dirRel === '') await rm(join(ctx, 'data'), {recursive: true})
      },
    })
    await expect(removing).rejects.toMatchObject({
      code: 'E_BUILD_CONTEXT',
      message: expect.stringContaining('a file changed during the build; run it again') as unknown,
    })
  })
})
