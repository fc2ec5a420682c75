/**
 * `bento k8s` through the compiled CLI, with no Docker engine (DOCKER_HOST points nowhere): the YAML on stdout is
 * schema-valid, the warnings and the Secret line go to stderr, bad input is a typed error without a stack trace.
 */
import {rm} from 'node:fs/promises'
import {join} from 'node:path'

import {Deployment} from 'kubernetes-models/apps/v1/Deployment'
import {Service} from 'kubernetes-models/v1/Service'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {tempDir} from '../helpers/env.js'
import {writeTree} from '../helpers/files.js'
import {bentoTreeWithEnv} from '../helpers/store-fixtures.js'

const NO_DOCKER = {DOCKER_HOST: 'tcp://127.0.0.1:1'}
let home: string

beforeAll(async () => {
  home = await tempDir('bento-k8s-cli-')
  await writeTree(join(home, 'bentos/iris'), {v1: bentoTreeWithEnv('iris', {name: 'API_KEY', stage: 'all'}, '{cpu: 1, memory: "lots"}'), latest: 'v1'})
  await writeTree(join(home, 'bentos/ok'), {v1: bentoTreeWithEnv('ok', {name: 'API_KEY', stage: 'all'}), latest: 'v1'})
})
afterAll(async () => {
  await rm(home, {recursive: true, force: true})
})

describe('bento k8s: the command', () => {
  it('prints schema-valid YAML on stdout; the no-engine warning and the kubectl secret line on stderr', async () => {
    const r = await runBentoInProcess(['k8s', 'ok', '--image', 'reg.example/ok:dev', '-n', 'ml'], {env: {BENTOML_HOME: home, ...NO_DOCKER}})
    expect(r.code, r.stderr).toBe(0)
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as {kind: string})
    expect(docs.map((d) => d.kind)).toEqual(['Service', 'Deployment'])
    new Service(docs[0] as never).validate()
    new Deployment(docs[1] as never).validate()
    expect(r.stderr).toContain('no Docker engine answers')
    expect(r.stderr).toContain('kubectl create secret generic ok-env -n ml --from-literal=API_KEY=…')
    expect(r.stdout).not.toContain('kubectl')
  })

  it('-o json: one v1 List; --json: the result object', async () => {
    const j = await runBentoInProcess(['k8s', 'ok', '-o', 'json'], {env: {BENTOML_HOME: home, ...NO_DOCKER}})
    expect(j.code, j.stderr).toBe(0)
    expect(JSON.parse(j.stdout)).toMatchObject({apiVersion: 'v1', kind: 'List', items: [{kind: 'Service'}, {kind: 'Deployment'}]})
    const r = await runBentoInProcess(['k8s', 'ok', '--json'], {env: {BENTOML_HOME: home, ...NO_DOCKER}})
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({bento: 'ok:v1', image: 'ok:v1', imageSource: 'tag', secret: {keys: ['API_KEY']}})
  })

  it.each([
    [['nope'], 'E_BENTO_NOT_FOUND', 4, /nope/],
    [['iris'], 'E_CONFIG', 3, /services\[0\]\.config\.resources\.memory: "lots" is no memory amount/],
    [['ok', '--replicas', '3', '--max-replicas', '2'], 'E_USAGE', 2, /--max-replicas 2 is below --replicas 3/],
  ])('%j → %s', async (args, code, exit, message) => {
    const r = await runBentoInProcess(['k8s', ...args, '--json'], {env: {BENTOML_HOME: home, ...NO_DOCKER}})
    const e = (JSON.parse(r.stdout) as {error: {code: string; message: string}}).error
    expect(e.code).toBe(code)
    expect(r.code).toBe(exit)
    expect(e.message).toMatch(message)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
