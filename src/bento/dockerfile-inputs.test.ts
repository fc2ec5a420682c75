import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'

import {renderDockerfile} from '../docker/dockerfile.js'
import {bentoFromDocument} from '../store/info.js'
import {SPEC2_BENTO_YAML} from '../../test/helpers/store-fixtures.js'
import {dockerfileInputsOf} from './dockerfile-inputs.js'
import {dockerfileContext} from './templates.js'

const SPEC1 = {
  service: 'service:svc',
  name: 'iris',
  version: 'v1',
  bentoml_version: '1.4.15',
  creation_time: '2025-05-30T10:20:30.123456+00:00',
  labels: {owner: 'me', n: 3},
  models: [{tag: 'iris_clf:m1', module: 'bentoml.sklearn'}],
  envs: [
    {name: 'MODE', value: 'prod'},
    {name: 'TOKEN', value: 'secret', stage: 'build'},
    {name: 'PORT_HINT', value: '3000', stage: 'runtime'},
    {name: 'PLAIN', stage: 'all'},
  ],
  spec: 1,
  docker: {distro: 'debian', python_version: '3.10', system_packages: ['libgomp1'], env: {A: 1, MODE: 'dev'}, cuda_version: null, base_image: null},
}

const BENTO_FILES = ['bento.yaml', 'README.md', 'apis/openapi.yaml', 'env/docker/entrypoint.sh', 'env/docker/Dockerfile', 'env/python/install.sh', 'env/python/requirements.txt', 'src/service.py', 'src/pkg/a.py', 'models/iris_clf/m1/model.yaml']

describe('dockerfileInputsOf', () => {
  it('spec 1: docker options, install.sh, baked envs (stage all) in order with later names winning, build envs apart', () => {
    const i = dockerfileInputsOf(bentoFromDocument(SPEC1), BENTO_FILES, '# Iris\n\nClassifies flowers.\n')
    expect(i).toMatchObject({
      spec: 1,
      baseImage: null,
      pythonVersion: '3.10',
      distro: 'debian',
      systemPackages: ['libgomp1'],
      commands: [],
      installScript: true,
      setupScript: false,
      tag: {name: 'iris', version: 'v1'},
      bentomlVersion: '1.4.15',
      models: ['iris_clf:m1'],
      userLabels: {owner: 'me', n: '3'},
      hasModels: true,
      codeDirs: ['apis', 'env/docker', 'src'],
      codeFiles: ['README.md', 'bento.yaml'],
    })
    expect(i.env).toEqual([
      {name: 'A', value: '1'},
      {name: 'MODE', value: 'prod'},
      {name: 'PLAIN', value: ''},
    ])
    expect(i.buildSecrets).toEqual([{name: 'TOKEN', value: 'secret'}])
  })

  it('spec 2 as BentoML 1.4.40 writes it: image commands (the duplicated default apt line once), no install.sh, services models', () => {
    const info = parse(SPEC2_BENTO_YAML) as Record<string, unknown>
    const image = info.image as Record<string, unknown>
    image.commands = [...(image.commands as string[]), ...(image.commands as string[]), 'chmod +x env/docker/script__abc && env/docker/script__abc']
    image.post_commands = ['python -c "import sklearn"']
    image.build_include = ['wheels/']
    const files = ['bento.yaml', 'README.md', 'apis/', 'env/docker/entrypoint.sh', 'env/docker/script__abc', 'env/python/requirements.txt', 'env/python/requirements.in', 'src/']
    const i = dockerfileInputsOf(bentoFromDocument(info), files, '')
    expect(i).toMatchObject({
      spec: 2,
      baseImage: 'python:3.11-slim',
      pythonVersion: '3.11',
      systemPackages: [],
      postCommands: ['python -c "import sklearn"'],
      buildInclude: ['wheels/'],
      commandFiles: ['env/docker/script__abc'],
      installScript: false,
      models: ['iris_clf:hxv3rsxl7oxj6ax4'],
      hasModels: false,
      codeDirs: ['apis', 'env/docker', 'src'],
      codeFiles: ['README.md', 'bento.yaml'],
    })
    expect(i.commands).toEqual([
      'apt-get update && apt-get install -q -y --no-install-recommends --allow-remove-essential ca-certificates gnupg2 bash build-essential git',
      'chmod +x env/docker/script__abc && env/docker/script__abc',
    ])
  })
})

describe('the spec-2 Dockerfile', () => {
  const info = parse(SPEC2_BENTO_YAML) as Record<string, unknown>
  ;(info.image as Record<string, unknown>).post_commands = ['python -c "import sklearn"']
  ;(info.image as Record<string, unknown>).build_include = ['wheels']
  const inputs = dockerfileInputsOf(bentoFromDocument(info), ['bento.yaml', 'README.md', 'apis/', 'env/docker/entrypoint.sh', 'env/python/requirements.txt', 'src/'], '')

  it('runs the commands after the envs, installs requirements.txt from ./src after build_include, then post_commands, models, code', () => {
    const d = renderDockerfile(dockerfileContext(inputs, {buildkit: true, wheelhouse: true, models: {kind: 'images', refs: ['bento-model.invalid/h0123456789abcdef/iris_clf:hxv3rsxl7oxj6ax4']}}))
    const order = [
      'WORKDIR $BENTO_PATH',
      'RUN apt-get update && apt-get install -q -y --no-install-recommends --allow-remove-essential ca-certificates gnupg2 bash build-essential git\n',
      'COPY --chown=bentoml:bentoml ./env/python ./env/python/',
      'COPY --chown=bentoml:bentoml ./src/wheels ./src/wheels\n',
      'pip install --disable-pip-version-check --no-index --find-links /tmp/bento-wheelhouse -r /home/bentoml/bento/env/python/requirements.txt',
      "python3 -c 'import bentoml' 2>/dev/null || pip install --disable-pip-version-check --no-index --find-links /tmp/bento-wheelhouse bentoml==1.4.40; }",
      'RUN python -c "import sklearn"\n',
      'COPY --from=bento-model.invalid/h0123456789abcdef/iris_clf:hxv3rsxl7oxj6ax4 / /\n',
      'COPY --chown=bentoml:bentoml ./src ./src/',
      'ENTRYPOINT',
    ]
    let at = -1
    for (const o of order) {
      const next = d.indexOf(o, at + 1)
      expect(next, o).toBeGreaterThan(at)
      at = next
    }
    expect(d).not.toContain('install.sh')
  })

  it('a Bento bento build locked (dev.bento.lock.sha256 label) installs its requirements.txt with --require-hashes; others do not', () => {
    const locked = {...info, labels: {...(info.labels as Record<string, string>), 'dev.bento.lock.sha256': 'a'.repeat(64)}}
    const lockedInputs = dockerfileInputsOf(bentoFromDocument(locked), ['bento.yaml', 'env/python/requirements.txt', 'src/'], '')
    expect(lockedInputs.requireHashes).toBe(true)
    const d = renderDockerfile(dockerfileContext(lockedInputs, {buildkit: true, wheelhouse: true}))
    expect(d).toContain('pip install --disable-pip-version-check --no-index --find-links /tmp/bento-wheelhouse --require-hashes -r /home/bentoml/bento/env/python/requirements.txt')
    // bentoml itself (when the lock left it out) and setuptools are not in hash-checking mode.
    expect(d).toContain("python3 -c 'import bentoml' 2>/dev/null || pip install --disable-pip-version-check --no-index --find-links /tmp/bento-wheelhouse bentoml==")
    expect(inputs.requireHashes).toBe(false)
    expect(renderDockerfile(dockerfileContext(inputs, {buildkit: true, wheelhouse: false}))).not.toContain('--require-hashes')
  })

  it('refuses a command with a line break (a RUN cannot hold it), naming the key', () => {
    const bad = {...inputs, commands: ['echo a\necho b']}
    expect(() => renderDockerfile(dockerfileContext(bad, {buildkit: true, wheelhouse: false}))).toThrow(
      expect.objectContaining({diagnostics: [expect.objectContaining({key: 'image.commands[0]'})]}),
    )
  })
})

describe('a Bento BentoML locked for a BentoML that imports pkg_resources (before 1.4.20)', () => {
  // BentoML 1.4.15's lock made today pins setuptools 81+ (no pkg_resources): `import bentoml` failed in the image.
  const guard = "python3 -c 'import pkg_resources' 2>/dev/null || pip install --disable-pip-version-check 'setuptools<81'; }"
  const render = (info: Record<string, unknown>, files: string[]): string =>
    renderDockerfile(dockerfileContext(dockerfileInputsOf(bentoFromDocument(info), files, ''), {buildkit: true, wheelhouse: false}))

  it('spec 1 with requirements.lock.txt (bentoml build 1.4.15): setuptools<81 is made sure of after install.sh', () => {
    const d = render({...SPEC1, bentoml_version: '1.4.15'}, [...BENTO_FILES, 'env/python/requirements.lock.txt'])
    expect(d).toContain(`env/python/install.sh \\\n    && { ${guard}`)
  })

  it('spec 2 (its requirements.txt is the lock) for 1.4.15: after the requirements', () => {
    const info = parse(SPEC2_BENTO_YAML) as Record<string, unknown>
    const d = render({...info, bentoml_version: '1.4.15'}, ['bento.yaml', 'README.md', 'apis/', 'env/docker/entrypoint.sh', 'env/python/requirements.txt', 'src/'])
    expect(d).toContain(guard)
  })

  it('not for BentoML 1.4.20+, nor for a Bento bento wrote (no lock: its requirements pin setuptools<81 themselves)', () => {
    expect(render({...SPEC1, bentoml_version: '1.4.20'}, [...BENTO_FILES, 'env/python/requirements.lock.txt'])).not.toContain('pkg_resources')
    expect(render({...SPEC1, bentoml_version: '1.4.15'}, BENTO_FILES)).not.toContain('pkg_resources')
    const info = parse(SPEC2_BENTO_YAML) as Record<string, unknown>
    expect(render({...info, bentoml_version: '1.4.40'}, ['bento.yaml', 'env/python/requirements.txt', 'src/'])).not.toContain('pkg_resources')
  })
})
