#!/usr/bin/env node
/**
 * Issue 20, start-up of every command line: CPU time (`perf stat -e task-clock`, user + system of the process tree)
 * of `node -e 0` (the floor) and of bento command lines, alternating, median of N runs (default 21).
 *
 *   node bench/startup-commands.mjs [runs]      (after `npm run build`; needs perf)
 *
 * A fresh BENTOML_HOME with one Bento (a tiny SDK service, built once) is made under os.tmpdir() and removed at the end.
 */
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const runs = Number(process.argv[2] ?? 21)
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'bento-startup-'))
const home = join(dir, 'home')
const project = join(dir, 'project')
mkdirSync(project)
writeFileSync(join(project, 'service.py'), 'import bentoml\n\n@bentoml.service\nclass Svc:\n    @bentoml.api\n    def hi(self, x: str) -> str:\n        return x\n')
writeFileSync(join(project, 'bentofile.yaml'), 'service: "service:Svc"\npython:\n  lock_packages: false\n')
const env = {...process.env, BENTOML_HOME: home}
try {
  const built = spawnSync(process.execPath, [bin, 'build', '--json'], {cwd: project, env, encoding: 'utf8'})
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`)
  const tag = JSON.parse(built.stdout).tag
  const lines = {
    'node -e 0': [process.execPath, '-e', '0'],
    'bento --version': [process.execPath, bin, '--version'],
    'bento list': [process.execPath, bin, 'list'],
    [`bento get <tag>`]: [process.execPath, bin, 'get', tag],
    'bento models list': [process.execPath, bin, 'models', 'list'],
    'bento containerize --help': [process.execPath, bin, 'containerize', '--help'],
    'bento get missing:tag (exit 4)': [process.execPath, bin, 'get', 'missing:tag'],
  }
  const samples = Object.fromEntries(Object.keys(lines).map((k) => [k, []]))
  for (let i = -1; i < runs; i++) {
    for (const [name, argv] of Object.entries(lines)) {
      const r = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '--', ...argv], {cwd: project, env, encoding: 'utf8'})
      const line = r.stderr.split('\n').find((l) => l.includes('task-clock'))
      if (line === undefined) throw new Error(`perf: ${r.stderr}`)
      if (i >= 0) samples[name].push(Number(line.split(',')[0]))
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const floor = median(samples['node -e 0'])
  process.stdout.write(`CPU ms (task-clock), median of ${runs}, Node ${process.version}\n`)
  for (const [name, xs] of Object.entries(samples)) {
    process.stdout.write(`${name.padEnd(34)} ${median(xs).toFixed(0).padStart(5)} ms  ${(median(xs) / floor).toFixed(2)}×\n`)
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}
