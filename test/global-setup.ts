import {execFileSync} from 'node:child_process'
import {existsSync, rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {CORPUS_DIR, isCi} from './helpers/shared.js'

/**
 * Once per vitest run (vitest calls it for every project, in the main process): compile dist/ for the CLI tests
 * (bin/run.js → dist/), and say which tests a local run leaves out and why. In CI they are not left out: they fail.
 */
export default function setup(): void {
  if (process.env.BENTO_GLOBAL_SETUP_DONE === '1') return
  process.env.BENTO_GLOBAL_SETUP_DONE = '1'

  const notRun: string[] = []
  if (!isCi() && !existsSync(CORPUS_DIR)) {
    notRun.push(`the shared-corpus tests (src/config/corpus.test.ts, src/python/corpus.test.ts): ${CORPUS_DIR} is missing`)
  }
  if (!isCi() && process.getuid?.() !== 0) {
    notRun.push('the "needs-root" project (*.root.test.ts: tmpfs mounts): run the tests as root, as .ci/run does')
  }
  for (const line of notRun) process.stderr.write(`bento tests: NOT RUN: ${line}\n`)

  if (process.env.BENTO_SKIP_BUILD === '1') return
  const root = fileURLToPath(new URL('..', import.meta.url))
  // A clean dist/: a module deleted from src/ must not keep passing tests from an old build.
  rmSync(`${root}dist`, {recursive: true, force: true})
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  })
}
