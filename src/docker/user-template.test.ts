import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {ConfigError, formatDiagnostic} from '../errors.js'
import {BENTO_GID, BENTO_PATH, BENTO_UID, type DockerfileContext, renderDockerfile} from './dockerfile.js'
import {bashQuote, parseUserTemplate, USER_TEMPLATE_BLOCKS, userTemplateOverrides, userTemplateVariables} from './user-template.js'

const EXAMPLES_DIR = fileURLToPath(new URL('../../test/fixtures/user-templates/', import.meta.url))
const GOLDEN_DIR = EXAMPLES_DIR
const FILE = 'env/docker/Dockerfile.template'

/**
 * Golden files of the user's part only: each block the template overrides, with `super()` shown as a
 * `# [bento: NAME]` line, so that the goldens do not change with bento's own Dockerfile template.
 */
function golden(name: string, actual: string): void {
  const file = `${GOLDEN_DIR}${name}`
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`missing golden file ${file}; run with UPDATE_GOLDEN=1`)
    mkdirSync(GOLDEN_DIR, {recursive: true})
    writeFileSync(file, actual)
  }
  expect(actual).toBe(readFileSync(file, 'utf8'))
}

function ctx(overrides: Partial<DockerfileContext> = {}): DockerfileContext {
  return {
    baseImage: 'python:3.11-slim',
    pythonVersion: '3.11',
    distro: 'debian',
    systemPackages: ['libgomp1'],
    needsCompilers: false,
    env: [{name: 'MODE', value: 'prod'}],
    setupScript: false,
    buildkit: true,
    wheelhouse: false,
    labels: {'dev.bento.tag': 'iris:v1'},
    bentoPath: BENTO_PATH,
    uid: BENTO_UID,
    gid: BENTO_GID,
    ...overrides,
  }
}

const render = (content: string, c: DockerfileContext = ctx()): string => renderDockerfile(c, {content, file: FILE})

function fails(content: string): ConfigError {
  try {
    render(content)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return e as ConfigError
  }
  throw new Error('expected a ConfigError')
}
const firstProblem = (content: string): string => formatDiagnostic(fails(content).diagnostics[0]!).split('\n')[0]!

describe("BentoML's documented dockerfile_template examples (goldens)", () => {
  const examples = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.j2')).sort()

  it('are all here', () => {
    expect(examples).toEqual(['aws-arg.j2', 'aws-secret.j2', 'components.j2', 'conda.j2', 'entrypoint.j2', 'ingress.j2', 'mypackage.j2'])
  })

  it.each(examples)('%s', (name) => {
    const source = readFileSync(`${EXAMPLES_DIR}${name}`, 'utf8')
    const overrides = userTemplateOverrides(parseUserTemplate(source, FILE), userTemplateVariables(ctx()))
    const parts = USER_TEMPLATE_BLOCKS.filter((b) => overrides[b]).map((b) => `# ==== ${b} ====\n${overrides[b]!(`# [bento: ${b}]\n`)}`)
    golden(name.replace(/\.j2$/, '.rendered'), parts.join(''))
    const d = render(source)
    // bento's contract stays around the user's lines.
    expect(d).toContain('USER bentoml')
    expect(d).toContain('COPY --chown=bentoml:bentoml ./src ./src/')
  })

  it('conda.j2: {% set %} with | join, {% extends "base_debian.j2" %}, and BentoML 1.4.15 leaves __python_version_full__ empty', () => {
    const d = render(readFileSync(`${EXAMPLES_DIR}conda.j2`, 'utf8'))
    expect(d).toContain('ARG CONDA_VERSION=py39_4.11.0')
    expect(d).toContain('/opt/conda/bin/conda clean -afy')
    expect(d).toContain('SAVED_PYTHON_VERSION=\n')
    expect(d.indexOf('FROM debian:bullseye-slim as conda-build')).toBeLessThan(d.indexOf('FROM python:3.11-slim AS base-container'))
  })
})

describe('the context BentoML 1.4.15 renders templates with', () => {
  it('bento__*, __options__*, __base_image__, expands_bento_path, bash_quote, _macros.j2', () => {
    const template = [
      '{% import "_macros.j2" as common %}',
      '{% extends bento_base_template %}',
      '{% block SETUP_BENTO_COMPONENTS %}',
      'RUN echo {{ bento__user }} {{ bento__uid_gid }} {{ bento__home }} {{ bento__path }} {{ bento__entrypoint }}',
      'RUN echo {{ __base_image__ }} {{ __options__python_version }} {{ __options__distro }} {{ __prometheus_port__ }} {{ __is_cuda__ }}',
      'RUN apt-get install -y {{ __options__system_packages | join(" ") }} && echo {{ __options__env.MODE }}',
      '{% for key, value in __options__env.items() %}',
      'ENV {{ key }}={{ value | bash_quote }}',
      '{% endfor %}',
      'RUN {{ expands_bento_path("env", "docker", "entrypoint.sh", bento_path=bento__path) }} {{ "it\'s" | bash_quote }}',
      '{% call common.RUN(__enable_buildkit__) -%} {{ common.mount_cache("/root/.cache/pip") }} {% endcall -%} pip install extra',
      '{% if __options__setup_script is none %}',
      'RUN echo no-setup-script',
      '{% endif %}',
      '{{ super() }}',
      '{% endblock %}',
    ].join('\n')
    const d = render(template)
    expect(d).toContain('RUN echo bentoml 1034 /home/bentoml/ /home/bentoml/bento /home/bentoml/bento/env/docker/entrypoint.sh\n')
    expect(d).toContain('RUN echo python:3.11-slim 3.11 debian 3001 False\n')
    expect(d).toContain('RUN apt-get install -y libgomp1 && echo prod\n')
    expect(d).toContain('ENV MODE=prod\n')
    expect(d).toContain(`RUN /home/bentoml/bento/env/docker/entrypoint.sh 'it'"'"'s'\n`)
    expect(d).toContain('RUN --mount=type=cache,target=/root/.cache/pip pip install extra\n')
    expect(d).toContain('RUN echo no-setup-script\n')
  })

  it('variables: a custom base image is __options__base_image; the default one is not', () => {
    expect(userTemplateVariables(ctx())).toMatchObject({__options__base_image: null, __base_image__: 'python:3.11-slim'})
    expect(userTemplateVariables(ctx({baseImage: 'my/base:1'}))).toMatchObject({__options__base_image: 'my/base:1', __base_image__: 'my/base:1'})
  })

  it('bash_quote is shlex.quote', () => {
    expect(['', 'abc', 'a b', "it's", 'x=1,y/z'].map(bashQuote)).toEqual(["''", 'abc', "'a b'", `'it'"'"'s'`, 'x=1,y/z'])
  })
})

describe('Jinja2 as nunjucks renders it', () => {
  it('{% set %}, loops with loop.index, macros, slices, True/None, filters, whitespace control', () => {
    const template = [
      '{% extends bento_base_template %}',
      '{% set pkgs = ["curl", "jq", "git"] %}',
      '{% macro apt(names) %}apt-get install -y {{ names | join(" ") }}{% endmacro %}',
      '{% block SETUP_BENTO_BASE_IMAGE %}',
      '{{ super() }}',
      '    {% for p in pkgs[1:] %}',
      'RUN echo {{ loop.index }} {{ p | upper }}',
      '    {% endfor %}',
      'RUN {{ apt(pkgs) }}',
      '{% if None is none and True %}',
      'RUN echo {{ pkgs | length }} {{ "a-b" | replace("-", "_") }} {{ undefined_var | default("fallback") }}',
      '{%- endif %}',
      '{% endblock %}',
    ].join('\n')
    const d = render(template, ctx({systemPackages: []}))
    expect(d).toContain('USER root\nRUN echo 1 JQ\nRUN echo 2 GIT\nRUN apt-get install -y curl jq git\nRUN echo 3 a_b fallback')
  })

  it('super() at the start, in the middle, twice, or not at all (the block is replaced)', () => {
    const overrides = userTemplateOverrides(
      parseUserTemplate(
        '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\nA\n{{ super() }}\nB\n{{ super() }}\n{% endblock %}\n{% block SETUP_BENTO_ENTRYPOINT %}\nENTRYPOINT ["/x"]\n{% endblock %}\n',
        FILE,
      ),
      userTemplateVariables(ctx()),
    )
    expect(Object.keys(overrides).sort()).toEqual(['SETUP_BENTO_ENTRYPOINT', 'SETUP_BENTO_USER'])
    expect(overrides.SETUP_BENTO_USER?.('ours\n')).toBe('A\nours\nB\nours\n')
    expect(overrides.SETUP_BENTO_ENTRYPOINT?.('ours\n')).toBe('ENTRYPOINT ["/x"]\n')
    const d = render('{% extends bento_base_template %}\n{% block SETUP_BENTO_ENTRYPOINT %}\nENTRYPOINT ["/custom"]\n{% endblock %}\n')
    expect(d).toContain('ENTRYPOINT ["/custom"]\n')
    expect(d).not.toContain('USER bentoml')
  })

  it('text outside blocks after {% extends %} is ignored, as in Jinja2; a variable BentoML does not define is empty', () => {
    const d = render('{% extends bento_base_template %}\nRUN ignored\n{% block SETUP_BENTO_USER %}\n{{ super() }}\nRUN echo "[{{ bento__nope }}]"\n{% endblock %}\n')
    expect(d).not.toContain('RUN ignored')
    expect(d).toContain('RUN echo "[]"\n')
  })
})

describe('what nunjucks cannot render as Jinja2 would: a clear error with the template line', () => {
  it.each([
    ['{% do %}', '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\n{% set xs = [] %}\n{% do xs.append(1) %}\n{% endblock %}\n', /:4:1 docker\.dockerfile_template: \{% do %\} is a Jinja2 tag bento's template engine \(nunjucks\) does not have/],
    ['{% break %}', '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\n{% for i in [1, 2] %}\n{% break %}\n{% endfor %}\n{% endblock %}\n', /:4:1 .*\{% break %\} is a Jinja2 tag/],
    ['{% with %}', '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\n\n{% with a = 1 %}{{ a }}{% endwith %}\n{% endblock %}\n', /:4:1 .*\{% with %\} is a Jinja2 tag/],
    ['a Python str method', '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\nRUN a\n\nRUN {{ "x".strip() }}\n{% endblock %}\n', /:5:1 .*strip\(\) is not defined in bento's template engine/],
    ['a Jinja2 filter nunjucks lacks', '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\nRUN {{ 1024 | filesizeformat }}\n{% endblock %}\n', /:3:1 .*the Jinja2 filter "filesizeformat" is not available/],
    ['a Jinja2 test nunjucks lacks', '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\n{% if x is mapping_like %}{% endif %}\n{% endblock %}\n', /:3:1 .*the Jinja2 test "is mapping_like" is not available/],
    ['a loop filter', '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\n{% for p in ["a", "b"] if p != "a" %}\nRUN {{ p }}\n{% endfor %}\n{% endblock %}\n', /:3:1 .*a loop filter \(\{% for x in items if condition %\}\) is a Jinja2 feature nunjucks reads differently/],
    ['a syntax error', '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\nRUN {{ 1 + }}\n{% endblock %}\n', /:3:1 .*unexpected token/],
  ])('%s', (_name, content, message) => {
    expect(firstProblem(content)).toMatch(new RegExp(`^${FILE.replace(/\./g, '\\.')}${message.source}`))
  })
})

describe('what would not give the image BentoML builds: refused with the line', () => {
  it.each([
    ['no {% extends %}', '{% block SETUP_BENTO_USER %}\nRUN x\n{% endblock %}\n', /:1:1 .*the template does not extend bento_base_template/],
    ['an unknown base', '{% extends "base_alpine.j2" %}\n', /:1:1 .*only \{% extends bento_base_template %\}/],
    ['text before {% extends %}', 'FROM scratch\n{% extends bento_base_template %}\n', /:1:1 .*text before \{% extends %\} would go before the FROM line/],
    ['an unknown block', '{% extends bento_base_template %}\n{% block NOPE %}\n{% endblock %}\n', /:2:1 .*unknown block "NOPE"/],
    ['a runtime-contract setting', '{% extends bento_base_template %}\n{% set bento__user = "app" %}\n', /:2:1 .*\{% set bento__user %\} changes the image's runtime contract/],
    ['another template', '{% extends bento_base_template %}\n{% block SETUP_BENTO_USER %}\n{% include "other.j2" %}\n{% endblock %}\n', /template "other\.j2" cannot be loaded/],
  ])('%s', (_name, content, message) => {
    expect(firstProblem(content)).toMatch(message)
  })

  it('reports every static problem at once', () => {
    const error = fails('{% extends bento_base_template %}\n{% set bento__path = "/x" %}\n{% block NOPE %}{% endblock %}\n{% block SETUP_BENTO_USER %}{{ 1 | pprint }}{% endblock %}\n')
    expect(error.diagnostics.map((d) => d.line)).toEqual([2, 3, 4])
  })
})

describe('the engine is loaded only for a Bento with a template', () => {
  it('rendering without a template does not load nunjucks; with one it does', () => {
    const dockerfileTs = fileURLToPath(new URL('./dockerfile.ts', import.meta.url))
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url))
    const script = (withTemplate: boolean): string => `
      import {createRequire} from 'node:module'
      import {renderDockerfile} from ${JSON.stringify(dockerfileTs)}
      const ctx = ${JSON.stringify(ctx())}
      renderDockerfile(ctx${withTemplate ? ", {content: '{% extends bento_base_template %}', file: 'T'}" : ''})
      const loaded = Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/nunjucks/'))
      console.log(JSON.stringify(loaded))`
    const run = (withTemplate: boolean): boolean => {
      const child = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script(withTemplate)], {encoding: 'utf8'})
      expect(child.status, child.stderr).toBe(0)
      return JSON.parse(child.stdout.trim().split('\n').pop()!) as boolean
    }
    expect(run(false)).toBe(false)
    expect(run(true)).toBe(true)
  })
})
