import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {NotFoundError, UsageError} from '../errors.js'
import {junitXml, MAX_INPUT_BYTES, parseErrorContains, readSmokeInputs, readyTimeoutMs, type SmokeReport} from './smoke.js'

const base: SmokeReport = {
  target: 'iris:dev',
  image: 'iris:dev',
  imageId: 'sha256:abc',
  network: 'none',
  imageSize: 1,
  user: 'bentoml',
  uid: 1034,
  healthcheck: true,
  timeoutMs: 60_000,
  timeoutBasis: 'image-bytes',
  timeToReadyMs: 3210,
  probes: {livez: 200, metrics: 200},
  apis: [{name: 'classify', route: '/classify', inputSource: 'given', status: 200, latencyMs: 12.5, ok: true, failures: [], answer: '["setosa"]'}],
  durationMs: 4000,
  ok: true,
}

describe('bento smoke: reports and inputs', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smoke-unit-'))
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('the ready timeout grows with the bytes to load', () => {
    expect(readyTimeoutMs(0)).toBe(60_000)
    expect(readyTimeoutMs(2 * 1024 ** 3)).toBe(120_000)
  })

  it('JUnit XML: readyz, livez, metrics and one testcase per API; failures escaped', () => {
    expect(junitXml(base)).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="bento smoke" tests="4" failures="0" time="4.000">',
        '  <testsuite name="smoke iris:dev" tests="4" failures="0" time="4.000">',
        '    <testcase classname="bento.smoke" name="readyz" time="3.210"/>',
        '    <testcase classname="bento.smoke" name="livez" time="0.000"/>',
        '    <testcase classname="bento.smoke" name="metrics" time="0.000"/>',
        '    <testcase classname="bento.smoke" name="api classify" time="0.013"/>',
        '  </testsuite>',
        '</testsuites>',
        '',
      ].join('\n'),
    )
    const failed = junitXml({...base, ok: false, apis: [{...base.apis[0]!, ok: false, status: 500, failures: ['HTTP 500'], answer: '"<err> & \u0001"'}]})
    expect(failed).toContain('failures="1"')
    expect(failed).toContain('<failure message="HTTP 500">HTTP 500\n&quot;&lt;err&gt; &amp; &quot;</failure>')
    const notReady = junitXml({...base, ok: false, timeToReadyMs: undefined, apis: [], error: {code: 'E_SMOKE_EXITED', message: 'The container exited with code 1'}})
    expect(notReady).toContain('tests="1" failures="1"')
    expect(notReady).toContain('<failure message="The container exited with code 1">')
  })

  it('--input [API=]@FILE|JSON and --input-file {"api": body}', async () => {
    await writeFile(join(dir, 'a.json'), '[[5.1, 3.5, 1.4, 0.2]]')
    await writeFile(join(dir, 'all.json'), JSON.stringify({classify: [[1, 2]], echo: 'hi'}))
    const resolve = (p: string): string => join(dir, p)
    expect(await readSmokeInputs(['classify=@a.json', '{"x": 1}'], 'all.json', resolve)).toEqual({
      classify: '[[5.1, 3.5, 1.4, 0.2]]',
      echo: 'hi',
      '*': '{"x": 1}',
    })
    await expect(readSmokeInputs(['classify=@missing.json'], undefined, resolve)).rejects.toThrow(NotFoundError)
    await writeFile(join(dir, 'bad.json'), '{')
    await expect(readSmokeInputs([], 'bad.json', resolve)).rejects.toThrow(UsageError)
    await writeFile(join(dir, 'list.json'), '[1]')
    await expect(readSmokeInputs([], 'list.json', resolve)).rejects.toThrow(/must hold a JSON object/)
    await expect(readSmokeInputs([`classify=${'1'.repeat(MAX_INPUT_BYTES + 1)}`], undefined, resolve)).rejects.toThrow(/smoke sends at most/)
  })

  it('--error-contains [API=]TEXT', () => {
    expect(parseErrorContains(['classify=bad input', 'oops'])).toEqual([{api: 'classify', text: 'bad input'}, {text: 'oops'}])
  })
})
