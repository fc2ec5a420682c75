import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

// The CLI tests run the compiled binary (bin/run.js -> dist/), so compile once per test run.
export default function setup(): void {
  if (process.env.BENTO_SKIP_BUILD === '1') return
  const root = fileURLToPath(new URL('..', import.meta.url))
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  })
}
