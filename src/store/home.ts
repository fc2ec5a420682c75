import {constants} from 'node:fs'
import {access, mkdir, stat} from 'node:fs/promises'
import path from 'node:path'

import {diskFullError, isDiskFull, StoreError} from '../errors.js'
import {expandUser, expandVars} from '../bentoml/pypath.js'
import {isDirectory, isErrno} from './fs-utils.js'

export {expandUser, expandVars}

/** The sub directories BentoML's `validate_or_create_dir` makes under BENTOML_HOME. */
export const HOME_SUBDIRS = ['bentos', 'models', 'envs', 'tmp'] as const

/** BentoML's `expand_env_var`: expandvars then expanduser, repeated until the value stops changing. */
export function expandEnvVar(value: string, env: NodeJS.ProcessEnv, homedir: string): string {
  let current = value
  // BentoML loops forever on a self-referencing variable (A=$A/x); we stop after a bounded number of rounds.
  for (let round = 0; round < 64; round++) {
    const next = expandUser(expandVars(current, env), env, homedir)
    if (next === current) return next
    current = next
  }
  return current
}

/** `$BENTOML_HOME` (expanded like BentoML) or `~/bentoml`. An empty BENTOML_HOME counts as unset. */
export function bentomlHome(env: NodeJS.ProcessEnv, homedir: string): string {
  const raw = env.BENTOML_HOME
  if (raw !== undefined && raw !== '') return expandEnvVar(raw, env, homedir)
  return path.join(expandUser('~', env, homedir), 'bentoml')
}

function notWritable(dir: string, cause: unknown): StoreError {
  if (isDiskFull(cause)) return diskFullError(`No space left on the device: cannot create ${dir}`, cause, {path: dir})
  return new StoreError(`BentoML home ${dir} is not writable`, {
    code: 'E_STORE_NOT_WRITABLE',
    cause,
    hint: 'Fix the permissions of that directory, or set BENTOML_HOME to a writable directory.',
    data: {path: dir},
  })
}

/**
 * `mkdir -p`, one level at a time: Node's `mkdir(dir, {recursive: true})` reports some failures (e.g. ENOSPC)
 * as ENOENT, which would hide a full disk.
 */
async function makeDirs(dir: string): Promise<void> {
  const parent = path.dirname(dir)
  try {
    await mkdir(dir)
    return
  } catch (error) {
    if (isErrno(error, 'EEXIST') && (await isDirectory(dir))) return
    if (!isErrno(error, 'ENOENT') || parent === dir) throw error
  }
  await makeDirs(parent)
  try {
    await mkdir(dir)
  } catch (error) {
    if (!(isErrno(error, 'EEXIST') && (await isDirectory(dir)))) throw error
  }
}

export interface EnsureHomeOptions {
  /** Check that the directories are writable too (default true). Read-only commands pass false. */
  writable?: boolean
}

/**
 * As BentoML's `validate_or_create_dir(home, home/bentos, home/models, home/envs, home/tmp)`: create what is
 * missing, fail when one of them exists but is not a directory. Throws `StoreError` `E_STORE_NOT_WRITABLE`,
 * `E_STORE_NOT_A_DIRECTORY` or `E_DISK_FULL` (ENOSPC / EDQUOT).
 */
export async function ensureHome(home: string, options: EnsureHomeOptions = {}): Promise<void> {
  const dirs = [home, ...HOME_SUBDIRS.map((sub) => path.join(home, sub))]
  for (const dir of dirs) {
    let isDir: boolean | null = null
    try {
      isDir = (await stat(dir)).isDirectory()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOTDIR') isDir = false
      else if (code !== 'ENOENT') throw notWritable(dir, error)
    }
    if (isDir === false) {
      throw new StoreError(`${dir} is not a directory`, {
        code: 'E_STORE_NOT_A_DIRECTORY',
        hint: 'BENTOML_HOME and its bentos/, models/, envs/ and tmp/ must be directories; move that file away.',
        data: {path: dir},
      })
    }
    if (isDir === null) {
      try {
        await makeDirs(dir)
      } catch (error) {
        throw notWritable(dir, error)
      }
    }
    if (options.writable !== false) {
      try {
        await access(dir, constants.W_OK | constants.X_OK)
      } catch (error) {
        throw notWritable(dir, error)
      }
    }
  }
}
