import {mkdtemp, readdir, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import type {BuildPlan} from './plan.js'
import {writePlan} from './write.js'

const quiet = {log: () => undefined, warn: () => undefined, status: () => undefined, progress: () => undefined}

function planOf(copies: BuildPlan['copies']): BuildPlan {
  return {manifest: {spec: 2}, texts: [{path: 'bento.yaml', content: 'name: x\n', mode: 0o644}], copies, models: []} as unknown as BuildPlan
}

describe('writePlan', () => {
  it('a project file removed after it was selected (E7): E_BUILD_CONTEXT naming it, "run it again"', async () => {
    const project = await mkdtemp(join(tmpdir(), 'bento-write-'))
    await writeFile(join(project, 'kept.py'), 'x = 1\n')
    const out = await mkdtemp(join(tmpdir(), 'bento-write-out-'))
    const plan = planOf([
      {from: join(project, 'kept.py'), path: 'src/kept.py', mode: 0o644},
      {from: join(project, 'gone.txt'), path: 'src/gone.txt', mode: 0o644},
    ])
    await expect(writePlan(plan, out, quiet)).rejects.toMatchObject({
      code: 'E_BUILD_CONTEXT',
      message: expect.stringMatching(/gone\.txt.*a file changed during the build; run it again/) as unknown,
      data: {path: join(project, 'gone.txt')},
    })
    expect(await readdir(join(out, 'src'))).toEqual(['kept.py'])
  })
})
