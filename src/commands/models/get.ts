import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class ModelsGet extends BaseCommand {
  static override summary = 'Show a model: its model.yaml, or its path.'
  static override examples = ['<%= config.bin %> models get iris_clf:latest', '<%= config.bin %> models get iris_clf -o path']
  static override args = {tag: Args.string({required: true, description: 'NAME[:VERSION|latest]'})}
  static override flags = {
    output: Flags.string({char: 'o', options: ['yaml', 'json', 'path'], default: 'yaml', description: 'What to print.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(ModelsGet)
    const {getModel} = await import('../../services/models.js')
    const result = await getModel({home: await this.home(), tag: args.tag})
    if (!this.jsonEnabled()) {
      if (flags.output === 'path') this.log(result.path)
      else if (flags.output === 'json') this.log(JSON.stringify(result.info, null, 2))
      else process.stdout.write(result.yaml.endsWith('\n') ? result.yaml : `${result.yaml}\n`)
    }
    return {tag: result.tag, path: result.path, info: result.info}
  }
}
