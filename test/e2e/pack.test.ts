/**
 * The package as users get it: `npm pack`, install the tarball into a temporary prefix (dependencies from the npm
 * cache, or the registry), and run the installed `bento` — build a Bento whose Dockerfile comes from the shipped
 * templates and a Jinja2 dockerfile_template (nunjucks must be a runtime dependency), then list it.
 */
import {readdir, readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {REPO, run, tempDir} from '../helpers/env.js'
import {echoProject} from '../helpers/projects.js'

const NPM = join(process.execPath, '..', 'npm')

describe('npm pack → install into a prefix → bento build', () => {
  let root: string
  let bento: string

  beforeAll(async () => {
    root = await tempDir('bento-pack-')
    // dist/ was compiled by the test run's global setup; --ignore-scripts: no second compile.
    const pack = await run(NPM, ['pack', '--ignore-scripts', '--pack-destination', root], {cwd: REPO})
    expect(pack.code, pack.stderr).toBe(0)
    const tarball = (await readdir(root)).find((f) => f.endsWith('.tgz'))
    expect(tarball).toBeDefined()
    const prefix = join(root, 'prefix')
    const install = await run(NPM, ['install', '-g', '--prefix', prefix, join(root, tarball!), '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: root,
    })
    expect(install.code, install.stderr).toBe(0)
    bento = join(prefix, 'bin', 'bento')
  })

  afterAll(async () => {
    await rm(root, {recursive: true, force: true})
  })

  it('ships no tests and no stale build output', async () => {
    const list = await run('tar', ['tzf', (await readdir(root)).map((f) => join(root, f)).find((f) => f.endsWith('.tgz'))!])
    const files = list.stdout.split('\n').filter(Boolean)
    expect(files.filter((f) => /\.test\.(js|ts)$/.test(f))).toEqual([])
    expect(files).toContain('package/templates/Dockerfile.template')
    // The bundles (scripts/bundle.mjs) bin/run.js loads: the direct path's for --version and build, oclif's for the rest.
    expect(files).toContain('package/dist/direct.cjs')
    expect(files).toContain('package/dist/oclif.cjs')
    // every dist/ module has its source in src/: nothing left over from an older build
    const src = new Set((await run('git', ['ls-files', 'src'], {cwd: REPO})).stdout.split('\n').map((f) => f.replace(/^src\//, '').replace(/\.ts$/, '')))
    const stale = files.filter((f) => f.startsWith('package/dist/') && f.endsWith('.js')).map((f) => f.slice('package/dist/'.length, -3)).filter((m) => !src.has(m))
    expect(stale).toEqual([])
  })

  it('the installed bento builds a Bento with a Jinja2 dockerfile_template and lists it', async () => {
    const version = await run(bento, ['--version'])
    expect(version.stdout).toMatch(/^bento-cli\/\d+\.\d+\.\d+ /)
    const project = await echoProject(join(root, 'project'), 'packed', 'docker:\n  dockerfile_template: Dockerfile.template\n')
    await run('sh', ['-c', `printf '%s\\n' '{% extends bento_base_template %}' '{% set a = ["x", "y"] | join("-") %}' '{% block SETUP_BENTO_COMPONENTS %}' '{{ super() }}' 'RUN echo {{ a }}' '{% endblock %}' > Dockerfile.template`], {cwd: project})
    const env = {BENTOML_HOME: join(root, 'home')}
    const built = await run(bento, ['build', '--json', project], {env})
    expect(built.code, built.stderr).toBe(0)
    const {path, tag} = JSON.parse(built.stdout) as {path: string; tag: string}
    expect(await readFile(join(path, 'env/docker/Dockerfile'), 'utf8')).toContain('\nRUN echo x-y\n')
    const list = await run(bento, ['list', '--json'], {env})
    expect((JSON.parse(list.stdout) as {bentos: Array<{tag: string}>}).bentos.map((b) => b.tag)).toEqual([tag])
  })
})
