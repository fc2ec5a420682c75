import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {renderTable} from '../table.js'

export default class ModelsList extends BaseCommand {
  static override summary = 'List the models in the model store ($BENTOML_HOME/models), newest first.'
  static override examples = ['<%= config.bin %> models list', '<%= config.bin %> models list iris_clf --json']
  static override args = {name: Args.string({description: 'Only models with this name.'})}

  async run(): Promise<unknown> {
    const {args} = await this.parse(ModelsList)
    const {listModels} = await import('../../services/models.js')
    const result = await listModels({home: await this.home(), name: args.name})
    if (!this.jsonEnabled()) {
      this.log(renderTable(['Tag', 'Module', 'Size', 'Creation Time'], result.models.map((m) => [m.tag, m.module, m.size, m.creationTime])))
      for (const p of result.problems) process.stderr.write(`warning: ${p}\n`)
    }
    return result
  }
}
