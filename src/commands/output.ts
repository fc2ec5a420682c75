/**
 * What every command prints, with or without oclif (bin/run.js runs `bento build` and `bento --version` directly,
 * see direct.ts): the JSON result, and an error as `Error [CODE]: …` on stderr (and `{"error": …}` with --json).
 * No @oclif/core here.
 */
import {BugError, diskFullError, isBentoError, isDiskFull, UsageError, type BentoError} from '../errors.js'
import {processInterrupts} from '../interrupt.js'

/** The one JSON object on stdout; after it, a signal ends the process with the command's own exit code. */
export function printJson(json: unknown): void {
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  processInterrupts().finish()
}

/** Sets the exit code of the error and prints it. */
export function printError(err: unknown, json: boolean): void {
  const e = toBentoError(err)
  process.exitCode = e.exitCode
  if (json) printJson(e.toJSON())
  process.stderr.write(`Error [${e.code}]: ${e.message}\n`)
  if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`)
  if (e instanceof BugError) {
    const cause = (e as Error).cause
    process.stderr.write(`${cause instanceof Error ? cause.stack : e.stack}\n`)
    process.stderr.write('This is a bug in bento; please report it with the output above.\n')
  }
}

function toBentoError(err: unknown): BentoError {
  if (isBentoError(err)) return err
  const e = err as {oclif?: {exit?: number}; message?: string; code?: string}
  if (e && typeof e === 'object' && e.oclif && e.message) {
    return new UsageError(e.message.replace(/\n\s*See more help with --help$/, ''), {hint: 'run the command with --help'})
  }
  if (isDiskFull(err)) return diskFullError(`No space left on the device: ${e.message}`, err)
  return new BugError(err instanceof Error ? err.message : String(err), {cause: err})
}
