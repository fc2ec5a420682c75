/**
 * Reader marks: a process that reads a stored item for a while (`bento export`, `bento containerize`) leaves a small
 * file in the scratch area, `bento-<owner>-read-<name>-<version>-<random>`, holding `<kind> <name>:<version>
 * <purpose>`. `Store.delete` waits while a live process holds one for the version it deletes (see store.ts); the
 * file carries its owner like every scratch entry (owner.ts), so one left by a killed process is provably dead:
 * it never holds a delete, and the next run sweeps it (scratch.ts). The marks are created and checked under the
 * name's lock, so a reader either sees the version before the delete moves it out, or gets E_*_NOT_FOUND.
 */
import {randomBytes} from 'node:crypto'
import {readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {findScratch, scratchPrefix, scratchRootFor} from './scratch.js'
import {type FullTag, formatTag} from './tag.js'

export interface Reader {
  pid: number
  /** What reads it: `export`, `containerize`. */
  purpose: string
  path: string
}

function record(kind: string, tag: FullTag, purpose: string): string {
  return `${kind} ${formatTag(tag)} ${purpose}\n`
}

/** Create the mark of this process reading `<kind>/<name>/<version>`; returns its path. The caller holds the name's lock. */
export async function createReaderMark(home: string, kind: string, tag: FullTag, purpose: string): Promise<string> {
  const {root} = await scratchRootFor(home, path.join(home, kind))
  const file = path.join(root, `${scratchPrefix('read', `${tag.name}-${tag.version}`)}${randomBytes(4).toString('hex')}`)
  await writeFile(file, record(kind, tag, purpose), {flag: 'wx'})
  return file
}

export async function removeReaderMark(file: string): Promise<void> {
  await rm(file, {force: true})
}

/** The live processes reading `<kind>/<name>/<version>` (marks of provably dead ones are left out). */
export async function liveReaders(home: string, kind: string, tag: FullTag): Promise<Reader[]> {
  const readers: Reader[] = []
  for (const entry of await findScratch(home)) {
    if (entry.kind !== 'read' || !entry.alive) continue
    let text: string
    try {
      text = await readFile(entry.path, 'utf8')
    } catch {
      continue // released meanwhile
    }
    const [k, t, ...purpose] = text.trim().split(' ')
    if (k !== kind || t !== formatTag(tag)) continue
    readers.push({pid: entry.owner.pid, purpose: purpose.join(' '), path: entry.path})
  }
  return readers
}
