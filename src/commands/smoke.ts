import {Args, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Smoke extends BaseCommand {
  static override summary = 'Run a Bento image offline, wait until it is ready and call every API once.'
  static override description =
    'The container runs with no network (--network none) unless --network says otherwise, so a service that downloads ' +
    'something at start fails here rather than in an air-gapped cluster. Probes run inside the container with its own ' +
    'Python (nothing is published on the host): /readyz with backoff (the timeout grows with the model bytes), then ' +
    '/livez, /metrics and one POST per API, with bodies from --input/--input-file, else from the schema examples or ' +
    'defaults, else a minimal valid value. The container is always removed. Exit code 11 (E_SMOKE_*) when it fails.'

  static override examples = [
    '<%= config.bin %> smoke iris:latest',
    `<%= config.bin %> smoke iris:dev --input classify=@sample.json --expect 'classify=.[0] == 0' --junit smoke.xml --json`,
    '<%= config.bin %> smoke iris:dev --input-file inputs.json   # {"classify": [[5.1, 3.5, 1.4, 0.2]]}',
    `<%= config.bin %> smoke iris:dev --input classify='[[1]]' --error-contains classify='error'   # the API must refuse it`,
    '<%= config.bin %> smoke 127.0.0.1:5000/iris:dev --network bridge --timeout 300',
  ]

  static override args = {target: Args.string({required: true, description: 'A Bento tag (its image from `bento containerize`) or an image reference.'})}
  static override flags = {
    input: Flags.string({multiple: true, description: 'A request body: [API=]@FILE or [API=]JSON (without API=: every API).'}),
    'input-file': Flags.string({description: 'A JSON object of request bodies by API name.'}),
    expect: Flags.string({multiple: true, description: `[API=]PATH [| length] [OP JSON], e.g. '.[0] == "setosa"' (jq-like).`}),
    'error-contains': Flags.string({multiple: true, description: '[API=]TEXT: the API must answer an error (not 2xx) containing TEXT.'}),
    network: Flags.string({default: 'none', description: 'Docker network of the container: none (default, offline) or e.g. bridge.'}),
    timeout: Flags.integer({min: 1, description: 'Seconds to wait for /readyz (default: 60 + 30 per GiB of models, or of the image).'}),
    env: Flags.string({char: 'e', multiple: true, description: 'NAME=VALUE for the container (runtime envs, e.g. a secret).'}),
    junit: Flags.string({description: 'Write a JUnit XML report to this file (also when the smoke test fails).'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Smoke)
    const {resolve} = await import('node:path')
    const {parseErrorContains, parseSmokeExpects, readSmokeInputs, smoke} = await import('../services/smoke.js')
    const {DockerodeClient, DockerodeContainerClient} = await import('../docker/index.js')
    const {UsageError} = await import('../errors.js')
    const env = this.env()
    for (const e of flags.env ?? []) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(e)) throw new UsageError(`--env ${e} is not NAME=VALUE`)
    }
    const cwd = process.cwd()
    const report = await smoke({
      target: args.target,
      home: await this.home(),
      images: new DockerodeClient({env, signal: this.signal}),
      containers: new DockerodeContainerClient({env, signal: this.signal}),
      network: flags.network,
      timeoutMs: flags.timeout === undefined ? undefined : flags.timeout * 1000,
      inputs: await readSmokeInputs(flags.input ?? [], flags['input-file'], (p) => resolve(cwd, p)),
      expects: parseSmokeExpects(flags.expect ?? []),
      errorContains: parseErrorContains(flags['error-contains'] ?? []),
      env: flags.env ?? [],
      junitPath: flags.junit === undefined ? undefined : resolve(cwd, flags.junit),
      reporter: this.reporter(flags),
      signal: this.signal,
    })
    if (!this.jsonEnabled()) {
      this.log(
        `Smoke test passed: ${report.image} ready in ${((report.timeToReadyMs ?? 0) / 1000).toFixed(1)} s, ` +
          `${report.apis.length} API(s) answered (${report.apis.map((a) => `${a.name} ${a.latencyMs} ms`).join(', ') || 'none'}), ` +
          `uid ${report.uid ?? '?'}, healthcheck ${report.healthcheck ? 'yes' : 'no'}, ${(report.durationMs / 1000).toFixed(1)} s in all.`,
      )
    }
    return report
  }
}
