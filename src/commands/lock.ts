import {Args, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Lock extends BaseCommand {
  static override summary = "Write the project's locks (bento-lock.json), or check them (--check) in CI."
  static override description =
    'Locks the requirements bento build would lock, one hashed lock per platform, into bento-lock.json in the project ' +
    '(commit it: bento build then installs exactly that set). --check runs no resolver and exits 10 (E_LOCK_DRIFT) ' +
    'when the requirements, the Python or a platform changed since the file was written.'

  static override examples = [
    '<%= config.bin %> lock',
    '<%= config.bin %> lock --platform linux/amd64,linux/arm64',
    '<%= config.bin %> lock --check',
    '<%= config.bin %> lock --check --json | jq .error.data.drift',
  ]

  static override args = {
    context: Args.string({description: 'The project directory (default: the current directory).'}),
  }

  static override flags = {
    bentofile: Flags.string({char: 'f', description: 'Path to bentofile.yaml or pyproject.toml (default: looked up in the project).'}),
    platform: Flags.string({
      description: 'Comma-separated platforms to lock for: linux/amd64, linux/arm64 or uv targets. Default: those bento-lock.json holds, else linux/amd64.',
      helpValue: 'P1,P2',
    }),
    check: Flags.boolean({description: 'Do not lock: exit 10 (E_LOCK_DRIFT) if bento-lock.json no longer matches the requirements.'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = await this.parse(Lock)
    const {resolve} = await import('node:path')
    const {lock} = await import('../services/lock.js')
    const result = await lock({
      projectDir: resolve(process.cwd(), args.context ?? '.'),
      ...(flags.bentofile === undefined ? {} : {bentofile: flags.bentofile}),
      home: await this.home(),
      reporter: this.reporter(flags),
      env: this.env(),
      ...(flags.platform === undefined ? {} : {platforms: flags.platform.split(',').map((p) => p.trim()).filter(Boolean)}),
      check: flags.check,
      ...this.interruptible(),
    })
    if (!this.jsonEnabled()) this.log(result.written ? `Wrote ${result.file} (${result.locks.map((l) => l.platform).join(', ')})` : `${result.file} is up to date (${result.locks.map((l) => l.platform).join(', ')})`)
    return result
  }
}
