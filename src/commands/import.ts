import {Args} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Import extends BaseCommand {
  static override summary = 'Import a Bento archive (from `bento export` or `bentoml export`) into the store.'
  static override description =
    'Rejects absolute paths, `..`, links that escape the Bento, and device files; a rejected archive leaves nothing behind. ' +
    'Models inside the archive are added to the model store when absent.'
  static override examples = ['<%= config.bin %> import ./iris.bento', 'BENTOML_HOME=/tmp/other <%= config.bin %> import ./iris.bento --json']
  static override args = {archive: Args.string({required: true, description: 'Path of the archive'})}

  async run(): Promise<unknown> {
    const {args} = await this.parse(Import)
    const {homedir} = await import('node:os')
    const {resolve} = await import('node:path')
    const {importBentoService} = await import('../services/import.js')
    const {bentomlHome} = await import('../store/index.js')
    const result = await importBentoService({home: bentomlHome(this.env(), homedir()), archive: resolve(process.cwd(), args.archive)})
    if (!this.jsonEnabled()) this.log(`Imported Bento "${result.tag}".`)
    return result
  }
}
