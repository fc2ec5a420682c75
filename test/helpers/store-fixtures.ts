/**
 * A fake BentoML home, written once: model.yaml and bento.yaml as BentoML writes them, and the trees of a stored
 * model and Bento (`writeTree` writes them under a home).
 */
import path from 'node:path'

import {ensureHome} from '../../src/store/home.js'
import {tempDir} from './env.js'
import type {Tree} from './files.js'

/** An empty BentoML home (`<temp dir>/bentoml`, its folders made as every command makes them). */
export async function freshHome(): Promise<string> {
  const home = path.join(await tempDir(), 'bentoml')
  await ensureHome(home)
  return home
}

/** A model.yaml as BentoML 1.4.15 writes it for a keras model (quoted strings, as PyYAML). */
export function modelYaml(name: string, version: string, creationTime: string, extra = ''): string {
  return `name: ${name}
version: '${version}'
module: bentoml.keras
labels: {}
options:
  partial_kwargs: {}
  include_optimizer: false
metadata: {}
context:
  framework_name: keras
  framework_versions:
    tensorflow: 2.15.1
  bentoml_version: 1.4.15
  python_version: 3.11.7
signatures:
  predict:
    batchable: false
api_version: v1
creation_time: '${creationTime}'
${extra}`
}

/** A minimal spec-1 bento.yaml. */
export function bentoYaml(
  name: string,
  version: string,
  creationTime: string,
  models: Array<{tag: string; creationTime: string}> = [],
): string {
  const modelLines =
    models.length === 0
      ? 'models: []\n'
      : `models:\n${models
          .map((m) => `- tag: ${m.tag}\n  module: bentoml.keras\n  creation_time: '${m.creationTime}'\n`)
          .join('')}`
  return `service: service:svc
name: ${name}
version: '${version}'
bentoml_version: 1.4.15
creation_time: '${creationTime}'
labels: {}
${modelLines}entry_service: ${name}
services: []
envs: []
schema: {}
args: {}
spec: 1
`
}

/** A model directory tree (model.yaml + a fake SavedModel). */
export function modelTree(name: string, version: string, creationTime: string): Tree {
  return {
    'model.yaml': modelYaml(name, version, creationTime),
    'saved_model.pb': `pb-${name}-${version}`,
    variables: {'variables.index': `index-${version}`},
  }
}

/** A Bento directory tree. */
export function bentoTree(
  name: string,
  version: string,
  creationTime: string,
  models: Array<{tag: string; creationTime: string}> = [],
): Tree {
  return {
    'bento.yaml': bentoYaml(name, version, creationTime, models),
    'README.md': `# ${name}\n`,
    src: {'service.py': 'import bentoml\n', 'bentofile.yaml': 'service: service:svc\n'},
    env: {
      python: {'version.txt': '3.11.7', 'requirements.txt': 'bentoml==1.4.15\n'},
      docker: {'entrypoint.sh': {content: '#!/bin/sh\nexec "$@"\n', mode: 0o755}},
    },
  }
}

/**
 * A Bento tree whose bento.yaml has one runtime env (`name`, empty value, `stage`) and, with `resources` (a YAML flow
 * mapping such as `{cpu: "2", memory: 4Gi}`), one service with those resources: what `bento k8s` reads.
 */
export function bentoTreeWithEnv(name: string, env: {name: string; stage: string}, resources?: string): Tree {
  const tree = bentoTree(name, 'v1', '2026-01-01T00:00:00+00:00')
  let yaml = (tree['bento.yaml'] as string).replace('envs: []', `envs:\n- name: ${env.name}\n  value: ''\n  stage: ${env.stage}\n`)
  if (resources !== undefined) {
    yaml = yaml.replace('services: []', `services:\n- name: ${name}\n  service: ""\n  models: []\n  dependencies: []\n  config:\n    resources: ${resources}\n`)
  }
  tree['bento.yaml'] = yaml
  return tree
}

/** What `bentoml build` 1.4.40 writes for an SDK service with `model = bentoml.models.BentoModel("iris_clf:latest")`. */
export const SPEC2_BENTO_YAML = `service: service:Iris
name: iris
version: h7xpzohl7ooj6ax4
bentoml_version: 1.4.40
creation_time: '2026-11-29T13:46:20.886810+00:00'
labels: {}
models: []
entry_service: Iris
services:
- name: Iris
  service: ''
  models:
  - tag: iris_clf:hxv3rsxl7oxj6ax4
    module: bentoml.sklearn
    creation_time: '2026-11-29T13:46:13.337789+00:00'
  dependencies: []
  config:
    resources:
      cpu: '1'
envs: []
schema:
  name: Iris
  type: service
args: {}
spec: 2
image:
  base_image: python:3.11-slim
  python_version: '3.11'
  commands:
  - apt-get update && apt-get install -q -y --no-install-recommends --allow-remove-essential
    ca-certificates gnupg2 bash build-essential git
  python_requirements: 'scikit-learn

    bentoml==1.4.40

    '
  post_commands: []
  build_include: []
`
