/**
 * A Jinja2 `docker.dockerfile_template` ({% set %}, `| join`, a loop, `bash_quote`, BentoML's variables) through
 * `bento build` and `bento containerize` on a REAL Docker engine: the image runs the template's steps and still
 * serves the Bento.
 */
import {randomBytes} from 'node:crypto'
import {appendFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {DOCKER_CLI as DOCKER, imagesMadeBy, irisProject, removeDir, removeHomeImages, REPO, requireDocker, run, runBento, saveIrisModel, tempDir} from '../helpers/env.js'

const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(REPO, '.tools/wheelhouse')
const IMAGE = `iris-user-template:${randomBytes(4).toString('hex')}`

const TEMPLATE = `{% extends bento_base_template %}
{% set words = ["built", "from", "a", "template"] %}
{% set sentence = words | join(" ") %}
{% block SETUP_BENTO_COMPONENTS %}
{{ super() }}
RUN echo {{ sentence | bash_quote }} > {{ bento__path }}/template.txt \\
{% for w in words %}
    && echo {{ loop.index }}={{ w | upper }} >> {{ bento__path }}/template.txt{% if not loop.last %} \\{% endif %}

{% endfor %}
{% endblock %}
`

describe('bento containerize with a Jinja2 dockerfile_template, on a real Docker engine', () => {
  let home: string
  let project: string
  const made: string[] = []

  beforeAll(async () => {
    await requireDocker()
    home = await tempDir('bento-home-template-')
    project = await irisProject()
    await saveIrisModel(home)
    await writeFile(join(project, 'Dockerfile.template'), TEMPLATE)
    await appendFile(join(project, 'bentofile.yaml'), 'docker:\n  dockerfile_template: Dockerfile.template\n')
  })

  afterAll(async () => {
    for (const i of [IMAGE, ...made]) await run(DOCKER, ['rmi', '-f', i])
    await removeHomeImages(home)
    await removeDir(home)
    await removeDir(project)
  })

  it('runs the template steps in the image', async () => {
    const built = await runBento(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(built.code, built.stderr).toBe(0)
    const tag = (JSON.parse(built.stdout) as {tag: string}).tag
    const image = await runBento(['containerize', tag, '-t', IMAGE, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}})
    expect(image.code, image.stderr).toBe(0)
    made.push(...imagesMadeBy(JSON.parse(image.stdout)))
    const out = await run(DOCKER, ['run', '--rm', '--entrypoint', 'cat', IMAGE, '/home/bentoml/bento/template.txt'])
    expect(out.code, out.stderr).toBe(0)
    expect(out.stdout).toBe('built from a template\n1=BUILT\n2=FROM\n3=A\n4=TEMPLATE\n')
    const user = await run(DOCKER, ['run', '--rm', '--entrypoint', 'id', IMAGE, '-u'])
    expect(user.stdout.trim()).toBe('1034')
  })
})
