import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {aptPackageProblem, envNameProblem, envValueProblem, imageRefProblem, type RuleProblem} from '../bentoml/image-rules.js'
import * as runtime from '../bentoml/runtime.js'
import {ConfigError} from '../errors.js'
import {BENTO_GID, BENTO_PATH, BENTO_UID, baseImageFor, type DockerfileContext, renderDockerfile} from './dockerfile.js'
import {entrypointScript} from './install-script.js'
import {imageLabels} from './labels.js'
import {userTemplateVariables} from './user-template.js'

const GOLDEN_DIR = fileURLToPath(new URL('../../test/fixtures/dockerfiles/', import.meta.url))

/** Compare with test/fixtures/dockerfiles/<name>.Dockerfile; `UPDATE_GOLDEN=1` rewrites it. */
function golden(name: string, actual: string): void {
  const file = `${GOLDEN_DIR}${name}.Dockerfile`
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`missing golden file ${file}; run with UPDATE_GOLDEN=1`)
    mkdirSync(GOLDEN_DIR, {recursive: true})
    writeFileSync(file, actual)
  }
  expect(actual).toBe(readFileSync(file, 'utf8'))
}

const irisLabels = imageLabels({
  tag: 'clasificador_iris:qv5kx3hix2dpoax4',
  name: 'clasificador_iris',
  version: 'qv5kx3hix2dpoax4',
  labels: {owner: 'bentoml-team', stage: 'dev'},
  models: ['flower_model:7wbdlohvmoysmmqv'],
  bentomlVersion: '1.4.15',
  description: '# Iris classifier\n\nClassifies iris flowers.',
  creationTime: '2025-05-30T10:20:30.123456+00:00',
})

function ctx(overrides: Partial<DockerfileContext> = {}): DockerfileContext {
  return {
    baseImage: 'python:3.11-slim',
    pythonVersion: '3.11',
    distro: 'debian',
    systemPackages: [],
    needsCompilers: false,
    env: [],
    setupScript: false,
    buildkit: true,
    wheelhouse: false,
    labels: irisLabels,
    bentoPath: BENTO_PATH,
    uid: BENTO_UID,
    gid: BENTO_GID,
    ...overrides,
  }
}

/** Instruction keywords in order, e.g. ['FROM', 'ENV', 'USER', ...]. */
function instructions(dockerfile: string): string[] {
  const out: string[] = []
  let continued = false
  for (const line of dockerfile.split('\n')) {
    if (!continued && line.trim() !== '' && !line.startsWith('#')) out.push(line.split(/\s+/)[0] as string)
    continued = line.endsWith('\\')
  }
  return out
}

describe('renderDockerfile goldens', () => {
  it('plain iris bento', () => {
    const d = renderDockerfile(ctx())
    golden('iris', d)
    expect(d).not.toContain('apt-get')
    expect(d).toContain('FROM python:3.11-slim AS base-container')
    expect(d).toContain('ENTRYPOINT [ "/home/bentoml/bento/env/docker/entrypoint.sh" ]')
    expect(d).not.toMatch(/^CMD/m)
  })

  it('system_packages (+ compilers)', () => {
    golden('system-packages', renderDockerfile(ctx({systemPackages: ['libgomp1', 'ffmpeg'], needsCompilers: true})))
  })

  it('system_packages without BuildKit', () => {
    const d = renderDockerfile(ctx({systemPackages: ['libgomp1'], buildkit: false}))
    golden('system-packages-classic', d)
    expect(d).not.toContain('--mount')
  })

  it('setup_script', () => {
    golden('setup-script', renderDockerfile(ctx({setupScript: true})))
  })

  it('base_image', () => {
    const baseImage = baseImageFor({pythonVersion: '3.11', baseImage: 'registry.example.com/ml/base:2024.1'})
    golden('base-image', renderDockerfile(ctx({baseImage})))
  })

  it('env / envs: each an ARG with its value and an ENV from it', () => {
    const d = renderDockerfile(
      ctx({
        env: [
          {name: 'MODEL_DIR', value: '/models'},
          {name: 'GREETING', value: 'say "hi" for $5 \\o/'},
        ],
      }),
    )
    golden('envs', d)
    expect(d).toContain('ARG GREETING="say \\"hi\\" for \\$5 \\\\o/"\nENV GREETING=$GREETING\n')
    expect(d).toContain('ARG MODEL_DIR="/models"\n')
    expect(d).toContain('ENV MODEL_DIR=$MODEL_DIR\n')
  })

  it('model images (BuildKit): one COPY --from per model after the deps, no models in the context', () => {
    const d = renderDockerfile(ctx({models: {kind: 'images', refs: ['bento-model.invalid/h0123456789abcdef/iris_clf:m1', 'bento-model.invalid/h0123456789abcdef/other:v2']}}))
    golden('model-images', d)
    expect(d).toContain('COPY --from=bento-model.invalid/h0123456789abcdef/iris_clf:m1 / /\nCOPY --from=bento-model.invalid/h0123456789abcdef/other:v2 / /\n')
    expect(d).not.toContain('./models')
  })

  it('--platform: model and wheelhouse images are stages of the build platform (their config says amd64; BuildKit would pull an arm64 one)', () => {
    const refs = ['bento-model.invalid/h0123456789abcdef/iris_clf:m1', 'bento-model.invalid/h0123456789abcdef/other:v2']
    const wheels = 'bento-wheelhouse.invalid/h0123456789abcdef:abc'
    const d = renderDockerfile(ctx({models: {kind: 'images', refs}, wheelhouse: true, wheelhouseImage: wheels, crossPlatform: true}))
    expect(d).toContain(
      `FROM --platform=$BUILDPLATFORM ${refs[0]} AS bento-model-0\nFROM --platform=$BUILDPLATFORM ${refs[1]} AS bento-model-1\n` +
        `FROM --platform=$BUILDPLATFORM ${wheels} AS bento-wheelhouse\nFROM python:3.11-slim AS base-container\n`,
    )
    expect(d).toContain('COPY --from=bento-model-0 / /\nCOPY --from=bento-model-1 / /\n')
    expect(d).toContain('--mount=type=bind,from=bento-wheelhouse,source=/wheels,target=/tmp/bento-wheelhouse')
    // Without --platform the Dockerfile is the one every build used so far (same cache keys).
    expect(renderDockerfile(ctx({models: {kind: 'images', refs}, crossPlatform: false}))).toBe(renderDockerfile(ctx({models: {kind: 'images', refs}})))
    expect(() => renderDockerfile(ctx({buildkit: false, crossPlatform: true}))).toThrow(/BuildKit/)
  })

  it('model images (classic builder): the copy sets the owner, as the classic builder does not keep it', () => {
    const d = renderDockerfile(ctx({buildkit: false, models: {kind: 'images', refs: ['bento-model.invalid/h0123456789abcdef/iris_clf:m1']}}))
    golden('model-images-classic', d)
    expect(d).toContain('COPY --from=bento-model.invalid/h0123456789abcdef/iris_clf:m1 --chown=bentoml:bentoml / /\n')
  })

  it('spec 2: commands, build_include, requirements.txt without install.sh, post_commands', () => {
    const d = renderDockerfile(
      ctx({
        commands: ['apt-get update && apt-get install -q -y --no-install-recommends git', 'chmod +x env/docker/script__x && env/docker/script__x'],
        commandFiles: ['env/docker/script__x'],
        buildInclude: ['wheels'],
        installScript: false,
        bentomlVersion: '1.4.40',
        postCommands: ['echo done'],
        models: {kind: 'images', refs: ['bento-model.invalid/h0123456789abcdef/iris_clf:m1']},
      }),
    )
    golden('spec2', d)
    expect(d).not.toContain('install.sh')
  })

  it('build-time secrets: every RUN of the Bento\'s steps mounts and exports them; no ARG/ENV holds them', () => {
    const d = renderDockerfile(
      ctx({
        commands: ['echo pre'],
        installScript: false,
        bentomlVersion: '1.4.40',
        postCommands: ['echo post'],
        setupScript: true,
        buildSecrets: ['HF_TOKEN', 'PIP_INDEX_TOKEN'],
      }),
    )
    golden('build-secrets', d)
    const mount = '--mount=type=secret,id=HF_TOKEN --mount=type=secret,id=PIP_INDEX_TOKEN '
    const exports = 'export HF_TOKEN="$(cat /run/secrets/HF_TOKEN)"; export PIP_INDEX_TOKEN="$(cat /run/secrets/PIP_INDEX_TOKEN)"; '
    expect(d).toContain(`RUN ${mount}${exports}echo pre\n`)
    expect(d).toContain(`RUN ${mount}${exports}echo post\n`)
    expect(d).toContain(`RUN ${mount}--mount=type=cache,target=/root/.cache/pip \\\n    ${exports}cd `)
    expect(d).toContain(`RUN ${mount}${exports}chmod +x`)
    expect(d).not.toMatch(/^(ARG|ENV) (HF_TOKEN|PIP_INDEX_TOKEN)/m)
  })

  it('--ca-cert: every package-install RUN (apt, commands, install, post commands, setup_script) trusts it; no ARG/ENV', () => {
    const plain = ctx({systemPackages: ['curl'], commands: ['echo pre'], postCommands: ['echo post'], setupScript: true})
    const d = renderDockerfile({...plain, caSecrets: ['bento-ca-0']})
    golden('ca-cert', d)
    const mount = '--mount=type=secret,id=bento-ca-0 --mount=type=tmpfs,target=/run/bento-ca '
    const runs = d.split('\n').filter((l) => l.startsWith('RUN '))
    // the user/venv step installs nothing; every other RUN mounts the CA
    expect(runs.filter((l) => !l.includes(mount)).map((l) => l.slice(0, 20))).toEqual(['RUN groupadd -g $BEN'])
    expect(d).toContain(`RUN ${mount}--mount=type=cache,sharing=locked,target=/var/lib/apt`)
    expect(d).toMatch(/\n {4}\{ cat \/etc\/ssl\/certs\/ca-certificates.crt 2>\/dev\/null; cat \/run\/secrets\/bento-ca-0; \} > \/run\/bento-ca\/ca-certificates.crt; .*rm -f \/etc\/apt/)
    expect(d).toContain(`RUN ${mount}--mount=type=cache,target=/root/.cache/pip \\\n    { cat `)
    expect(d).not.toMatch(/^(ARG|ENV)[^\n]*(PIP_CERT|SSL_CERT_FILE|bento-ca)/m)
    // without a CA the Dockerfile is the one bento build stores
    expect(renderDockerfile({...plain, caSecrets: []})).toBe(renderDockerfile(plain))
    expect(d.replaceAll(mount, '').replace(/\{ cat [^\n]*UV_NATIVE_TLS=1; /g, '')).toBe(renderDockerfile(plain))
  })

  it('index credentials: only the Python install RUN mounts them (a secret per ${VAR}, a netrc for NETRC); no ARG/ENV', () => {
    const plain = ctx({systemPackages: ['curl'], commands: ['echo pre'], postCommands: ['echo post'], setupScript: true, requireHashes: true, installScript: false})
    const d = renderDockerfile({...plain, indexCredentials: {variables: ['IDX_USER', 'IDX_TOKEN'], netrc: true}})
    const mounts = '--mount=type=secret,id=bento-index-IDX_USER --mount=type=secret,id=bento-index-IDX_TOKEN --mount=type=secret,id=bento-index-netrc '
    const exports = 'export IDX_USER="$(cat /run/secrets/bento-index-IDX_USER)"; export IDX_TOKEN="$(cat /run/secrets/bento-index-IDX_TOKEN)"; export NETRC=/run/secrets/bento-index-netrc; '
    expect(d).toContain(`RUN ${mounts}--mount=type=cache,target=/root/.cache/pip \\\n    ${exports}cd `)
    expect(d.split('\n').filter((l) => l.includes('bento-index-'))).toHaveLength(2)
    expect(d).not.toMatch(/^(ARG|ENV)[^\n]*(IDX_|NETRC)/m)
    // Without credentials the Dockerfile is the one bento build stores.
    expect(d.replace(mounts, '').replace(exports, '')).toBe(renderDockerfile(plain))
    expect(renderDockerfile({...plain, indexCredentials: {variables: [], netrc: false}})).toBe(renderDockerfile(plain))
    expect(() => renderDockerfile(ctx({buildkit: false, indexCredentials: {variables: ['IDX_TOKEN'], netrc: false}}))).toThrow(/classic builder has none/)
  })

  it('--ca-cert needs BuildKit', () => {
    expect(() => renderDockerfile(ctx({buildkit: false, caSecrets: ['bento-ca-0']}))).toThrow(/classic builder has none/)
  })

  it('build-time secrets need BuildKit and valid names', () => {
    expect(() => renderDockerfile(ctx({buildkit: false, buildSecrets: ['TOKEN']}))).toThrow(ConfigError)
    expect(() => renderDockerfile(ctx({buildSecrets: ['BAD NAME']}))).toThrow(/not a valid environment variable name/)
  })

  it('no models at all: no model step', () => {
    const d = renderDockerfile(ctx({models: {kind: 'context', present: false}}))
    expect(d).not.toMatch(/COPY[^\n]*models/)
  })

  it('python_version 3.10', () => {
    const d = renderDockerfile(ctx({pythonVersion: '3.10', baseImage: baseImageFor({pythonVersion: '3.10'})}))
    golden('python-3.10', d)
    expect(d).toContain('FROM python:3.10-slim AS base-container')
  })

  it('offline wheelhouse, BuildKit and classic', () => {
    const bk = renderDockerfile(ctx({wheelhouse: true}))
    golden('wheelhouse', bk)
    expect(bk).toContain('--mount=type=bind,source=.bento-wheelhouse,target=/tmp/bento-wheelhouse')
    const classic = renderDockerfile(ctx({wheelhouse: true, buildkit: false}))
    golden('wheelhouse-classic', classic)
    expect(classic).toContain('COPY .bento-wheelhouse /tmp/bento-wheelhouse/')
  })

  it('offline wheelhouse from its image (what containerize uses), BuildKit and classic', () => {
    const bk = renderDockerfile(ctx({wheelhouse: true, wheelhouseImage: 'bento-wheelhouse.invalid/h0123456789abcdef:0123456789abcdef01234567'}))
    golden('wheelhouse-image', bk)
    expect(bk).toContain('--mount=type=bind,from=bento-wheelhouse.invalid/h0123456789abcdef:0123456789abcdef01234567,source=/wheels,target=/tmp/bento-wheelhouse')
    const classic = renderDockerfile(ctx({wheelhouse: true, wheelhouseImage: 'bento-wheelhouse.invalid/h0123456789abcdef:0123456789abcdef01234567', buildkit: false}))
    expect(classic).toContain('COPY --from=bento-wheelhouse.invalid/h0123456789abcdef:0123456789abcdef01234567 /wheels /tmp/bento-wheelhouse/')
  })

  it('user dockerfile_template', () => {
    const template = [
      '{% extends bento_base_template %}',
      '{# add a tool next to the app #}',
      '{% block SETUP_BENTO_BASE_IMAGE %}',
      '{{ super() }}',
      'RUN echo "base ready"',
      '{% endblock %}',
      '{% block SETUP_BENTO_COMPONENTS %}',
      'RUN mkdir -p {{ bento__path }}/extra',
      '{{ super() }}',
      '{% endblock SETUP_BENTO_COMPONENTS %}',
      '{% block SETUP_BENTO_ENTRYPOINT %}',
      'RUN echo "user {{ bento__user }} uid {{ bento__uid_gid }}"',
      '{{ super() }}',
      '{% endblock %}',
      '',
    ].join('\n')
    const d = renderDockerfile(ctx(), {content: template, file: 'Dockerfile.template'})
    golden('user-template', d)
    expect(d.indexOf('RUN echo "base ready"')).toBeLessThan(d.indexOf('# Block SETUP_BENTO_USER'))
    expect(d.indexOf('RUN mkdir -p /home/bentoml/bento/extra')).toBeLessThan(d.indexOf('COPY --chown=bentoml:bentoml ./env/python'))
    expect(d.indexOf('RUN echo "user bentoml uid 1034"')).toBeLessThan(d.indexOf('USER bentoml'))
  })

  it('cuda_version (v1.4.15 image, distro python3)', () => {
    const baseImage = baseImageFor({pythonVersion: '3.11', cudaVersion: 'default'})
    expect(baseImage).toBe('nvidia/cuda:11.6.2-cudnn8-runtime-ubuntu20.04')
    const d = renderDockerfile(ctx({baseImage, cudaVersion: '11.6.2'}))
    golden('cuda', d)
    expect(d).toContain('apt-get install -q -y --no-install-recommends python3 python3-venv python3-pip')
    expect(d).toContain('python_version')
  })
})

describe('renderDockerfile layer order and contract', () => {
  const d = renderDockerfile(ctx({systemPackages: ['git'], needsCompilers: true, setupScript: true, env: [{name: 'A', value: '1'}]}))
  const at = (s: string): number => {
    const i = d.indexOf(s)
    expect(i, s).toBeGreaterThanOrEqual(0)
    return i
  }

  it('orders base → apt → user → python deps → models → code → setup_script → USER', () => {
    const order = [
      'FROM ',
      'apt-get install',
      'useradd',
      'python3 -m venv /app/.venv',
      'COPY --chown=bentoml:bentoml ./env/python',
      'env/python/install.sh',
      'COPY --chown=bentoml:bentoml ./models',
      'COPY --chown=bentoml:bentoml ./src',
      'env/docker/setup_script',
      'USER bentoml',
      'ENTRYPOINT [',
    ].map(at)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
  })

  it('sets BentoML runtime variables', () => {
    for (const s of [
      'BENTO_PATH=$BENTO_PATH',
      'BENTOML_HOME=/home/bentoml/',
      'BENTOML_HF_CACHE_DIR=/home/bentoml/bento/hf-models',
      'BENTOML_CONTAINERIZED=true',
      'LANG=C.UTF-8',
      'LC_ALL=C.UTF-8',
      'PYTHONIOENCODING=UTF-8',
      'PYTHONUNBUFFERED=1',
      'ARG BENTO_USER_UID=1034',
      'ARG BENTO_USER_GID=1034',
      'EXPOSE 3000',
      'build-essential git',
    ])
      at(s)
  })

  it('installs build-essential only when asked', () => {
    expect(renderDockerfile(ctx({systemPackages: ['git']}))).not.toContain('build-essential')
  })

  it('has a curl-free HEALTHCHECK on /readyz and a JSON LABEL block', () => {
    expect(d).toMatch(/HEALTHCHECK .*\\\n {4}CMD \[ "\/app\/\.venv\/bin\/python3", "-c", ".*\/readyz/)
    expect(d).not.toContain('curl')
    expect(d).toContain('"dev.bento.labels.owner"="bentoml-team"')
    expect(d).toContain('"org.opencontainers.image.description"="Classifies iris flowers."')
    expect(instructions(d).filter((i) => i === 'LABEL')).toHaveLength(1)
  })

  it('renders exactly the same text twice', () => {
    expect(renderDockerfile(ctx())).toBe(renderDockerfile(ctx()))
  })

  it('keeps values out of shell and variable expansion', () => {
    const evil = renderDockerfile(ctx({labels: {'x.y': 'a"b $(rm -rf /) `c`'}, systemPackages: ['libfoo1']}))
    expect(evil).toContain('"x.y"="a\\"b \\$(rm -rf /) `c`"')
    const multiline = renderDockerfile(ctx({labels: {note: 'line1\nline2'}}))
    expect(multiline).toContain('"note"="line1 line2"')
  })
})

describe('renderDockerfile validation', () => {
  const problems = (c: Partial<DockerfileContext>): string[] => {
    try {
      renderDockerfile(ctx(c))
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      return (err as ConfigError).diagnostics.map((p) => `${p.key}: ${p.message}`)
    }
    throw new Error('expected a ConfigError')
  }

  it('rejects unsafe or invalid inputs, all at once', () => {
    const p = problems({
      baseImage: 'python:3.11 slim',
      systemPackages: ['ok', 'bad;rm -rf /'],
      env: [
        {name: '1BAD', value: 'x'},
        {name: 'MULTI', value: 'a\nb'},
        {name: 'PATH', value: '/x'},
      ],
    })
    expect(p).toEqual([
      'docker.base_image: "python:3.11 slim" is not an image reference',
      'docker.system_packages[1]: "bad;rm -rf /" is not an apt package name',
      'envs[0].name: "1BAD" is not a valid environment variable name',
      'envs[1].value: the value of MULTI contains a line break, which a Dockerfile cannot express',
      'envs[2].name: PATH is set by the image and cannot be overridden',
    ])
  })

  it('a Bento that breaks a rule the bentofile check enforces gets the words of that check (one rule, one message)', () => {
    const long = `${'X'.repeat(70)}-1`
    const diagnostics = (c: Partial<DockerfileContext>): RuleProblem[] => {
      try {
        renderDockerfile(ctx(c))
      } catch (err) {
        return (err as ConfigError).diagnostics.map((d) => ({message: d.message, ...(d.hint === undefined ? {} : {hint: d.hint})}))
      }
      throw new Error('expected a ConfigError')
    }
    expect(diagnostics({env: [{name: long, value: 'x'}]})).toEqual([envNameProblem(long)])
    expect(diagnostics({env: [{name: 'PATH', value: '/x'}]})).toEqual([envNameProblem('PATH')])
    expect(diagnostics({env: [{name: 'MULTI', value: 'a\nb'}]})).toEqual([envValueProblem('MULTI', 'a\nb')])
    expect(diagnostics({systemPackages: ['bad;rm -rf /']})).toEqual([aptPackageProblem('bad;rm -rf /')])
    expect(diagnostics({baseImage: `python:3.11 ${'slim'.repeat(20)}`})).toEqual([imageRefProblem(`python:3.11 ${'slim'.repeat(20)}`)])
  })
})

describe('the image runtime contract comes from src/bentoml/runtime.ts', () => {
  it('the shipped template holds none of its values (they are fed to it), and the Dockerfile has each of them', () => {
    const template = readFileSync(fileURLToPath(new URL('../../templates/Dockerfile.template', import.meta.url)), 'utf8')
    const body = template.replace(/\{\{!--[\s\S]*?--\}\}/g, '')
    const values = [runtime.BENTO_PATH, runtime.IMAGE_BENTOML_HOME, runtime.IMAGE_HF_CACHE_DIR, runtime.IMAGE_VENV, String(runtime.SERVE_PORT), String(runtime.BENTO_UID)]
    expect(values.filter((v) => body.includes(v))).toEqual([])
    expect(body).not.toMatch(new RegExp(`\\b${runtime.BENTO_USER}\\b`))
    const dockerfile = renderDockerfile(ctx())
    for (const v of values) expect(dockerfile).toContain(v)
    expect(dockerfile).toContain(`USER ${runtime.BENTO_USER}\n`)
    expect(dockerfile).toContain(`EXPOSE ${runtime.SERVE_PORT}\n`)
  })

  it('a user template sees the same contract (bento__user, bento__home, __prometheus_port__)', () => {
    const v = userTemplateVariables({bentoPath: runtime.BENTO_PATH, uid: runtime.BENTO_UID, baseImage: 'python:3.11-slim'})
    expect(v).toMatchObject({bento__user: runtime.BENTO_USER, bento__home: runtime.IMAGE_BENTOML_HOME, __prometheus_port__: runtime.METRICS_PORT})
  })

  it('the verbatim entrypoint.sh agrees with it (BENTO_PATH default, the venv it activates)', () => {
    const script = entrypointScript()
    expect(script).toContain(`BENTO_PATH="\${BENTO_PATH:-${runtime.BENTO_PATH}}"`)
    expect(script).toContain(`for venv in ${runtime.IMAGE_VENV} ./.venv; do`)
  })
})
