/**
 * A plain `bento build` line of the direct path (direct.ts), run as oclif's `Command._run` with BaseCommand's init,
 * catch, finally and logJson would. Loaded only for a build line: `dist/direct-build.cjs` in the bundle
 * (scripts/bundle.mjs), which `bento --version` never reads. No @oclif/core here.
 */
import {homedir} from 'node:os'

import {processInterrupts} from '../interrupt.js'
import {streamReporter} from '../reporter.js'
import type {BuildFlags} from './build-action.js'
import {printError, printJson} from './output.js'

/** A `bento build` command line as the direct path reads it (direct.ts `parseBuildArgv`). */
export interface BuildLine {
  context: string | undefined
  flags: BuildFlags & {quiet?: boolean; json?: boolean}
}

/** Runs the build line; errors printed as oclif would (`--json`: on stdout too). */
export async function runBuildLine(line: BuildLine, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  delete env.BENTO_REDIRECTED
  const json = line.flags.json === true
  const interrupts = processInterrupts()
  interrupts.start()
  let result: unknown
  let failed = false
  try {
    const {runBuild} = await import('./build-action.js')
    result = await runBuild({context: line.context, flags: line.flags, argv}, {
      home: async () => (await import('../store/home.js')).bentomlHome(env, homedir()),
      reporter: streamReporter(process.stderr, {quiet: Boolean(line.flags.quiet)}),
      signal: interrupts.signal,
      cleanup: interrupts.cleanup,
      env,
      json,
      log: (m) => console.log(m),
    })
  } catch (error) {
    failed = true
    printError(error, json)
  }
  if (failed || !json) interrupts.finish()
  if (result && json) printJson(result)
}
