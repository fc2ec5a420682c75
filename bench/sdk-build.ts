/**
 * `bento build` ÷ `bentoml build` (BentoML 1.4.40, which must import the service) on image-SDK projects: the
 * image, the decorator and the Bento arguments live in Python (`bentoml.images.Image(...)`, `use_arguments`, a
 * for loop, local modules). A curve over project size: N local modules the service imports (each adds
 * requirements and image steps), N = 1, 10, 50 by default.
 *
 *   npx tsx bench/sdk-build.ts [--runs 5] [--sizes 1,10,50]
 *
 * Alternating runs, a fresh BENTOML_HOME per run (so bento really builds, instead of finding the same tag), one
 * warm-up run per tool, medians. `lock_python_packages=False` so neither tool resolves against PyPI (locked builds:
 * bench/lock-build.ts): what is compared is reading the project and writing the Bento. The services import only bentoml and
 * pydantic; a real service importing torch makes `bentoml build` slower still (bento's time does not change).
 * Prints a table with the ratio (lower is better); writes nothing into the repository.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const REPO = fileURLToPath(new URL('../', import.meta.url))
const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const VENV = process.env.BENTOML_1440_VENV ?? join(TOOLS, 'bentoml-1.4.40-venv')
const BIN = join(REPO, 'bin/run.js')

function args(): {runs: number; sizes: number[]} {
  const a = process.argv.slice(2)
  let runs = 5
  let sizes = [1, 10, 50]
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--runs') runs = Number(a[++i])
    else if (a[i] === '--sizes') sizes = (a[++i] ?? '').split(',').map(Number)
    else throw new Error(`usage: npx tsx bench/sdk-build.ts [--runs N] [--sizes 1,10,50] (unknown ${a[i]})`)
  }
  if (!(runs > 0) || sizes.some((n) => !(n > 0))) throw new Error('--runs and --sizes take positive numbers')
  return {runs, sizes}
}

/** An image-SDK project whose service imports `n` local modules. */
function project(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), `bench-sdk-${n}-`))
  mkdirSync(join(dir, 'parts'))
  writeFileSync(join(dir, 'parts/__init__.py'), '')
  const imports: string[] = []
  for (let i = 0; i < n; i++) {
    writeFileSync(
      join(dir, `parts/part${i}.py`),
      `PACKAGES = ["pkg-${i}-a", "pkg-${i}-b>=1.${i}"]\nNAME = "part${i}"\n`,
    )
    imports.push(`from parts import part${i}`)
  }
  writeFileSync(
    join(dir, 'service.py'),
    `from __future__ import annotations

import bentoml
import pydantic

${imports.join('\n')}

PARTS = [${Array.from({length: n}, (_, i) => `part${i}`).join(', ')}]


class BentoArgs(pydantic.BaseModel):
    python: str = "3.11"
    extra: list[str] = ["echo extra"]


bento_args = bentoml.use_arguments(BentoArgs)

image = bentoml.images.Image(python_version=bento_args.python, lock_python_packages=False).system_packages("curl")
for part in PARTS:
    image = image.python_packages(*part.PACKAGES)
for cmd in bento_args.extra:
    image = image.run(cmd)


@bentoml.service(
    image=image,
    envs=[{"name": "MODE", "value": "bench"}, {"name": "TOKEN", "stage": "build"}],
    labels={"parts": str(len(PARTS))},
    resources={"cpu": "1"},
    traffic={"timeout": 30},
)
class Bench:
    @bentoml.api
    def hi(self, name: str) -> str:
        return name
`,
  )
  writeFileSync(join(dir, 'bentofile.yaml'), 'service: "service:Bench"\ninclude:\n  - "*.py"\n  - "parts/*.py"\n')
  return dir
}

function timeRun(tool: 'bento' | 'bentoml', dir: string): number {
  const home = mkdtempSync(join(tmpdir(), 'bench-sdk-home-'))
  const env = {...process.env, BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true', PATH: `${join(VENV, 'bin')}:${process.env.PATH ?? ''}`}
  const [cmd, argv] = tool === 'bento' ? [process.execPath, [BIN, 'build', '--json']] : [join(VENV, 'bin/bentoml'), ['build', '--output', 'tag']]
  const t0 = performance.now()
  const r = spawnSync(cmd, argv, {cwd: dir, env, encoding: 'utf8'})
  const ms = performance.now() - t0
  rmSync(home, {recursive: true, force: true})
  if (r.status !== 0) throw new Error(`${tool} build failed in ${dir}:\n${r.stderr}${r.stdout}`)
  return ms
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function main(): void {
  const {runs, sizes} = args()
  if (!existsSync(join(VENV, 'bin/bentoml'))) throw new Error(`BentoML 1.4.40 venv missing at ${VENV}: run scripts/provision/bentoml-1.4.40-venv.sh`)
  if (!existsSync(join(REPO, 'dist/commands/index.js'))) throw new Error('dist/ is missing: run npm run build first')
  const rows: string[][] = []
  for (const n of sizes) {
    const dir = project(n)
    try {
      timeRun('bento', dir)
      timeRun('bentoml', dir)
      const bento: number[] = []
      const bentoml: number[] = []
      for (let i = 0; i < runs; i++) {
        bento.push(timeRun('bento', dir))
        bentoml.push(timeRun('bentoml', dir))
      }
      const a = median(bento)
      const b = median(bentoml)
      rows.push([String(n), `${(a / 1000).toFixed(2)} s`, `${(b / 1000).toFixed(2)} s`, (a / b).toFixed(2)])
      console.error(`N=${n}: bento ${bento.map((x) => x.toFixed(0)).join(', ')} ms; bentoml ${bentoml.map((x) => x.toFixed(0)).join(', ')} ms`)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }
  const out = ['| local modules | bento build | bentoml build 1.4.40 | ratio |', '| --- | --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)]
  console.log(`bento build ÷ bentoml build on an image-SDK project (median of ${runs} alternating runs, lower is better)\n`)
  console.log(out.join('\n'))
}

main()
