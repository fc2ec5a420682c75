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

/**
 * Run under GNU time: the same wall time (hrtime around the spawn; GNU time adds ~1 ms) plus the peak
 * resident set size of the command and its children (ru_maxrss), in KiB.
 */
export async function mustRunWithRss(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunOutput & {rssKiB: number}> {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing: apt-get install -y time`)
  const dir = await mkdtemp(join(tmpdir(), 'bench-time-'))
  const file = join(dir, 'rss')
  try {
    const r = await mustRun(GNU_TIME, ['-f', '%M', '-o', file, cmd, ...args], opts)
    const rssKiB = Number((await readFile(file, 'utf8')).trim().split('\n').pop())
    if (!Number.isFinite(rssKiB) || rssKiB <= 0) throw new Error(`GNU time wrote no peak RSS for ${cmd}`)
    return {...r, rssKiB}
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}
