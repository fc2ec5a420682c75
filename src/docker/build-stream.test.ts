import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {DockerBuildError} from '../errors.js'
import {BuildStreamParser, buildFailureError, parseBuildStream} from './build-stream.js'
import {decodeBuildkitStatus, encodeBuildkitStatus} from './buildkit-status.js'

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/docker-streams/${name}`, import.meta.url)), 'utf8')

describe('classic builder streams (recorded)', () => {
  it('success: steps, logs and the image id', () => {
    const {events, outcome} = parseBuildStream(fixture('classic-ok.jsonl'))
    expect(outcome).toEqual({imageId: 'sha256:85271ffdd46f0dc21def9ba48662b4cb0eab2cb37dc0ff70b53078555c1eb57d', failure: undefined})
    const steps = events.filter((e) => e.type === 'step')
    expect(steps.map((s) => s.type === 'step' && [s.index, s.total])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]])
    const logs = events.flatMap((e) => (e.type === 'log' ? [e.line] : []))
    expect(logs).toContain('Python 3.11.2')
    expect(logs.some((l) => l.startsWith(' --->') || l.startsWith('Removing intermediate'))).toBe(false)
  })

  it('cache hits are reported', () => {
    const {events} = parseBuildStream(fixture('classic-cached.jsonl'))
    expect(events.filter((e) => e.type === 'cached').length).toBeGreaterThanOrEqual(2)
  })

  it('a failing RUN becomes E_DOCKER_BUILD_STEP with the step and its last 20 lines', () => {
    const {outcome} = parseBuildStream(fixture('classic-fail.jsonl'))
    expect(outcome.imageId).toBeUndefined()
    const err = buildFailureError(outcome.failure!)
    expect(err).toBeInstanceOf(DockerBuildError)
    expect(err.code).toBe('E_DOCKER_BUILD_STEP')
    expect(err.data?.step).toMatch(/^Step 3\/4 : RUN for i in 1 2 3/)
    const log = String(err.data?.log).split('\n')
    expect(log).toHaveLength(20)
    expect(log.at(-1)).toBe('line 25')
    expect(log.join('\n')).not.toContain('\u001b[')
    expect(err.message).toContain("returned a non-zero code: 1")
  })

  it('an untrusted TLS certificate in the failing step hints at --ca-cert', () => {
    const log = ['Looking in indexes: https://172.17.0.1:4443/simple', "WARNING: Retrying ... SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:992)'))"]
    const err = buildFailureError({step: '[6/9] RUN bash install.sh', message: 'exit code: 1', log})
    expect(err.code).toBe('E_DOCKER_BUILD_STEP')
    expect(err.hint).toMatch(/--ca-cert FILE/)
    expect(err.data?.untrustedCertificate).toBe(true)
    const other = buildFailureError({step: '[6/9] RUN x', message: 'exit code: 1', log: ['No matching distribution found for nope']})
    expect(other.hint).not.toMatch(/--ca-cert/)
  })

  it('a wheel whose hash differs from the lock (real pip 26.3 and uv 0.13.9 output): names the package and both hashes', () => {
    const captured = (name: string): string[] =>
      readFileSync(fileURLToPath(new URL(`../../test/fixtures/hash-mismatch/${name}`, import.meta.url)), 'utf8').split('\n')
    const locked = ['0000000000000000000000000000000000000000000000000000000000000000', 'c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309']
    const served = 'b2ba686ae07107c3752aebb07bcbe44a6644cec878dd9fb8c0fe2c6eb82405e4'
    for (const tool of ['pip-26.3.txt', 'uv-0.13.9.txt']) {
      // As the classic builder streams a failing RUN: the step, its output, then the daemon's error.
      const lines = [`{"stream":"Step 7/12 : RUN pip install --require-hashes -r requirements.txt\\n"}`, ...captured(tool).map((l) => JSON.stringify({stream: `${l}\n`})), '{"errorDetail":{"code":1,"message":"The command returned a non-zero code: 1"},"error":"The command returned a non-zero code: 1"}']
      const err = buildFailureError(parseBuildStream(lines.join('\n')).outcome.failure!)
      expect(err.code, tool).toBe('E_DOCKER_BUILD_STEP')
      expect(err.exitCode).toBe(8)
      expect(err.message, tool).toContain('attrs==26.1.0')
      expect(err.message, tool).toContain(served)
      for (const h of locked) expect(err.message, tool).toContain(h)
      expect(err.data?.hashMismatch, tool).toEqual([{package: 'attrs==26.1.0', expected: [...locked].sort(), got: served}])
      expect(err.hint, tool).toMatch(/tampered|lock again/)
    }
  })

  it('a missing base image becomes E_DOCKER_BASE_IMAGE naming the image', () => {
    const err = buildFailureError(parseBuildStream(fixture('classic-base.jsonl')).outcome.failure!)
    expect(err.code).toBe('E_DOCKER_BASE_IMAGE')
    expect(err.data?.image).toBe('bento-missing/base:1.0')
    expect(err.hint).toContain('bento-missing/base:1.0')
  })

  it('a stream cut short has neither image nor failure (the client reports E_DOCKER_DAEMON_LOST)', () => {
    expect(parseBuildStream(fixture('classic-truncated.jsonl')).outcome).toEqual({imageId: undefined, failure: undefined})
  })

  it('accepts chunks split anywhere', () => {
    const text = fixture('classic-fail.jsonl')
    const p = new BuildStreamParser()
    for (let i = 0; i < text.length; i += 7) p.write(text.slice(i, i + 7))
    expect(p.end().failure?.step).toMatch(/^Step 3\/4/)
  })
})

describe('BuildKit streams (recorded)', () => {
  it('success: decodes vertices and the image id', () => {
    const {events, outcome} = parseBuildStream(fixture('buildkit-ok.jsonl'))
    expect(outcome.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
    const steps = events.flatMap((e) => (e.type === 'step' ? [e.step] : []))
    expect(steps).toContain('[2/3] RUN echo hello && python3 --version')
    expect(events).toContainEqual({type: 'log', line: 'hello', step: '[2/3] RUN echo hello && python3 --version'})
  })

  it('cached build reports cached vertices', () => {
    const {events} = parseBuildStream(fixture('buildkit-cached.jsonl'))
    expect(events.some((e) => e.type === 'cached' && e.step.startsWith('[2/3]'))).toBe(true)
  })

  it('failing RUN: the erroring vertex and its output', () => {
    const err = buildFailureError(parseBuildStream(fixture('buildkit-fail.jsonl')).outcome.failure!)
    expect(err.code).toBe('E_DOCKER_BUILD_STEP')
    expect(err.data?.step).toMatch(/^\[3\/4\] RUN for i in/)
    const log = String(err.data?.log).split('\n')
    expect(log).toHaveLength(20)
    expect(log).toContain('ERROR: No matching distribution found for nonexistent-pkg==9.9')
    expect(log.at(-1)).toBe('line 25')
  })

  it('missing base image', () => {
    const err = buildFailureError(parseBuildStream(fixture('buildkit-base.jsonl')).outcome.failure!)
    expect(err.code).toBe('E_DOCKER_BASE_IMAGE')
    expect(String(err.data?.image)).toContain('bento-missing/base:1.0')
  })
})

describe('buildkit status codec', () => {
  it('round-trips the subset we use', () => {
    const status = {
      vertexes: [{digest: 'sha256:a', name: '[1/2] FROM x', cached: true, started: true, completed: true, error: ''}],
      logs: [{vertex: 'sha256:a', stream: 2, msg: 'héllo\n'}],
      warnings: [{vertex: 'sha256:a', short: 'careful'}],
    }
    expect(decodeBuildkitStatus(encodeBuildkitStatus(status))).toEqual(status)
  })

  it('throws on truncated input and the parser turns that into a warning', () => {
    expect(() => decodeBuildkitStatus(Buffer.from([0x0a, 0x05, 0x01]).toString('base64'))).toThrow(/truncated/)
    const {events} = parseBuildStream(`{"id":"moby.buildkit.trace","aux":"${Buffer.from([0x0a, 0x05]).toString('base64')}"}\n`)
    expect(events[0]?.type).toBe('warning')
  })
})
