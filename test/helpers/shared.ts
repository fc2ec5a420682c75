/**
 * The shared reference material lives next to the repository: `../shared` from the repository root (never an
 * absolute path). In CI (`CI=true`, as `.ci/run` sets) a missing piece fails the run; in a local run the tests
 * that need it are skipped, and test/global-setup.ts says which.
 */
import {existsSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

/** `<repo>/../shared`. */
export const SHARED = resolve(REPO, '..', 'shared')

/** The shared corpus of real bentofiles and services (with its INDEX.md). */
export const CORPUS_DIR = join(SHARED, 'corpus', 'bentofiles')

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1'
}

/**
 * Whether `dir` (under ../shared) is there. Missing in CI: throws, so the test file fails loudly instead of
 * passing with nothing run.
 */
export function sharedPresent(dir: string): boolean {
  if (existsSync(dir)) return true
  if (isCi()) throw new Error(`${dir} is missing: CI runs every test; place the shared corpus at ../shared next to the repository`)
  return false
}
