/**
 * The `xz` program as a stream stage, without buffering: compressing, its stdout is the output file's descriptor
 * (the kernel moves the bytes, Node never sees them); decompressing, its stdin is the archive's descriptor and its
 * stdout a stream the caller reads with back-pressure. Only stderr is kept, capped.
 */
import {spawn} from 'node:child_process'
import type {FileHandle} from 'node:fs/promises'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

const STDERR_CAP = 16 * 1024

export interface XzExit {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  /** Set when the program could not be started (`ENOENT`: not installed). */
  spawnError?: NodeJS.ErrnoException
}

interface Child {
  stdin: NodeJS.WritableStream | null
  stdout: Readable | null
  kill: () => void
  exit: Promise<XzExit>
}

function start(args: string[], stdin: 'pipe' | number, stdout: 'pipe' | number, signal?: AbortSignal): Child {
  const child = spawn('xz', args, {stdio: [stdin, stdout, 'pipe'], signal, killSignal: 'SIGKILL'})
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < STDERR_CAP) stderr += chunk.slice(0, STDERR_CAP - stderr.length)
  })
  const exit = new Promise<XzExit>((resolve) => {
    let spawnError: NodeJS.ErrnoException | undefined
    child.once('error', (error: NodeJS.ErrnoException) => {
      // 'error' comes for a failed spawn and for an abort; 'close' follows either way once the child is gone.
      if (error.name !== 'AbortError') spawnError = error
      if (child.pid === undefined) resolve({code: null, signal: null, stderr, spawnError})
    })
    child.once('close', (code, sig) => resolve({code, signal: sig, stderr: stderr.trim(), spawnError}))
  })
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
    exit,
  }
}

/**
 * `xz -z -T1 -6 -c < tar > out`: pipes `source` into xz, whose stdout is `out`. Resolves once the input is consumed
 * (or failed) and xz has exited; `feedError` is set when feeding failed (the source broke, or xz died: EPIPE).
 */
export async function xzCompress(source: Readable, out: FileHandle, signal?: AbortSignal): Promise<XzExit & {feedError?: unknown}> {
  const child = start(['-z', '-T1', '-6', '-c'], 'pipe', out.fd, signal)
  const stdin = child.stdin
  if (stdin === null) return child.exit
  stdin.on('error', () => undefined) // EPIPE when xz exits early: reported through feedError and the exit status
  try {
    await pipeline(source, stdin)
  } catch (feedError) {
    child.kill()
    return {...(await child.exit), feedError}
  }
  return child.exit
}

/** `xz -d -c -T1 < archive`: the decompressed bytes as a stream; `exit` settles once xz has exited. */
export function xzDecompress(archive: FileHandle, signal?: AbortSignal): {stdout: Readable; exit: Promise<XzExit>; kill: () => void} {
  const child = start(['-d', '-c', '-T1'], archive.fd, 'pipe', signal)
  if (child.stdout === null) throw new Error('xz: no stdout')
  return {stdout: child.stdout, exit: child.exit, kill: child.kill}
}
