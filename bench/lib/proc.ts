/** Child processes for the benchmarks: wall time with process.hrtime, peak RSS with GNU time. */
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface RunOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  timeoutMs?: number
}

export interface RunOutput {
  code: number
  stdout: string
  stderr: string
  /** Wall time from spawn to exit, milliseconds. */
  ms: number
}

export class CommandFailed extends Error {
  constructor(
    readonly command: string,
    readonly output: RunOutput,
  ) {
    const tail = (output.stderr || output.stdout).trim().split('\n').slice(-15).join('\n')
    super(`\`${command}\` exited with ${output.code} after ${(output.ms / 1000).toFixed(1)} s:\n${tail}`)
  }
}

/** Run a command; never throws on a non-zero exit (see `mustRun`). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(cmd, args, {cwd: opts.cwd, env: {...process.env, ...opts.env}, stdio: ['ignore', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30 * 60_000)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms,
      })
    })
  })
}

/** Run a command and throw `CommandFailed` unless it exits 0. */
export async function mustRun(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunOutput> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) throw new CommandFailed([cmd, ...args].join(' '), r)
  return r
}

export const GNU_TIME = '/usr/bin/time'

/** What a measured run reports besides its output and wall time. */
export interface Measured {
  /** Peak resident set size of the command and its children (ru_maxrss), KiB. */
  rssKiB: number
  /** Bytes the command and its children read / wrote through read(2)/write(2) (files, pipes, sockets), /proc io. */
  rchar: number
  wchar: number
}

/**
 * Run under GNU time, inside a shell that prints its own /proc/<pid>/io after reaping it: Linux adds a reaped
 * child's (and its reaped children's) io counters to the parent's, so the shell's `rchar`/`wchar` are the
 * command's plus a few bytes of its own. Wall time as `run` (hrtime around the spawn; the wrappers add ~2 ms).
 */
export async function mustRunMeasured(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunOutput & Measured> {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing: apt-get install -y time`)
  const dir = await mkdtemp(join(tmpdir(), 'bench-time-'))
  const rssFile = join(dir, 'rss')
  const ioFile = join(dir, 'io')
  const script = `${GNU_TIME} -f %M -o "$BENCH_RSS_FILE" "$@"; rc=$?; cat /proc/$$/io > "$BENCH_IO_FILE"; exit $rc`
  try {
    const r = await mustRun('sh', ['-c', script, 'sh', cmd, ...args], {...opts, env: {...opts.env, BENCH_RSS_FILE: rssFile, BENCH_IO_FILE: ioFile}})
    const rssKiB = Number((await readFile(rssFile, 'utf8')).trim().split('\n').pop())
    if (!Number.isFinite(rssKiB) || rssKiB <= 0) throw new Error(`GNU time wrote no peak RSS for ${cmd}`)
    const io = await readFile(ioFile, 'utf8')
    const num = (key: string): number => Number(new RegExp(`^${key}: (\\d+)$`, 'm').exec(io)?.[1] ?? Number.NaN)
    return {...r, rssKiB, rchar: num('rchar'), wchar: num('wchar')}
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

/** `mustRunMeasured`, peak RSS only (kept for the callers that need no more). */
export async function mustRunWithRss(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunOutput & {rssKiB: number}> {
  return mustRunMeasured(cmd, args, opts)
}
