/**
 * Locked builds: `bento build` with its uv lock (first build: uv resolves; a rebuild with unchanged inputs: the same
 * Bento, no resolver; a rebuild after a code edit: the cached lock, no resolver) side by side with `bentoml build`
 * 1.4.40, which locks with uv on every build (first build, and a rebuild of the unchanged project). Both resolve the
 * same project offline from the provisioned wheelhouse (`no_index` + `find_links`), with the same uv executable
 * (the 1.4.40 venv's) and uv's own cache warm (one warm-up run each), so what differs is the work around the
 * resolver and whether it runs at all.
 *
 *   npx tsx bench/lock-build.ts [--runs 5]
 *
 * Alternating runs, medians; a fresh BENTOML_HOME per first build. Writes nothing into the repository.
 */
import {spawnSync} from 'node:child_process'
import {appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const REPO = fileURLToPath(new URL('../', import.meta.url))
const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const VENV = process.env.BENTOML_1440_VENV ?? join(TOOLS, 'bentoml-1.4.40-venv')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const BIN = join(REPO, 'bin/run.js')

function runs(): number {
  const a = process.argv.slice(2)
  if (a.length === 0) return 5
  if (a[0] === '--runs' && Number(a[1]) > 0) return Number(a[1])
  throw new Error('usage: npx tsx bench/lock-build.ts [--runs N]')
}

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-lock-'))
  writeFileSync(join(dir, 'service.py'), 'import bentoml\n\n\n@bentoml.service\nclass Locked:\n    @bentoml.api\n    def hi(self) -> str:\n        return "hi"\n')
  writeFileSync(
    join(dir, 'bentofile.yaml'),
    `service: "service:Locked"\ninclude: ["*.py"]\npython:\n  packages: [scikit-learn, numpy]\n  no_index: true\n  find_links: ["${WHEELHOUSE}"]\n`,
  )
  return dir
}

function timed(cmd: string, args: string[], cwd: string, env: Record<string, string>): number {
  const t0 = performance.now()
  const r = spawnSync(cmd, args, {cwd, env: {...process.env, ...env}, encoding: 'utf8'})
  const ms = performance.now() - t0
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  return ms
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

function main(): void {
  const uv = join(VENV, 'bin/uv')
  if (!existsSync(uv) || !existsSync(join(VENV, 'bin/bentoml'))) throw new Error(`the BentoML 1.4.40 venv (with uv) is missing at ${VENV}`)
  const n = runs()
  const dir = project()
  const root = mkdtempSync(join(tmpdir(), 'bench-lock-homes-'))
  const bentoEnv = (home: string): Record<string, string> => ({BENTOML_HOME: home, BENTO_UV: uv})
  const bentomlEnv = (home: string): Record<string, string> => ({BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true', PATH: `${join(VENV, 'bin')}:${process.env.PATH ?? ''}`})
  const first: number[] = []
  const unchanged: number[] = []
  const cached: number[] = []
  const bentoml: number[] = []
  const bentomlAgain: number[] = []
  try {
    for (let i = -1; i < n; i++) {
      const home = join(root, `bento-${i + 1}`)
      const a = timed(process.execPath, [BIN, 'build', dir, '-q'], dir, bentoEnv(home))
      const u = timed(process.execPath, [BIN, 'build', dir, '-q'], dir, bentoEnv(home))
      appendFileSync(join(dir, 'service.py'), `# edit ${i}\n`)
      const b = timed(process.execPath, [BIN, 'build', dir, '-q'], dir, bentoEnv(home))
      const c = timed(join(VENV, 'bin/bentoml'), ['build', '--output', 'tag'], dir, bentomlEnv(join(root, `bentoml-${i + 1}`)))
      const d = timed(join(VENV, 'bin/bentoml'), ['build', '--output', 'tag'], dir, bentomlEnv(join(root, `bentoml-${i + 1}`)))
      if (i >= 0) {
        first.push(a)
        unchanged.push(u)
        cached.push(b)
        bentoml.push(c)
        bentomlAgain.push(d)
      }
    }
  } finally {
    rmSync(root, {recursive: true, force: true})
    rmSync(dir, {recursive: true, force: true})
  }
  const row = (name: string, xs: number[]): string => `| ${name} | ${(median(xs) / 1000).toFixed(2)} s | ${(median(xs) / median(bentoml)).toFixed(2)}× |`
  console.log(`Locking scikit-learn + numpy + bentoml 1.4.40 offline from the wheelhouse; ${n} runs, medians\n`)
  console.log('| build | time | ÷ bentoml build 1.4.40 |')
  console.log('| --- | --- | --- |')
  console.log(row('`bentoml build` 1.4.40, first (uv pip compile)', bentoml))
  console.log(row('`bentoml build` 1.4.40, unchanged project (uv pip compile again)', bentomlAgain))
  console.log(row('`bento build`, first (uv pip compile --generate-hashes)', first))
  console.log(row('`bento build`, unchanged inputs (same Bento, no uv run)', unchanged))
  console.log(row('`bento build` after a code edit (cached lock: no uv run)', cached))
}

main()
