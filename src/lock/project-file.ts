/**
 * `bento-lock.json`: the locks `bento lock` writes into the project, one per platform (and the image's Python), to be
 * committed. A build whose lock inputs (requirement lines, index options, Python, platform) equal an entry's takes
 * the entry's lock as it is (no resolver, no cache needed); `bento lock --check` compares the inputs (drift).
 */
import {createHash, randomBytes} from 'node:crypto'
import {readFile, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {LockError} from '../errors.js'
import type {LockPlatform} from './lock.js'
import {maskCredentials} from './mask.js'

export const BENTO_LOCK_FILE = 'bento-lock.json'
const FORMAT = 1

export interface LockInputs {
  /** The Bento's requirement lines (plan.requirements). */
  requirements: string[]
  /** Index option lines written before them (spec 1). */
  optionLines: string[]
  pythonVersion: string
}

export interface BentoLockEntry {
  /** As the user named it (`linux/amd64`, or a uv target). */
  platform: string
  uvTarget: string
  pythonVersion: string
  /** sha256 of the inputs: a build with the same inputs takes `lock`. */
  inputs: string
  requirements: string[]
  optionLines: string[]
  /** sha256 of `lock`. */
  sha256: string
  packages: number
  source: 'uv' | 'uv.lock' | 'pylock.toml'
  lock: string
}

export interface BentoLockFile {
  format: number
  generator: string
  locks: BentoLockEntry[]
}

/** sha256 of the inputs, literal credentials masked (never a hash of a secret in a committed file). */
export function inputsDigest(inputs: LockInputs, platform: LockPlatform): string {
  const mask = (l: string): string => maskCredentials(l, '***@')
  return createHash('sha256')
    .update(JSON.stringify({requirements: inputs.requirements.map(mask), options: inputs.optionLines.map(mask), python: inputs.pythonVersion, platform: platform.uvTarget}))
    .digest('hex')
}

/** The project's bento-lock.json, or null when there is none. A file that cannot be read as one is E_LOCK naming it. */
export async function readBentoLockFile(dir: string): Promise<BentoLockFile | null> {
  const text = await readFile(join(dir, BENTO_LOCK_FILE), 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new LockError(`${BENTO_LOCK_FILE} cannot be read: ${(error as Error).message}`, {data: {file: BENTO_LOCK_FILE}})
  })
  if (text === null) return null
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw new LockError(`${BENTO_LOCK_FILE} is not valid JSON: ${(error as Error).message}`, {hint: 'write it again with bento lock', data: {file: BENTO_LOCK_FILE}})
  }
  const d = doc as Partial<BentoLockFile>
  if (typeof doc !== 'object' || doc === null || d.format !== FORMAT || !Array.isArray(d.locks) || !d.locks.every((l) => typeof l?.lock === 'string' && typeof l.inputs === 'string' && typeof l.platform === 'string')) {
    throw new LockError(`${BENTO_LOCK_FILE} is not a lock file bento writes (format ${FORMAT})`, {hint: 'write it again with bento lock', data: {file: BENTO_LOCK_FILE}})
  }
  return d as BentoLockFile
}

/** The entry of `file` for these inputs and platform, or null. */
export function entryFor(file: BentoLockFile | null, inputs: LockInputs, platform: LockPlatform): BentoLockEntry | null {
  const digest = inputsDigest(inputs, platform)
  return file?.locks.find((l) => l.inputs === digest && l.uvTarget === platform.uvTarget) ?? null
}

/** Write bento-lock.json atomically (a temp file renamed over it), entries in the order given. */
export async function writeBentoLockFile(dir: string, locks: BentoLockEntry[]): Promise<string> {
  const path = join(dir, BENTO_LOCK_FILE)
  const body: BentoLockFile = {format: FORMAT, generator: 'bento lock', locks}
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await writeFile(tmp, JSON.stringify(body, null, 2) + '\n')
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, {force: true})
    throw error
  }
  return path
}
