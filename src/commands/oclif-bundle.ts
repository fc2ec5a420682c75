/**
 * The entry of `dist/oclif.cjs` (scripts/bundle.mjs): every command line that is not a direct one (src/commands/
 * direct.ts) runs from this one CommonJS file, oclif and our commands included, through V8's code cache
 * (src/code-cache.ts) — instead of ≈ 300 ES and CommonJS modules resolved, read and compiled on each run.
 *
 * It is oclif's own `execute` and `Config.load`, unchanged but for one point: oclif loads the command table
 * (package.json `oclif.commands.target`, dist/commands/index.js) with `import()`, which a `vm.Script` cannot run;
 * in the bundle that `import()` is answered from `BUNDLED_MODULES` (scripts/bundle.mjs patches oclif's module loader).
 */
import {execute, settings} from '@oclif/core'
import {realpathSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import * as commandTable from './index.js'

export {processInterrupts} from '../interrupt.js'

/** No direct line is run from this bundle (bin/run.js asks dist/direct.cjs for those). */
export const runDirect = async (): Promise<boolean> => false

/**
 * The modules oclif may `import()` from the bundle, by absolute path: the command table only, dist/commands/index.js
 * beside the bundle (compared as real paths: oclif resolves the target with `require.resolve`, which follows links).
 */
export function bundledModule(file: string): unknown {
  const table = join(dirname(fileURLToPath(import.meta.url)), 'commands', 'index.js')
  return file === table || realPath(file) === realPath(table) ? commandTable : undefined
}

function realPath(file: string): string | undefined {
  try {
    return realpathSync(file)
  } catch {
    return undefined
  }
}

/**
 * oclif's `execute`, as bin/run.js ran it before (`dir`: bin/run.js's URL), never in oclif's TypeScript mode: with
 * NODE_ENV development or test and a tsconfig.json beside package.json (a checkout), oclif would look for the commands'
 * TypeScript source, loading TypeScript (+0.23 s of CPU on every command) and tsx. bento runs dist/ only.
 */
export async function runOclif(dir: string): Promise<void> {
  settings.enableAutoTranspile = false
  await execute({dir})
}
