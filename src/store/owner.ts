/**
 * Who made a temp file, a staging directory or a lock: a process id plus that process's start time. A pid alone is
 * not enough (pids are reused: D19); the pair names one process for as long as the machine runs. Temp names and
 * lock files carry this owner token, so the next run can prove them dead and remove them.
 */
import {readFileSync} from 'node:fs'

export interface Owner {
  pid: number
  /** Start time of the process in clock ticks since boot (`/proc/<pid>/stat` field 22); '0' when unknown. */
  start: string
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

export function currentOwner(): Owner {
  return {pid: process.pid, start: processStart(process.pid) ?? '0'}
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
 * Whether the owner still runs. A live pid whose start time differs is another process that got the same pid
 * (the owner is dead). With an unknown start time ('0', or no /proc) only the pid can be checked.
 */
export function ownerAlive(owner: Owner): boolean {
  if (!pidAlive(owner.pid)) return false
  if (owner.start === '0') return true
  const start = processStart(owner.pid)
  return start === null ? false : start === '0' || start === owner.start
}

/** `<pid>-<start>`, as it appears in temp names. */
export function ownerToken(owner: Owner = currentOwner()): string {
  return `${owner.pid}-${owner.start}`
}

/** The owner token inside a name made by `ownerToken`, matched by a pattern with the named groups `pid` and `start`. */
export function ownerFromMatch(match: RegExpExecArray | null): Owner | null {
  if (match === null) return null
  const pid = Number(match.groups?.pid)
  const start = match.groups?.start ?? '0'
  return Number.isSafeInteger(pid) && pid > 0 ? {pid, start} : null
}
