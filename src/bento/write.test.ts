import {chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import type {BuildPlan} from './plan.js'
import {linkTree, writePlan} from './write.js'

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

/** Every directory under `root` (itself included) with its permission bits. */
async function dirModes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (dir: string, rel: string): Promise<void> => {
    out[rel] = ((await stat(dir)).mode & 0o7777).toString(8)
    for (const e of await readdir(dir, {withFileTypes: true})) if (e.isDirectory()) await walk(join(dir, e.name), rel === '.' ? e.name : `${rel}/${e.name}`)
  }
  await walk(root, '.')
  return out
}

describe('directory modes (E13)', () => {
  it('every directory the build writes is 0755 whatever the umask (077 here), as its files are normalized', async () => {
    const project = await mkdtemp(join(tmpdir(), 'bento-write-'))
    await mkdir(join(project, 'pkg'))
    await writeFile(join(project, 'pkg', 'u.py'), 'X = 1\n')
    await mkdir(join(project, 'model', 'variables'), {recursive: true})
    await writeFile(join(project, 'model', 'variables', 'v.bin'), 'v')
    const out = await mkdtemp(join(tmpdir(), 'bento-write-out-'))
    const plan = {
      manifest: {spec: 1},
      texts: [
        {path: 'bento.yaml', content: 'name: x\n', mode: 0o644},
        {path: 'env/docker/entrypoint.sh', content: '#!/bin/sh\n', mode: 0o755},
        {path: 'apis/openapi.yaml', content: '{}\n', mode: 0o644},
      ],
      copies: [{from: join(project, 'pkg', 'u.py'), path: 'src/pkg/u.py', mode: 0o644}],
      models: [{from: join(project, 'model'), path: 'models/m/v1', name: 'm', version: 'v1'}],
    } as unknown as BuildPlan
    const old = process.umask(0o077)
    try {
      await writePlan(plan, out, quiet)
      await linkTree(join(project, 'model'), join(out, 'linked'), {linked: 0, copied: 0})
    } finally {
      process.umask(old)
    }
    const modes = await dirModes(out)
    delete modes['.'] // the temp dir itself: Store.install opens it to 0755
    expect(Object.keys(modes).sort()).toEqual(
      ['apis', 'env', 'env/docker', 'env/python', 'env/python/wheels', 'linked', 'linked/variables', 'models', 'models/m', 'models/m/v1', 'models/m/v1/variables', 'src', 'src/pkg'].sort(),
    )
    expect(new Set(Object.values(modes))).toEqual(new Set(['755']))
  })
})

describe('copies (8 at a time, chmod only where the mode differs)', () => {
  it('every file gets 0644, or 0755 when executable, whatever its own mode and the umask; shared directories made once', async () => {
    const project = await mkdtemp(join(tmpdir(), 'bento-write-'))
    const out = await mkdtemp(join(tmpdir(), 'bento-write-out-'))
    try {
      const modes = [0o600, 0o644, 0o700, 0o755, 0o640, 0o744]
      const copies: Array<{from: string; path: string; mode: number; sourceMode?: boolean}> = []
      for (let i = 0; i < 60; i++) {
        const rel = `pkg${i % 3}/sub${i % 2}/m${i}.py`
        await mkdir(join(project, `pkg${i % 3}/sub${i % 2}`), {recursive: true})
        await writeFile(join(project, rel), `X = ${i}\n`, {mode: modes[i % modes.length]})
        await chmod(join(project, rel), modes[i % modes.length]!)
        copies.push({from: join(project, rel), path: `src/${rel}`, mode: modes[i % modes.length]!, sourceMode: true})
      }
      // A copy whose mode is the Bento's, not its source's (a conda environment.yml): chmod'ed whatever the source says.
      await writeFile(join(project, 'environment.yml'), 'name: x\n', {mode: 0o600})
      await chmod(join(project, 'environment.yml'), 0o600)
      copies.push({from: join(project, 'environment.yml'), path: 'env/conda/environment.yml', mode: 0o644})
      const plan = {manifest: {spec: 2}, texts: [], copies, models: []} as unknown as BuildPlan
      const old = process.umask(0o077)
      let stats: {copied: number}
      try {
        stats = await writePlan(plan, out, quiet)
      } finally {
        process.umask(old)
      }
      expect(stats.copied).toBe(61)
      for (const [i, c] of copies.entries()) {
        const want = i === 60 ? 0o644 : modes[i % modes.length]! & 0o111 ? 0o755 : 0o644
        expect([c.path, ((await stat(join(out, c.path))).mode & 0o7777).toString(8)]).toEqual([c.path, want.toString(8)])
      }
      const dirs = await dirModes(out)
      delete dirs['.']
      expect(new Set(Object.values(dirs))).toEqual(new Set(['755']))
    } finally {
      await rm(project, {recursive: true, force: true})
      await rm(out, {recursive: true, force: true})
    }
  })
})
