import {Args} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Export extends BaseCommand {
  static override summary = 'Export a Bento, with its models, as a portable archive (.bento = tar+xz, .tar.gz, .tar).'
  static override description = 'The archive is deterministic: the same Bento gives the same bytes. `bentoml import` accepts it.'
  static override examples = [
    '<%= config.bin %> export clasificador_iris:latest ./iris.bento',
    '<%= config.bin %> export clasificador_iris:latest ./out/ --json',
    '<%= config.bin %> export clasificador_iris:latest iris.tar.gz',
  ]
  static override args = {
    tag: Args.string({required: true, description: 'NAME[:VERSION|latest]'}),
    out: Args.string({description: 'File or directory (default: ./NAME-VERSION.bento)'}),
  }

  async run(): Promise<unknown> {
    const {args} = await this.parse(Export)
    const {resolve} = await import('node:path')
    const {exportBentoService} = await import('../services/export.js')
    const result = await exportBentoService({
      home: await this.home(),
      tag: args.tag,
      out: resolve(process.cwd(), args.out ?? '.') + (args.out === undefined || args.out.endsWith('/') ? '/' : ''),
      ...this.interruptible(),
    })
    if (!this.jsonEnabled()) this.log(`Exported "${result.tag}" to ${result.path}`)
    return result
  }
}
