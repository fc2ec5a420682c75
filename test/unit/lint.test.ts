/** `npm run lint` includes the circular-import check (madge), and the check does catch a cycle, type imports too. */
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {REPO, run, tempDir} from '../helpers/env.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, {recursive: true, force: true})
})

describe('the circular-import check', () => {
  it('is part of npm run lint, over src/', async () => {
    const scripts = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {scripts: Record<string, string>}).scripts
    expect(scripts.lint).toContain('npm run lint:cycles')
    expect(scripts['lint:cycles']).toMatch(/^madge --circular .* src$/)
  })

  it('fails on a cycle, also one made only of `import type`', async () => {
    const dir = await tempDir('bento-cycles-')
    dirs.push(dir)
    await mkdir(join(dir, 'src'))
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({compilerOptions: {module: 'NodeNext', moduleResolution: 'NodeNext'}}))
    await writeFile(join(dir, 'src/a.ts'), "import type {B} from './b.js'\nexport interface A {b?: B}\n")
    await writeFile(join(dir, 'src/b.ts'), "import type {A} from './a.js'\nexport interface B {a?: A}\n")
    await writeFile(join(dir, 'src/c.ts'), "import type {A} from './a.js'\nexport const c: A = {}\n")
    const command = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {scripts: Record<string, string>}).scripts['lint:cycles']!
    const [, ...args] = command.split(' ')
    const r = await run(join(REPO, 'node_modules/.bin/madge'), args, {cwd: dir})
    expect(r.code, r.stdout + r.stderr).not.toBe(0)
    expect(r.stdout).toMatch(/a\.ts > b\.ts/)
  })
})

describe('the layer rule (docs/architecture.md "may import", eslint.config.js LAYERS)', () => {
  const lint = async (filePath: string, code: string): Promise<string[]> => {
    const {ESLint} = await import('eslint')
    const eslint = new ESLint({cwd: REPO})
    const [result] = await eslint.lintText(code, {filePath: join(REPO, filePath)})
    return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message.split(' (')[0]}`)
  }

  it('refuses an import a folder may not make, static or dynamic, at any depth', async () => {
    expect(await lint('src/python/eval/x.ts', "import {a} from '../../store/home.js'\nexport const b = a\n")).toEqual([
      "no-restricted-imports: '../../store/home.js' import is restricted from being used by a pattern. src/python/ may import only bentoml, errors.js, cleanup.js, reporter.js, byte-size.js, version.js, yaml-safety.js, tar-writer.js from src/",
    ])
    expect(await lint('src/commands/x.ts', "export const f = async () => import('../docker/dockerode-client.js')\n")).toHaveLength(1)
    expect(await lint('src/bento/x.ts', "import {a} from '../docker/context.js'\nexport const b = a\n")).toHaveLength(1)
    expect(await lint('src/bentoml/x.ts', "import {a} from '../cleanup.js'\nexport const b = a\n")).toHaveLength(1)
    expect(await lint('src/errors.ts', "import {a} from './store/home.js'\nexport const b = a\n")).toHaveLength(1)
  })

  it('lets through what the table allows, and a folder its own files', async () => {
    expect(await lint('src/python/eval/x.ts', "import {a} from '../parse/index.js'\nimport {b} from '../../bentoml/tag.js'\nexport const c = [a, b]\n")).toEqual([])
    expect(await lint('src/commands/x.ts', "export const f = async () => [await import('../docker/index.js'), await import('../services/build.js')]\n")).toEqual([])
    expect(await lint('src/bento/x.ts', "import {a} from '../docker/labels.js'\nimport {b} from '../reporter.js'\nexport const c = [a, b]\n")).toEqual([])
  })

  it('is the table of docs/architecture.md, row for row', async () => {
    const {LAYERS, LEAVES} = (await import(join(REPO, 'eslint.config.js'))) as {LAYERS: Record<string, string[]>; LEAVES: string[]}
    const doc = await readFile(join(REPO, 'docs/architecture.md'), 'utf8')
    const rows = new Map<string, string[]>()
    for (const m of doc.matchAll(/^\| `src\/([a-z0-9]+)\/` \|.*\| ([^|]+) \|$/gm)) {
      const cell = m[2]!.split(',').map((t) => t.replace(/\(.*\)/, '').trim().replaceAll('`', ''))
      rows.set(m[1]!, cell.flatMap((t) => (t === 'leaves' ? LEAVES : [/\.js$|\//.test(t) || !['errors', 'interrupt'].includes(t) ? t : `${t}.js`])))
    }
    expect(Object.fromEntries([...rows].map(([k, v]) => [k, [...v].sort()]))).toEqual(
      Object.fromEntries(Object.entries(LAYERS).map(([k, v]) => [k, [...v].sort()])),
    )
  })
})
