import {Args, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Import extends BaseCommand {
  static override summary = 'Import a Bento archive (from `bento export` or `bentoml export`) into the store.'
  static override description =
    'Rejects absolute paths, `..`, links that escape the Bento, device files and what BentoML cannot read; a rejected ' +
    'archive leaves nothing behind. Bounded: refuses an archive whose files would not fit on the disk, or that passes ' +
    'a limit on its total size (256 GiB), entries (200,000) or compression ratio (100:1 past 64 MiB) — raise them with ' +
    'the flags or BENTO_IMPORT_MAX_SIZE / _ENTRIES / _RATIO (0: no limit). Models inside the archive are added to the ' +
    'model store when absent.'
  static override examples = [
    '<%= config.bin %> import ./iris.bento',
    'BENTOML_HOME=/tmp/other <%= config.bin %> import ./iris.bento --json',
    '<%= config.bin %> import ./llm.bento --max-size 1T --max-ratio 1000',
  ]
  static override args = {archive: Args.string({required: true, description: 'Path of the archive'})}
  static override flags = {
    'max-size': Flags.string({description: 'Refuse archives whose files total more than this (e.g. 300G; 0: no limit). Env: BENTO_IMPORT_MAX_SIZE.'}),
    'max-entries': Flags.string({description: 'Refuse archives with more entries (0: no limit). Env: BENTO_IMPORT_MAX_ENTRIES.'}),
    'max-ratio': Flags.string({description: 'Refuse archives that expand more than this many times (0: no limit). Env: BENTO_IMPORT_MAX_RATIO.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Import)
    const {resolve} = await import('node:path')
    const {importBentoService} = await import('../services/import.js')
    const env = this.env()
    const result = await importBentoService({
      home: await this.home(),
      archive: resolve(process.cwd(), args.archive),
      limits: {
        maxSize: flags['max-size'] ?? env.BENTO_IMPORT_MAX_SIZE,
        maxEntries: flags['max-entries'] ?? env.BENTO_IMPORT_MAX_ENTRIES,
        maxRatio: flags['max-ratio'] ?? env.BENTO_IMPORT_MAX_RATIO,
      },
      ...this.interruptible(),
    })
    if (!this.jsonEnabled()) this.log(`Imported Bento "${result.tag}".`)
    return result
  }
}
