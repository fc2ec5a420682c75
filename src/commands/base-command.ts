import {Command, Flags, type Interfaces} from '@oclif/core'

import type {Cleanup} from '../cleanup.js'
import {processInterrupts} from '../interrupt.js'
import {type Reporter, streamReporter} from '../reporter.js'
import {printError, printJson} from './output.js'

type Parsed = Record<string, unknown>

/**
 * Shared behaviour of every command: `--json` prints exactly one JSON object on stdout (the result,
 * or `{"error": {...}}`), every log line goes to stderr, and errors exit with their documented code.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    quiet: Flags.boolean({char: 'q', description: 'Only print errors and the result.', helpGroup: 'GLOBAL'}),
  }

  /**
   * Positional arguments come from the command line only. oclif reads a missing argument from stdin when
   * stdin is not a TTY (`printf x | bento list` would list only `x`); every argument of every command opts out.
   */
  protected override async parse<F extends Parsed, B extends Parsed, A extends Parsed>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const input = options ?? (this.ctor as Interfaces.Input<F, B, A>)
    if (input.args === undefined) return super.parse(input, argv)
    const args: Interfaces.ArgInput<A> = {...input.args}
    for (const name of Object.keys(args) as Array<keyof A>) args[name] = {...args[name], ignoreStdin: true}
    // `input` is usually the command class: keep its inherited statics (baseFlags, enableJsonFlag) reachable.
    const withArgs: Interfaces.Input<F, B, A> = Object.assign(Object.create(input) as Interfaces.Input<F, B, A>, input, {args})
    return super.parse(withArgs, argv)
  }

  override async init(): Promise<void> {
    await super.init()
    processInterrupts().start()
  }

  /**
   * The one interrupt path, what every command that works for long (build, export, import, delete, containerize,
   * prune) hands its service: the first Ctrl-C, SIGTERM or SIGHUP aborts `signal` (the service stops at its next
   * check, removes what it was writing and fails with E_INTERRUPTED, exit 130); a second one removes what is still
   * registered in `cleanup` and exits 130 at once (src/interrupt.ts).
   */
  protected interruptible(): {signal: AbortSignal; cleanup: Cleanup} {
    return {signal: this.signal, cleanup: this.cleanup}
  }

  /** Aborted by the first Ctrl-C (SIGINT), SIGTERM or SIGHUP: pass it to the service (see `interruptible`). */
  protected get signal(): AbortSignal {
    return processInterrupts().signal
  }

  /** Where services register what they are writing, removed at once by a second Ctrl-C. */
  protected get cleanup(): Cleanup {
    return processInterrupts().cleanup
  }

  override async finally(error: Error | undefined): Promise<void> {
    await super.finally(error)
    // With --json the result is printed after this (by oclif): logJson marks the end then.
    if (error !== undefined || !this.jsonEnabled()) processInterrupts().finish()
  }

  protected reporter(flags: {quiet?: boolean}): Reporter {
    return streamReporter(process.stderr, {quiet: Boolean(flags.quiet)})
  }

  /** BENTOML_HOME and friends come from the environment; read here, passed down explicitly. */
  protected env(): NodeJS.ProcessEnv {
    return process.env
  }

  /** The BentoML home every command works in: `$BENTOML_HOME` (expanded like BentoML) or `~/bentoml`. */
  protected async home(): Promise<string> {
    const {homedir} = await import('node:os')
    const {bentomlHome} = await import('../store/home.js')
    return bentomlHome(this.env(), homedir())
  }

  override logJson(json: unknown): void {
    printJson(json)
  }

  override async catch(err: Interfaces.CommandError): Promise<void> {
    printError(err, this.jsonEnabled())
  }
}
