import {Args, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class Containerize extends BaseCommand {
  static override summary = 'Build a Docker image that runs the Bento with `bentoml serve` on port 3000.'
  static override description =
    'Talks to the Docker Engine API (DOCKER_HOST, or /var/run/docker.sock), streaming the Bento as the build context. ' +
    'Layers: base → system packages → Python deps → models → code, so a code change reuses everything before it. ' +
    'Runs as user bentoml (uid 1034), with a HEALTHCHECK on /readyz and OCI + dev.bento.* labels.'

  static override examples = [
    '<%= config.bin %> containerize clasificador_iris:latest',
    '<%= config.bin %> containerize clasificador_iris:latest -t iris:dev --json',
    '<%= config.bin %> containerize clasificador_iris:latest -t 127.0.0.1:5000/iris:dev --push',
    '<%= config.bin %> containerize clasificador_iris:latest -t 127.0.0.1:5000/iris:dev --push --direct-push   # bento\'s registry client',
    '<%= config.bin %> containerize clasificador_iris:latest --wheelhouse ./wheels   # offline: pip --no-index --find-links',
    '<%= config.bin %> containerize clasificador_iris:latest --ca-cert corp-proxy-ca.pem   # pip/uv/apt in the build trust it; in no layer',
    '<%= config.bin %> containerize clasificador_iris:latest --ca-cert host   # the host\'s SSL_CERT_FILE / PIP_CERT / system bundle',
    '<%= config.bin %> containerize clasificador_iris:latest --output oci:./iris-oci   # then: skopeo copy oci:./iris-oci docker://REG/iris:1',
    '<%= config.bin %> containerize clasificador_iris:latest --output docker-archive:./iris.tar   # then: docker load -i iris.tar',
    '<%= config.bin %> containerize clasificador_iris:latest --platform linux/amd64,linux/arm64 -t 127.0.0.1:5000/iris:1 --push   # one OCI index',
    '<%= config.bin %> containerize clasificador_iris:latest --platform linux/arm64 --base-image linux/arm64=python:3.11-slim-linux-arm64 --wheelhouse linux/arm64=./wheels-arm64',
  ]

  static override args = {tag: Args.string({required: true, description: 'NAME[:VERSION|latest]'})}
  static override flags = {
    'image-tag': Flags.string({char: 't', multiple: true, description: 'Image reference(s); default NAME:VERSION of the Bento.'}),
    push: Flags.boolean({description: 'Push the image(s) to their registry after the build (credentials from ~/.docker/config.json).'}),
    'direct-push': Flags.boolean({
      dependsOn: ['push'],
      description:
        "With --push: push with bento's own registry client (skip/mount/chunked/resumable, `bento push`) instead of the engine's push. " +
        "Reads the layers to upload from the engine's export (docker save), so a big model is read again.",
    }),
    wheelhouse: Flags.string({
      multiple: true,
      description: 'Directory of wheels: pip installs offline from it (--no-index --find-links). PLATFORM=DIR: the wheels of one --platform.',
    }),
    platform: Flags.string({
      multiple: true,
      description:
        'Build for linux/amd64, linux/arm64 or both (comma-separated): one image per platform (a foreign one under QEMU), ' +
        'tagged TAG-linux-arm64 when several; with --push an OCI image index of them is written as TAG.',
    }),
    'base-image': Flags.string({
      multiple: true,
      description: "[PLATFORM=]REF: the base image instead of the Bento's, for every platform or for one (e.g. a local arm64 image).",
    }),
    'with-compilers': Flags.boolean({description: 'Install build-essential (for requirements that compile from source).'}),
    'no-cache': Flags.boolean({description: 'Do not use the layer cache.'}),
    'ca-cert': Flags.string({
      multiple: true,
      description:
        'PEM file of CA certificates the package installs of the build trust (a TLS-inspecting proxy, a private index); ' +
        '`host` takes SSL_CERT_FILE, PIP_CERT, REQUESTS_CA_BUNDLE or the system bundle. Repeatable; default BENTO_CA_CERT. ' +
        'Passed as a BuildKit secret: in no layer, ENV, ARG or Bento file.',
    }),
    output: Flags.string({
      description:
        'Also write the image as oci:DIR (an OCI image layout) or docker-archive:FILE (for `docker load`): uncompressed layers from the ' +
        "engine's export, deterministic bytes (tar times from SOURCE_DATE_EPOCH), written to a temp sibling and renamed at the end.",
    }),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Containerize)
    const {homedir} = await import('node:os')
    const {join, resolve} = await import('node:path')
    const {containerize, parseCommitModelsFrom} = await import('../services/containerize.js')
    const {DockerodeClient, parseOutput, splitPlatformValue} = await import('../docker/index.js')
    const env = this.env()
    // The first Ctrl-C/SIGTERM aborts the signal (src/interrupt.ts): every wait on the daemon ends with E_INTERRUPTED.
    const result = await containerize({
      home: await this.home(),
      tag: args.tag,
      imageTags: flags['image-tag'] ?? [],
      push: flags.push,
      directPush: flags['direct-push'],
      // --wheelhouse DIR (every platform; the first) and PLATFORM=DIR (one), directories resolved here.
      ...(() => {
        const values = (flags.wheelhouse ?? []).map((v) => {
          const {platform, value} = splitPlatformValue(v)
          return platform === undefined ? resolve(process.cwd(), value) : `${platform}=${resolve(process.cwd(), value)}`
        })
        return {wheelhouse: values.find((v) => splitPlatformValue(v).platform === undefined), platformWheelhouses: values.filter((v, i) => i !== values.findIndex((w) => splitPlatformValue(w).platform === undefined))}
      })(),
      platforms: flags.platform ?? [],
      baseImages: flags['base-image'] ?? [],
      compilers: flags['with-compilers'],
      noCache: flags['no-cache'],
      commitModelsFrom: parseCommitModelsFrom(env.BENTO_COMMIT_MODELS_FROM),
      client: new DockerodeClient({env, signal: this.signal}),
      dockerConfigDir: env.DOCKER_CONFIG ?? join(homedir(), '.docker'),
      env,
      reporter: this.reporter(flags),
      ...this.interruptible(),
      environ: env,
      caCerts: flags['ca-cert'] ?? (env.BENTO_CA_CERT ? [env.BENTO_CA_CERT] : []),
      cwd: process.cwd(),
      ...(flags.output === undefined ? {} : {output: parseOutput(flags.output, process.cwd())}),
    })
    if (!this.jsonEnabled()) {
      if (result.platforms && result.platforms.length > 1) {
        for (const p of result.platforms) this.log(`Successfully built ${p.platform} image ${p.tags.join(', ')} (${p.imageId}).`)
      } else this.log(`Successfully built image ${result.tags.join(', ')} (${result.imageId}).`)
      for (const p of result.pushed) this.log(`Pushed ${p.tag}@${p.digest}${result.index ? ' (OCI image index)' : ''}`)
      if (result.output) this.log(`Wrote ${result.output.kind}:${result.output.path} (manifest ${result.output.manifestDigest})`)
      this.log(`Run it: docker run --rm -p 3000:3000 ${result.tags[0]}`)
    }
    return result
  }
}
