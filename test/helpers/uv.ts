/** The real uv and wheels the lock tests resolve with (no network: the provisioned wheelhouse behind a local index). */
import {existsSync} from 'node:fs'
import {chmod, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {bentomlVenv, TOOLS} from './env.js'

/** The provisioned wheelhouse (`BENTO_WHEELHOUSE`, else the tools'; scripts/provision/wheelhouse.sh). */
export const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')

/** The real uv of the BentoML 1.4.40 venv. Fails, never skips, when missing. */
export function realUv(): string {
  const uv = bentomlVenv('1.4.40').uv
  if (!existsSync(uv)) throw new Error(`uv is missing at ${uv}: run scripts/provision/bentoml-1.4.40-venv.sh (CI does)`)
  return uv
}

/**
 * The real uv behind a wrapper script in `dir` (`BENTO_UV` for the code under test) that counts its `uv pip …` runs:
 * how a test sees whether a resolver ran.
 */
export async function countingUv(dir: string): Promise<{path: string; pipRuns: () => Promise<number>}> {
  const counter = join(dir, 'uv-pip-calls')
  const path = join(dir, 'uv-wrapper')
  await writeFile(path, `#!/bin/sh\n[ "$1" = pip ] && echo "$*" >> '${counter}'\nexec '${realUv()}' "$@"\n`)
  await chmod(path, 0o755)
  return {path, pipRuns: async () => (existsSync(counter) ? (await readFile(counter, 'utf8')).split('\n').filter(Boolean).length : 0)}
}
