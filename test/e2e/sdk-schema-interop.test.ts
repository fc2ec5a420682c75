/**
 * The golden of `svc.schema()` (test/fixtures/sdk-schema/expected.json and computed_defaults.expected.json, which
 * src/python/service/sdk-schema.test.ts holds bento's reading to) is what the REAL BentoML 1.4.40 computes today:
 * observe.py re-runs it in the venv.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {bentomlVenv, removeDir, REPO, tempDir} from '../helpers/env.js'
import {startZygote, type Zygote} from '../helpers/zygote.js'

const DIR = join(REPO, 'test/fixtures/sdk-schema')

describe('svc.schema() golden ⇄ the real BentoML 1.4.40', () => {
  // One Python for the file: BentoML imported once, each observe.py run in a fork (test/helpers/zygote.ts).
  let python: Zygote
  beforeAll(() => {
    python = startZygote(bentomlVenv('1.4.40').python, ['bentoml', 'bentoml._internal.bento.bento', 'bentoml._internal.utils.cattr'], {BENTOML_DO_NOT_TRACK: 'true'})
  })
  afterAll(async () => {
    await python.close()
  })

  it('observe.py prints expected.json', async () => {
    const home = await tempDir('bento-schema-home-')
    try {
      const r = await python.run([join(DIR, 'observe.py')], {env: {BENTOML_HOME: home}})
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')))
    } finally {
      await removeDir(home)
    }
  }, 120_000)

  it('observe.py computed_defaults prints computed_defaults.expected.json (defaults, examples, bounds computed by module code)', async () => {
    const home = await tempDir('bento-schema-home-')
    try {
      const r = await python.run([join(DIR, 'observe.py'), 'computed_defaults'], {env: {BENTOML_HOME: home}})
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(DIR, 'computed_defaults.expected.json'), 'utf8')))
    } finally {
      await removeDir(home)
    }
  }, 120_000)
})
