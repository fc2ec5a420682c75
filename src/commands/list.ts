import {Args} from '@oclif/core'

import {BaseCommand} from './base-command.js'
import {renderTable} from './table.js'

export default class List extends BaseCommand {
  static override summary = 'List the Bentos in the store ($BENTOML_HOME/bentos), newest first.'
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list clasificador_iris', '<%= config.bin %> list --json']
  static override args = {name: Args.string({description: 'Only Bentos with this name.'})}

  async run(): Promise<unknown> {
    const {args} = await this.parse(List)
    const {listBentos} = await import('../services/list.js')
    const result = await listBentos({home: await this.home(), name: args.name})
    if (!this.jsonEnabled()) {
      this.log(
        renderTable(
          ['Tag', 'Size', 'Model Size', 'Creation Time'],
          result.bentos.map((b) => [b.tag, b.size, b.modelSize, b.creationTime]),
        ),
      )
      for (const p of result.problems) process.stderr.write(`warning: ${p}\n`)
    }
    return result
  }
}
