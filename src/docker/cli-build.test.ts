import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {buildFailureError} from './build-stream.js'
import {cliBuildArgs, PlainProgressParser} from './cli-build.js'
import type {BuildEvent} from './image-client.js'

const FIXTURE = new URL('../../test/fixtures/docker-streams/cli-plain-secret-failure.txt', import.meta.url)

describe('cliBuildArgs', () => {
  it('passes secrets by private variable names, never their values on the command line', () => {
    const {args, env} = cliBuildArgs(
      {
        dockerfile: 'env/docker/Dockerfile.bento',
        tags: ['svc:1', '127.0.0.1:5000/svc:1'],
        labels: {'dev.bento.tag': 'svc:1'},
        buildArgs: {A: 'b'},
        noCache: true,
        secrets: [
          {id: 'HF_TOKEN', value: 'hf_secret_value'},
          {id: 'PATH', value: 'x'},
        ],
      },
      '/tmp/iid',
    )
    expect(args).toEqual([
      'build', '--progress=plain', '--file', 'env/docker/Dockerfile.bento', '--iidfile', '/tmp/iid',
      '--tag', 'svc:1', '--tag', '127.0.0.1:5000/svc:1', '--label', 'dev.bento.tag=svc:1', '--build-arg', 'A=b', '--no-cache',
      '--secret', 'id=HF_TOKEN,env=BENTO_BUILD_SECRET_0', '--secret', 'id=PATH,env=BENTO_BUILD_SECRET_1', '-',
    ])
    expect(args.join(' ')).not.toContain('hf_secret_value')
    expect(env).toEqual({DOCKER_BUILDKIT: '1', BENTO_BUILD_SECRET_0: 'hf_secret_value', BENTO_BUILD_SECRET_1: 'x'})
  })
})

describe('cliBuildArgs with a file secret (--ca-cert)', () => {
  it('passes it by path (src=), its bytes in neither the arguments nor the environment', () => {
    const {args, env} = cliBuildArgs(
      {dockerfile: 'Dockerfile', tags: ['a:1'], labels: {}, secrets: [{id: 'T', value: 'v'}, {id: 'bento-ca-0', file: '/etc/corp ca.pem'}]},
      '/tmp/iid',
    )
    expect(args.slice(-5)).toEqual(['--secret', 'id=T,env=BENTO_BUILD_SECRET_0', '--secret', 'id=bento-ca-0,src=/etc/corp ca.pem', '-'])
    expect(env).toEqual({DOCKER_BUILDKIT: '1', BENTO_BUILD_SECRET_0: 'v'})
  })
})

describe('PlainProgressParser (docker build --progress=plain, recorded from Docker 20.10)', () => {
  it('reports steps, cached steps, step output, and the failing step with its last lines', () => {
    const events: BuildEvent[] = []
    const p = new PlainProgressParser((e) => events.push(e))
    const text = readFileSync(FIXTURE, 'utf8')
    // in odd chunks, as a pipe delivers them
    for (let i = 0; i < text.length; i += 37) p.write(text.slice(i, i + 37))
    expect(events.filter((e) => e.type === 'step').map((e) => (e as {step: string}).step)).toEqual([
      '[1/3] FROM docker.io/library/python:3.11-slim',
      '[2/3] RUN --mount=type=secret,id=S export S="$(cat /run/secrets/S)"; echo "len=${#S}"',
      '[3/3] RUN echo hello && exit 3',
    ])
    expect(events).toContainEqual({type: 'cached', step: '[1/3] FROM docker.io/library/python:3.11-slim'})
    expect(events).toContainEqual({type: 'log', line: 'len=7', step: '[2/3] RUN --mount=type=secret,id=S export S="$(cat /run/secrets/S)"; echo "len=${#S}"'})
    const f = p.failure('')
    expect(f).toEqual({
      message: 'executor failed running [/bin/sh -c echo hello && exit 3]: exit code: 3',
      step: '[3/3] RUN echo hello && exit 3',
      log: ['hello'],
    })
    expect(buildFailureError(f).code).toBe('E_DOCKER_BUILD_STEP')
  })
})
