/**
 * A stored Bento for the containerize service tests (src/services/containerize*.test.ts): the iris Bento
 * `iris:v1` as `bento build` would leave it in a home (spec 1, runner-style, one model in the global store), written
 * by hand so the tests need neither a build nor Python. The home gets a known id, so the model images' names
 * (`bento-model.invalid/h<home id>/…`) can be spelled out.
 */
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {ImageClient} from '../../src/docker/image-client.js'
import {memoryReporter} from '../../src/reporter.js'
import type {ContainerizeOptions} from '../../src/services/containerize.js'
import {writeModel} from './build-inputs.js'

export const STORED_HOME_ID = '0123456789abcdef'

export interface StoredBentoOptions {
  /** The model tags bento.yaml names (default `iris_clf:m1`). */
  models?: string[]
  /** `docker.setup_script`: written as env/docker/setup_script and named in bento.yaml. */
  setupScript?: boolean
  /** Lines appended to bento.yaml's `docker:` section. */
  extraDocker?: string
}

/** bento.yaml of `iris:v1`. */
export function storedBentoYaml(opts: StoredBentoOptions = {}): string {
  const models = opts.models ?? ['iris_clf:m1']
  return `service: 'service:svc'
name: 'iris'
version: 'v1'
bentoml_version: '1.4.15'
creation_time: '2025-05-30T10:20:30.123456+00:00'
labels:
  owner: 'me'
models:
${models.map((t) => `- tag: '${t}'\n  module: 'bentoml.sklearn'\n  creation_time: '2025-05-30T10:11:12.123456+00:00'`).join('\n')}
envs:
- name: 'MODE'
  value: 'prod'
spec: 1
docker:
  distro: 'debian'
  python_version: '3.11'
  cuda_version: null
  env: null
  system_packages: null
  setup_script: ${opts.setupScript ? "'setup.sh'" : 'null'}
  base_image: null
  dockerfile_template: null
${opts.extraDocker ?? ''}`
}

async function write(file: string, content: string): Promise<void> {
  await mkdir(join(file, '..'), {recursive: true})
  await writeFile(file, content)
}

/**
 * A new home (under the temp dir, `prefix`) holding `iris:v1` (latest) and its model `iris_clf:m1` of `modelBytes`
 * bytes, only in the global store (a Bento from `bentoml build` has no models/ inside).
 */
export async function makeStoredBento(
  prefix: string,
  opts: StoredBentoOptions & {readme?: string; modelBytes?: number} = {},
): Promise<{home: string; bento: string}> {
  const home = await mkdtemp(join(tmpdir(), prefix))
  await write(join(home, '.bento/home-id'), `${STORED_HOME_ID}\n`)
  const bento = join(home, 'bentos/iris/v1')
  await write(join(bento, 'bento.yaml'), storedBentoYaml(opts))
  await write(join(bento, 'README.md'), opts.readme ?? '# Iris\n')
  await write(join(bento, 'src/service.py'), 'import bentoml\n')
  await write(join(bento, 'env/python/requirements.txt'), 'bentoml==1.4.15\n')
  await write(join(bento, 'env/python/install.sh'), '#!/bin/bash\n')
  await write(join(bento, 'env/docker/entrypoint.sh'), '#!/bin/sh\n')
  if (opts.setupScript) await write(join(bento, 'env/docker/setup_script'), '#!/bin/sh\n')
  await write(join(bento, 'apis/openapi.yaml'), '{}\n')
  await write(join(home, 'bentos/iris/latest'), 'v1')
  await writeModel(home, {version: 'm1', bytes: opts.modelBytes ?? 6})
  return {home, bento}
}

/** `containerize` options for the stored `iris:latest` of `home`, with `client`; `over` wins. */
export function containerizeOptions(home: string, client: ImageClient, over: Partial<ContainerizeOptions> = {}): ContainerizeOptions {
  return {
    home,
    tag: 'iris:latest',
    imageTags: [],
    push: false,
    client,
    dockerConfigDir: join(home, 'no-docker-config'),
    reporter: memoryReporter(),
    ...over,
  }
}
