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
