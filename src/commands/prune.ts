import {Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Prune extends BaseCommand {
  static override summary = 'Remove what bento made and nothing uses any more.'
  static override description =
    "This home's model images (bento-model.invalid/h<home>/<name>:<version>) that no Bento image uses and no running " +
    "containerize of this home holds, its committed-model images (bento-model.invalid/h<home>/assembled/models:<key>: a " +
    'dependency image with big models committed onto it) that no Bento image is built on, and its wheelhouse images of ' +
    'directories that changed or are gone; ' +
    'untagged ones this home made too. Other homes\' images (another BENTOML_HOME or user on the same daemon) only with ' +
    '--all-homes. Bento images and everything bento did not create are never touched. Leftovers of killed runs in the ' +
    'store. Without a reachable Docker daemon the image pruners are skipped with a warning.'

  static override examples = ['<%= config.bin %> prune --dry-run', '<%= config.bin %> prune --json', '<%= config.bin %> prune --only model-images']

  static override flags = {
    'dry-run': Flags.boolean({description: 'Show what would be removed; remove nothing.'}),
    only: Flags.string({
      multiple: true,
      description: 'Run only these pruners (store-scratch, store-locks, store-name-leftovers, image-leases, model-images, committed-models, wheelhouse-images).',
    }),
    'all-homes': Flags.boolean({
      description:
        "Also other homes' unused model and wheelhouse images on this daemon, and those made by bento before images carried their home. " +
        "Other homes' running containerizes cannot be seen from here: use it when none runs.",
    }),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Prune)
    const {prune} = await import('../services/prune.js')
    const {DockerodeClient} = await import('../docker/index.js')
    const env = this.env()
    const result = await prune({
      home: await this.home(),
      client: () => new DockerodeClient({env, signal: this.signal}),
      reporter: this.reporter(flags),
      dryRun: flags['dry-run'],
      ...(flags.only ? {only: flags.only} : {}),
      allHomes: flags['all-homes'],
      ...this.interruptible(),
    })
    if (!this.jsonEnabled()) {
      const {humanSize} = await import('../byte-size.js')
      this.log(flags['dry-run'] ? `Would remove ${result.found.length} item(s).` : `Removed ${result.removed.length} item(s), ${humanSize(result.bytes, {digits: 1, unit: 'MiB'})}.`)
    }
    return result
  }
}
