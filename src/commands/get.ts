import {Args, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Get extends BaseCommand {
  static override summary = 'Show a Bento: its bento.yaml, or its path.'
  static override examples = [
    '<%= config.bin %> get clasificador_iris:latest',
    '<%= config.bin %> get clasificador_iris:latest -o path',
    '<%= config.bin %> get clasificador_iris:latest --json',
  ]
  static override args = {tag: Args.string({required: true, description: 'NAME[:VERSION|latest] (unique version prefixes work)'})}
  static override flags = {
    output: Flags.string({char: 'o', options: ['yaml', 'json', 'path'], default: 'yaml', description: 'What to print.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Get)
    const {getBento} = await import('../services/get.js')
    const result = await getBento({home: await this.home(), tag: args.tag})
    if (!this.jsonEnabled()) {
      if (flags.output === 'path') this.log(result.path)
      else if (flags.output === 'json') this.log(JSON.stringify(result.info, null, 2))
      else process.stdout.write(result.yaml.endsWith('\n') ? result.yaml : `${result.yaml}\n`)
    }
    return {tag: result.tag, path: result.path, info: result.info}
  }
}
