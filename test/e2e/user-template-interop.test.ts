/**
 * User `dockerfile_template`s rendered by bento's engine (nunjucks) against the REAL Jinja2 of the BentoML 1.4.15
 * venv, set up as BentoML's `generate_containerfile` sets it up (trim_blocks, lstrip_blocks, the do/loopcontrols
 * extensions, `bash_quote`, `expands_bento_path`, BentoML's own `_macros.j2`), with the same context variables.
 * Both extend the same base (each block renders a `super()` marker), so the text of every block must be equal.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BENTO_GID, BENTO_PATH, BENTO_UID} from '../../src/docker/dockerfile.js'
import {parseUserTemplate, USER_TEMPLATE_BLOCKS, userTemplateOverrides, userTemplateVariables} from '../../src/docker/user-template.js'
import {bentomlVenv} from '../helpers/env.js'
import {startZygote, type Zygote} from '../helpers/zygote.js'

const EXAMPLES = fileURLToPath(new URL('../fixtures/user-templates/', import.meta.url))
const MARK = '<<super>>'

const CTX = {
  baseImage: 'python:3.11-slim',
  pythonVersion: '3.11',
  distro: 'debian',
  systemPackages: ['libgomp1', 'git'],
  env: [{name: 'MODE', value: 'prod'}],
  setupScript: true,
  buildkit: true,
  bentoPath: BENTO_PATH,
  uid: BENTO_UID,
  gid: BENTO_GID,
}

/** Jinja2 in the venv, as BentoML 1.4.15 configures it; prints {block: text} with the super() marker. */
const JINJA = String.raw`
import json, shlex, sys, os
import jinja2
from bentoml._internal.container import generate
from bentoml._internal.container.generate import expands_bento_path
source, variables, blocks, mark = json.load(sys.stdin)
base = "".join("\x00b:%s\x00{%% block %s %%}%s{%% endblock %%}\x00e:%s\x00" % (b, b, mark, b) for b in blocks)
templates = os.path.join(os.path.dirname(generate.__file__), "frontend", "dockerfile", "templates")
class Loader(jinja2.BaseLoader):
    def get_source(self, environment, name):
        if name in ("base.j2", "base_debian.j2", "python_debian.j2", "cuda_debian.j2"):
            return base, name, lambda: True
        if name == "_macros.j2":
            return open(os.path.join(templates, name)).read(), name, lambda: True
        raise jinja2.TemplateNotFound(name)
env = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols", "jinja2.ext.debug"], trim_blocks=True, lstrip_blocks=True, loader=Loader())
env.filters["bash_quote"] = shlex.quote
globals = {"expands_bento_path": expands_bento_path}
parent = env.get_template("base.j2", globals=globals)
out = env.from_string(source, globals={"bento_base_template": parent, **globals}).render(**variables)
print(json.dumps({b: out.split("\x00b:%s\x00" % b)[1].split("\x00e:%s\x00" % b)[0] for b in blocks}))
`

// One Python for the file: Jinja2 and BentoML's container generator imported once, each template rendered in a fork
// (test/helpers/zygote.ts).
let python: Zygote
beforeAll(() => {
  python = startZygote(bentomlVenv().python, ['jinja2', 'bentoml._internal.container.generate'])
})
afterAll(async () => {
  await python.close()
})

async function jinja2(source: string): Promise<Record<string, string>> {
  const variables = Object.fromEntries(Object.entries(userTemplateVariables(CTX)).filter(([, v]) => typeof v !== 'function'))
  const input = JSON.stringify([source, variables, USER_TEMPLATE_BLOCKS, MARK])
  const r = await python.run(['-c', JINJA], {input})
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Record<string, string>
}

function ours(source: string): Record<string, string> {
  const overrides = userTemplateOverrides(parseUserTemplate(source, 'Dockerfile.template'), userTemplateVariables(CTX))
  return Object.fromEntries(USER_TEMPLATE_BLOCKS.map((b) => [b, overrides[b]?.(MARK) ?? MARK]))
}

const FEATURES = [
  '{% extends bento_base_template %}',
  '{% import "_macros.j2" as common %}',
  '{% set pkgs = ["curl", "jq", "git"] %}',
  '{% macro apt(names) -%} apt-get install -y {{ names | join(" ") }} {%- endmacro %}',
  '{% block SETUP_BENTO_BASE_IMAGE %}',
  '{{ super() }}',
  '    {% for p in pkgs[1:] | reject("equalto", "git") %}',
  'RUN echo {{ loop.index }}/{{ loop.length }} {{ p | upper }} {{ loop.first }}',
  '    {% endfor %}',
  'RUN {{ apt(pkgs) }} && echo {{ pkgs }} {{ __options__env }} {{ __options__cuda_version }} {{ __is_cuda__ }}',
  '{% if __options__system_packages is not none and "git" in __options__system_packages %}',
  'RUN echo {{ __options__system_packages | join(",") }} {{ "a b" | bash_quote }} {{ undefined_var | default("dflt") }}',
  '{%- endif %}',
  '{% endblock %}',
  '{% block SETUP_BENTO_COMPONENTS %}',
  '{% for key, value in __options__env.items() %}',
  'ENV {{ key }}={{ value }}',
  '{% endfor %}',
  '{% call common.RUN(__enable_buildkit__) -%} {{ common.mount_cache("/root/.cache/pip") }} {% endcall -%} pip install x',
  'RUN {{ expands_bento_path("env", "docker", "setup_script", bento_path=bento__path) }} {{ bento__uid_gid }} {{ __prometheus_port__ }}',
  '{{ super() }}',
  '{{ super() }}',
  '{% endblock %}',
  '',
].join('\n')

describe('user dockerfile_template: bento (nunjucks) renders what the real Jinja2 of BentoML 1.4.15 renders', () => {
  const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.j2')).sort()

  it.each(examples)('%s (BentoML docs)', async (name) => {
    const source = readFileSync(join(EXAMPLES, name), 'utf8')
    expect(ours(source)).toEqual(await jinja2(source))
  })

  it('set, macros, loops with filters and loop vars, slices, tests, Python-style values, _macros.j2, expands_bento_path', async () => {
    expect(ours(FEATURES)).toEqual(await jinja2(FEATURES))
  })
})
