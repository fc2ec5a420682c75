import {Args, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Push extends BaseCommand {
  static override summary = "Push an image to a registry with bento's own OCI client: skip, mount, chunked, resumable; the tag last."
  static override description =
    'TAG is a Bento tag (its image from `bento containerize`, NAME:VERSION) or an image of the engine. Every blob is ' +
    'HEADed first and skipped when the registry has it, or mounted from another repository of the registry (the ' +
    "image's other tags there, --mount-from); what is missing is read once from the engine's export (`docker save`) " +
    'and uploaded as it streams: uncompressed layers (digest = diff id), one PUT up to 4 MiB, PATCH chunks above ' +
    '(OCI-Chunk-Min/Max-Length honoured, a 413 halves the chunk), a lost connection resumed from the registry\'s ' +
    'Range, a 5xx retried once, a bearer token renewed when it expires mid-upload. The manifest goes last: an ' +
    'interrupted push leaves no tag. Credentials as `docker push` finds them (~/.docker/config.json, credential helpers).'

  static override examples = [
    '<%= config.bin %> push iris:latest 127.0.0.1:5000/iris:1',
    '<%= config.bin %> push iris:dev ghcr.io/team/iris:dev --json   # bytes uploaded per layer',
    '<%= config.bin %> push iris:2 registry.example.com/prod/iris:2 --mount-from staging/iris   # blobs staging has are mounted, not sent',
    '<%= config.bin %> push iris:2 ghcr.io/team/iris:2 --chunk-size 4   # MiB per PATCH (GHCR refuses larger chunks)',
  ]

  static override args = {
    tag: Args.string({required: true, description: 'A Bento tag (NAME[:VERSION|latest]) or an image reference of the engine.'}),
    ref: Args.string({required: true, description: 'Where to: REGISTRY/REPOSITORY[:TAG].'}),
  }

  static override flags = {
    'mount-from': Flags.string({multiple: true, description: 'A repository of the same registry to mount blobs from (repeatable).'}),
    'chunk-size': Flags.integer({min: 1, max: 1024, description: 'MiB per PATCH chunk (default 16; the registry\'s OCI-Chunk-Max-Length wins). Memory use is about one chunk.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Push)
    const {homedir} = await import('node:os')
    const {join} = await import('node:path')
    const {push} = await import('../services/push.js')
    const {DockerodeClient} = await import('../docker/index.js')
    const env = this.env()
    const mib = 1024 * 1024
    const result = await push({
      home: await this.home(),
      target: args.tag,
      ref: args.ref,
      images: new DockerodeClient({env, signal: this.signal}),
      dockerConfigDir: env.DOCKER_CONFIG ?? join(homedir(), '.docker'),
      reporter: this.reporter(flags),
      signal: this.signal,
      mountFrom: flags['mount-from'] ?? [],
      ...(flags['chunk-size'] === undefined ? {} : {policy: {monolithicMax: Math.min(4 * mib, flags['chunk-size'] * mib), chunkSize: flags['chunk-size'] * mib}}),
    })
    if (!this.jsonEnabled()) this.log(`Pushed ${result.ref}@${result.digest}`)
    return result
  }
}
