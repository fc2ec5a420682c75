/**
 * `bento build` once its command line is read: by oclif (build.ts) or by the direct path (direct.ts). No @oclif/core.
 */
import {resolve} from 'node:path'

import type {Cleanup} from '../cleanup.js'
import type {Reporter} from '../reporter.js'
import type {BuildResult} from '../services/build.js'

export interface BuildFlags {
  bentofile?: string
  version?: string
  'bentoml-version'?: string
  arg?: string[]
  'arg-file'?: string
  platform?: string
  'no-lock'?: boolean
}

/** What a command gets from where it runs. */
export interface CommandIo {
  home: () => Promise<string>
  reporter: Reporter
  signal: AbortSignal
  cleanup: Cleanup
  env: NodeJS.ProcessEnv
  json: boolean
  /** A line on stdout (not with --json). */
  log: (message: string) => void
}

export async function runBuild(line: {context: string | undefined; flags: BuildFlags; argv: readonly string[]}, io: CommandIo): Promise<BuildResult> {
  const {flags} = line
  const ctx = line.context ?? '.'
  const {build} = await import('../services/build.js')
  const {argSourceOrder} = await import('../bentoml/args.js')
  const order = argSourceOrder(line.argv)
  const result = await build({
    projectDir: resolve(process.cwd(), ctx),
    bentofile: flags.bentofile,
    home: await io.home(),
    version: flags.version,
    bentomlVersion: flags['bentoml-version'],
    reporter: io.reporter,
    signal: io.signal,
    cleanup: io.cleanup,
    env: io.env,
    ...(flags['no-lock'] ? {noLock: true} : {}),
    ...(flags.platform === undefined ? {} : {platform: flags.platform}),
    ...(order.length > 0
      ? {args: {order, values: flags.arg ?? [], ...(flags['arg-file'] === undefined ? {} : {file: resolve(process.cwd(), flags['arg-file'])})}}
      : {}),
  })
  if (!io.json) io.log(result.created ? `Successfully built Bento "${result.tag}".` : `Bento "${result.tag}" is up to date.`)
  return result
}
