import {Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Prune extends BaseCommand {
  static override summary = 'Remove what bento made and nothing uses any more.'
  static override description =
    'Model images (bento-model/<name>:<version>, label dev.bento.kind=model) that no Bento image uses, and wheelhouse ' +
    'images (bento-wheelhouse:<key>) of directories that changed or are gone. Bento images and everything bento did ' +
    'not create are never touched. Without a reachable Docker daemon the image pruners are skipped with a warning.'

  static override examples = ['<%= config.bin %> prune --dry-run', '<%= config.bin %> prune --json', '<%= config.bin %> prune --only model-images']

  static override flags = {
    'dry-run': Flags.boolean({description: 'Show what would be removed; remove nothing.'}),
    only: Flags.string({multiple: true, description: 'Run only these pruners (store-scratch, store-locks, store-name-leftovers, model-images, wheelhouse-images).'}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Prune)
    const {homedir} = await import('node:os')
    const {prune} = await import('../services/prune.js')
    const {bentomlHome} = await import('../store/index.js')
    const {DockerodeClient} = await import('../docker/index.js')
    const env = this.env()
    const result = await prune({
      home: bentomlHome(env, homedir()),
      client: () => new DockerodeClient({env, signal: this.signal}),
      reporter: this.reporter(flags),
      dryRun: flags['dry-run'],
      ...(flags.only ? {only: flags.only} : {}),
    })
    if (!this.jsonEnabled()) {
      const mib = (result.bytes / 2 ** 20).toFixed(1)
      this.log(flags['dry-run'] ? `Would remove ${result.found.length} item(s).` : `Removed ${result.removed.length} item(s), ${mib} MiB.`)
    }
    return result
  }
}
