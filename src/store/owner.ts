/**
 * Who made a temp file, a staging directory or a lock: a process id, that process's start time, and where it ran
 * (a hash of the host name and pid namespace, and one of the boot). A pid alone is not enough: pids are reused
 * (D19). The owner token is written into temp names and lock files, so the next run can prove them dead and
 * remove them. What ran in another pid namespace or on another host (a shared BENTOML_HOME) cannot be proven
 * dead from here and is left alone.
 */
import {createHash} from 'node:crypto'
import {readFileSync, readlinkSync} from 'node:fs'
import {hostname} from 'node:os'

export interface Owner {
  pid: number
  /** Start time of the process in clock ticks since boot (`/proc/<pid>/stat` field 22); '0' when unknown. */
  start: string
  /** 8 hex digits: host name + pid namespace ('' when not recorded: an older token). */
  host: string
  /** 8 hex digits of the boot id ('' when not recorded). */
  boot: string
}

/** `/proc/<pid>/stat` field 22, or null when there is no such process, or '0' when /proc is not available. */
export function processStart(pid: number): string | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ESRCH') return procAvailable() ? null : '0'
    return '0'
  }
  // Field 2 (comm) is in parentheses and may hold spaces or ')': the fields after the last ')' start at field 3.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return fields[19] ?? '0'
}

function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat')
    return true
  } catch {
    return false
  }
}

function hash8(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8)
}

function readOr(read: () => string, fallback: string): string {
  try {
    return read().trim()
  } catch {
    return fallback
  }
}

/** Where this process runs: host name + pid namespace, and the boot. */
export function currentPlace(): {host: string; boot: string} {
  const ns = readOr(() => readlinkSync('/proc/self/ns/pid'), '')
  const boot = readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'), '')
  return {host: hash8(`${hostname()}\0${ns}`), boot: boot === '' ? '00000000' : hash8(boot)}
}

export function currentOwner(): Owner {
  return {pid: process.pid, start: processStart(process.pid) ?? '0', ...currentPlace()}
}

/** Whether a process with this pid exists (signal 0; EPERM means it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Whether the owner may still run. False only when provably dead: same host and pid namespace, and either another
 * boot, no such pid, or a pid now held by a process that started at another time. An owner from another host or
 * namespace counts as alive (it cannot be checked from here); an old token without start time checks the pid only.
 */
export function ownerAlive(owner: Owner): boolean {
  const here = currentPlace()
  if (owner.host !== '' && owner.host !== here.host) return true
  if (owner.boot !== '' && owner.boot !== here.boot) return false
  if (!pidAlive(owner.pid)) return false
  if (owner.start === '0') return true
  const start = processStart(owner.pid)
  return start === null ? false : start === '0' || start === owner.start
}

/** `<pid>-<start>-<host>-<boot>`, as it appears in temp names (`OWNER_TOKEN` matches it). */
export function ownerToken(owner: Owner = currentOwner()): string {
  return `${owner.pid}-${owner.start}-${owner.host}-${owner.boot}`
}

/** The source of a pattern that matches `ownerToken` with the named groups pid, start, host and boot. */
export const OWNER_TOKEN = '(?<pid>\\d+)-(?<start>\\d+)-(?<host>[0-9a-f]{8})-(?<boot>[0-9a-f]{8})'

/** The owner in a match of a pattern built with `OWNER_TOKEN` (or with at least the pid and start groups). */
export function ownerFromMatch(match: RegExpExecArray | null): Owner | null {
  if (match === null) return null
  const pid = Number(match.groups?.pid)
  if (!Number.isSafeInteger(pid) || pid <= 0) return null
  return {pid, start: match.groups?.start ?? '0', host: match.groups?.host ?? '', boot: match.groups?.boot ?? ''}
}

/** Parse the content of a lock file: `<pid> <start> <host> <boot>` (or an older bare `<pid>`). */
export function parseOwnerRecord(text: string): Owner | null {
  const m = /^(?<pid>\d+)(?:\s+(?<start>\d+)(?:\s+(?<host>[0-9a-f]{8})\s+(?<boot>[0-9a-f]{8}))?)?\s*$/.exec(text)
  return ownerFromMatch(m)
}

export function ownerRecord(owner: Owner = currentOwner()): string {
  return `${owner.pid} ${owner.start} ${owner.host} ${owner.boot}\n`
}
