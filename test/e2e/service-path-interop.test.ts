/**
 * `service:` paths against the REAL `bentoml build` 1.4.40 (issue 16, scope 8): for each form, the same temp project
 * built by `bento build` and by `bentoml build` into one store gives the same `service:` in bento.yaml and the same
 * src/ file set. No Docker.
 */
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {removeDir, tempDir} from '../helpers/env.js'
import {bentomlCaller} from '../helpers/zygote.js'
import {filesUnder} from '../helpers/files.js'

const SVC = `import bentoml


@bentoml.service
class Svc:
    @bentoml.api
    def hello(self, name: str) -> str:
        return name
`
// No lock on either side (`lock_packages` false): what is compared is the service path and the src/ files, and a lock
// would have the real `bentoml build` resolve against the index for each case (≈ 5 s of the file's time each).
const pyproject = (service: string, python = ''): string =>
  `[project]\nname = "greeting"\nversion = "0.1.0"\n\n[tool.bentoml.build]\nservice = "${service}"\n\n[tool.bentoml.build.python]\nlock_packages = false\n${python}`
const bentofile = (service: string): string => `service: "${service}"\npython:\n  lock_packages: false\n`

interface Case {
  name: string
  files: Record<string, string>
  /** `service:` of bento.yaml, as both write it. */
  service: string
  /** Environment of the real `bentoml build` (a src layout's flattened module is importable when installed). */
  env?: (dir: string) => NodeJS.ProcessEnv
}

const CASES: Case[] = [
  {name: 'src layout, src.pkg.service:Svc', files: {'pyproject.toml': pyproject('src.pkg.service:Svc'), 'src/pkg/__init__.py': '', 'src/pkg/service.py': SVC}, service: 'src.pkg.service:Svc'},
  {name: 'src layout, src/pkg/service.py:Svc', files: {'pyproject.toml': pyproject('src/pkg/service.py:Svc'), 'src/pkg/service.py': SVC}, service: 'src.pkg.service:Svc'},
  {
    name: 'src layout kept (is_src_layout = false), src.pkg.service:Svc',
    files: {'pyproject.toml': pyproject('src.pkg.service:Svc', 'is_src_layout = false\n'), 'src/pkg/service.py': SVC},
    service: 'src.pkg.service:Svc',
  },
  {
    name: 'src layout, pkg.service:Svc (src/ on PYTHONPATH for bentoml build, as when installed)',
    files: {'pyproject.toml': pyproject('pkg.service:Svc'), 'src/pkg/__init__.py': '', 'src/pkg/service.py': SVC},
    service: 'pkg.service:Svc',
    env: (dir) => ({PYTHONPATH: join(dir, 'src')}),
  },
  {name: 'service.py:Svc', files: {'bentofile.yaml': bentofile('service.py:Svc'), 'service.py': SVC}, service: 'service:Svc'},
  {name: 'sub/service.py:Svc without sub/__init__.py', files: {'bentofile.yaml': bentofile('sub/service.py:Svc'), 'sub/service.py': SVC}, service: 'sub.service:Svc'},
  {name: './sub/service.py:Svc in a package', files: {'bentofile.yaml': bentofile('./sub/service.py:Svc'), 'sub/__init__.py': '', 'sub/service.py': SVC}, service: 'sub.service:Svc'},
  {
    name: 'classic service:svc',
    files: {'bentofile.yaml': bentofile('service:svc'), 'service.py': 'import bentoml\n\nsvc = bentoml.legacy.Service("classic")\n'},
    service: 'service:svc',
  },
]

async function bentoOf(path: string): Promise<{service: string; src: string[]}> {
  const yaml = parse(await readFile(join(path, 'bento.yaml'), 'utf8')) as {service: string}
  return {service: yaml.service, src: await filesUnder(join(path, 'src'))}
}

/** The real `bentoml` CLI imported once for the file (test/helpers/zygote.ts): each call a fork of it. */
const cli = bentomlCaller()
const runBentoml = cli.bentoml
afterAll(async () => {
  await cli.close()
})

describe('service paths: bento build ⇄ the real bentoml build 1.4.40', () => {
  let root: string
  let home: string

  beforeAll(async () => {
    root = await tempDir('bento-service-path-interop-')
    home = join(root, 'home')
  })
  afterAll(async () => {
    await removeDir(root)
  })

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s: the same service: and src/ files', async (_name, c, i) => {
    const dir = join(root, `p${i}`)
    for (const [name, text] of Object.entries(c.files)) {
      await mkdir(dirname(join(dir, name)), {recursive: true})
      await writeFile(join(dir, name), text)
    }
    const ours = await runBentoInProcess(['build', '--json', dir], {env: {BENTOML_HOME: home}})
    expect(ours.code, ours.stdout + ours.stderr).toBe(0)
    const oursBento = await bentoOf((JSON.parse(ours.stdout) as {path: string}).path)

    const real = await runBentoml(['build', '--output', 'tag'], home, {cwd: dir, version: '1.4.40', env: c.env?.(dir) ?? {}})
    expect(real.code, real.stderr + real.stdout).toBe(0)
    const tag = /__tag__:(\S+)/.exec(real.stdout)?.[1] ?? ''
    const [name = '', version = ''] = tag.split(':')
    const realBento = await bentoOf(join(home, 'bentos', name, version))

    expect(realBento.service).toBe(c.service)
    expect(oursBento).toEqual(realBento)
  })
})
