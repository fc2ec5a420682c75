import {Args} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Delete extends BaseCommand {
  static override summary = 'Delete a Bento from the store; `latest` moves to the newest remaining version, as BentoML does.'
  static override examples = ['<%= config.bin %> delete clasificador_iris:qv5kx3hix2dpoax4', '<%= config.bin %> delete clasificador_iris:latest --json']
  static override args = {tag: Args.string({required: true, description: 'NAME:VERSION (or NAME:latest)'})}

  async run(): Promise<unknown> {
    const {args} = await this.parse(Delete)
    const {deleteBento} = await import('../services/delete.js')
    const result = await deleteBento({home: await this.home(), tag: args.tag, ...this.interruptible()})
    if (!this.jsonEnabled()) this.log(`Deleted Bento "${result.deleted}".`)
    return result
  }
}
