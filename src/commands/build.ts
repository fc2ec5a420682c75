import {Args, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Build extends BaseCommand {
  static override summary = 'Build a Bento from bentofile.yaml (else pyproject.toml, else service.py with BentoML defaults).'
  static override description =
    'Reads the build config, selects the files (include/exclude/.bentoignore), finds the models the service uses ' +
    'in $BENTOML_HOME/models, and writes a self-contained Bento into $BENTOML_HOME/bentos under name:version. ' +
    'The version is derived from the content: rebuilding the same inputs is a no-op.'

  static override examples = [
    '<%= config.bin %> build',
    '<%= config.bin %> build ./my-project -f bentofile.prod.yaml',
    '<%= config.bin %> build --json | jq -r .tag',
    '<%= config.bin %> build --version v1 --bentoml-version 1.4.38',
    '<%= config.bin %> build --arg model_id=Qwen/Qwen3-8B --arg-file args.yaml',
    '<%= config.bin %> build --platform linux/arm64',
    '<%= config.bin %> build --no-lock',
  ]

  static override args = {
    context: Args.string({description: 'The build context: the project directory (default: the current directory).'}),
  }

  static override flags = {
    bentofile: Flags.string({char: 'f', description: 'Path to bentofile.yaml or pyproject.toml (default: looked up in the build context).'}),
    version: Flags.string({char: 'v', description: 'Use this version instead of the one derived from the content.'}),
    'bentoml-version': Flags.string({
      description:
        'The BentoML release the Bento is written for and pins (1.3.0–1.3.22, 1.4.0–1.4.40). Default: an exact bentoml pin in your requirements, ' +
        'else the newest BentoML that saved the models, else 1.4.40 (1.4.15 for runner-style bentoml.Service(..., runners=[...]) services), ' +
        'or the newest release your bentoml ranges admit.',
    }),
    arg: Flags.string({
      description: 'A Bento argument (bentoml.use_arguments) as KEY=VALUE; repeatable. Wins over --arg-file if written first, and over the build config\'s args.',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: 'KEY=VALUE',
    }),
    'arg-file': Flags.string({description: 'A YAML file of Bento arguments (name: value), merged as bentoml build --arg-file.', helpValue: 'FILE'}),
    platform: Flags.string({
      description:
        'The platform the requirements are locked for: linux/amd64 (default) or linux/arm64, or a uv target as bentoml build --platform takes (x86_64-manylinux_2_28).',
      helpValue: 'PLATFORM',
    }),
    'no-lock': Flags.boolean({description: 'Write the requirements unlocked (as python.lock_packages: false): no resolver runs.'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = await this.parse(Build)
    const {runBuild} = await import('./build-action.js')
    return runBuild({context: args.context, flags, argv: this.argv}, {
      home: () => this.home(),
      reporter: this.reporter(flags),
      ...this.interruptible(),
      env: this.env(),
      json: this.jsonEnabled(),
      log: (m) => this.log(m),
    })
  }
}
