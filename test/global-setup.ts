import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {CORPUS_DIR, isCi} from './helpers/shared.js'

/**
 * Once per vitest run (vitest calls it for every project, in the main process): compile dist/ for the CLI tests
 * (bin/run.js → dist/), and say which tests a local run leaves out and why. In CI they are not left out: they fail.
 *
 * Every temp dir of the run (the tests', the CLI's and BentoML's children's) lives under one TMPDIR made here and
 * removed at the end, so a test that forgets to clean up, or a run that is killed mid-way by the next one's
 * teardown, never piles up gigabytes in /tmp.
 */
export default function setup(): (() => void) | undefined {
  if (process.env.BENTO_GLOBAL_SETUP_DONE === '1') return undefined
  process.env.BENTO_GLOBAL_SETUP_DONE = '1'
  const runTmp = mkdtempSync(join(tmpdir(), 'bento-vitest-'))
  // As /tmp itself: tests run children as other users (uid 65534), which need a temp dir of their own too.
  chmodSync(runTmp, 0o1777)
  process.env.TMPDIR = runTmp
  const teardown = (): void => {
    rmSync(runTmp, {recursive: true, force: true})
  }

  const notRun: string[] = []
  if (!isCi() && !existsSync(CORPUS_DIR)) {
    notRun.push(`the shared-corpus tests (src/config/corpus.test.ts, src/python/corpus.test.ts): ${CORPUS_DIR} is missing`)
  }
  if (!isCi() && process.getuid?.() !== 0) {
    notRun.push('the "needs-root" project (*.root.test.ts: tmpfs mounts): run the tests as root, as .ci/run does')
  }
  for (const line of notRun) process.stderr.write(`bento tests: NOT RUN: ${line}\n`)

  const root = fileURLToPath(new URL('..', import.meta.url))
  if (process.env.BENTO_SKIP_BUILD !== '1') {
    // A clean dist/: a module deleted from src/ must not keep passing tests from an old build.
    rmSync(`${root}dist`, {recursive: true, force: true})
    execFileSync(process.execPath, [`${root}scripts/compile.mjs`], {cwd: root, stdio: 'inherit'})
    // The direct path's bundle (dist/direct.cjs), as `npm run build` makes it: the CLI under test is the shipped one.
    execFileSync(process.execPath, [`${root}scripts/bundle.mjs`], {cwd: root, stdio: 'inherit'})
  }
  process.env.BENTO_NOBODY_REPO = cliForNobody(root, runTmp)
  return teardown
}

/**
 * Where a child running as `nobody` (uid 65534: the tests of unreadable files, as root) finds the CLI: the checkout
 * itself when nobody can read it, else a copy of what the CLI runs from (bin, dist, templates, schema, package.json,
 * node_modules) in the run's temp dir. A checkout under a private directory (mode 0700, as `mktemp -d` makes it, or a
 * home directory) is out of nobody's reach.
 */
function cliForNobody(root: string, runTmp: string): string {
  if (process.getuid?.() !== 0) return root
  const probe = spawnSync(process.execPath, ['-e', 'require("node:fs").accessSync(process.argv[1], require("node:fs").constants.R_OK)', join(root, 'bin/run.js')], {
    uid: 65534,
    gid: 65534,
  })
  if (probe.status === 0) return root
  const copy = join(runTmp, 'bento-cli')
  mkdirSync(copy, {mode: 0o755})
  for (const entry of ['bin', 'dist', 'templates', 'schema', 'package.json', 'node_modules']) {
    if (existsSync(join(root, entry))) cpSync(join(root, entry), join(copy, entry), {recursive: true, dereference: entry === 'node_modules'})
  }
  execFileSync('chmod', ['-R', 'a+rX', copy])
  process.stderr.write(`bento tests: nobody (uid 65534) cannot read ${root}: its children run the CLI from a copy in ${copy}\n`)
  return copy
}
