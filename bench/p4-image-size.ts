/**
 * P4: image size of the same Bento (built by `bento build` from examples/iris) containerized by `bento containerize`
 * and `bentoml containerize`, same daemon, same base image (python:3.11-slim), both installing Python packages
 * from the bench's wheel server. The models benchmark (p2-models.ts) measures time and bytes; this one only size.
 */
import {join} from 'node:path'

import {buildCacheIds, imageSize, pruneBuildCacheSince, removeImages} from './lib/docker.js'
import {freshDir, irisProject, runTool, saveSklearnIris, type Tool} from './lib/env.js'
import {fmtBytes, fmtRatio, ratio} from './lib/stats.js'
import type {BenchContext, BenchResult} from './lib/types.js'
import {startWheelServer} from './lib/wheel-server.js'

export const P4_TARGET = 0.8

function bentofile(url: string, host: string): string {
  return `service: "service:svc"
labels:
  owner: bentoml-team
  stage: dev
include:
  - "*.py"
envs:  # for \`pip install uv\` in BentoML's Dockerfile (the bench's wheel server)
  - name: PIP_NO_INDEX
    value: "1"
  - name: PIP_FIND_LINKS
    value: "${url}"
  - name: PIP_TRUSTED_HOST
    value: "${host}"
python:
  packages:
    - scikit-learn
  lock_packages: false
  no_index: true
  find_links:
    - "${url}"
  trusted_host:
    - "${host}"
`
}

export async function benchImageSize(ctx: BenchContext): Promise<BenchResult> {
  const {tools} = ctx
  const root = await freshDir(tools, 'p4')
  const home = join(root, 'home')
  const server = await startWheelServer(tools)
  const cacheBefore = await buildCacheIds(tools)
  const images: string[] = []
  try {
    const dir = await irisProject(join(root, 'project'), bentofile(server.url, server.host))
    await saveSklearnIris(tools, home)
    const r = {tools, home, timeoutMs: 60 * 60_000}
    const tag = (JSON.parse((await runTool('bento', {...r, cwd: dir}, ['build', '--json'])).stdout) as {tag: string}).tag
    const size: Record<Tool, number> = {bento: 0, bentoml: 0}
    for (const tool of ['bento', 'bentoml'] as Tool[]) {
      const ref = `bench-p4-${tool}:${tag.split(':')[1]}`
      images.push(ref)
      const out = await runTool(tool, r, ['containerize', tag, '-t', ref, ...(tool === 'bento' ? ['--json'] : [])])
      if (tool === 'bento') images.push(...(JSON.parse(out.stdout) as {modelImages: Array<{image: string}>}).modelImages.map((m) => m.image))
      size[tool] = await imageSize(tools, ref)
    }
    const p4 = ratio(size.bento, size.bentoml)
    ctx.log(`P4: bento ${fmtBytes(size.bento)}, bentoml ${fmtBytes(size.bentoml)}`)
    return {
      id: 'P4',
      title: 'image size',
      rows: [
        {
          id: 'P4',
          metric: 'image size, same iris Bento (docker image inspect)',
          bento: fmtBytes(size.bento),
          other: `bentoml ${fmtBytes(size.bentoml)}`,
          ratio: p4,
          value: fmtRatio(p4),
          target: `≤ ${P4_TARGET}`,
          status: p4 !== null && p4 <= P4_TARGET ? 'ok' : 'behind',
        },
      ],
      curves: [],
      notes: [
        `Same Bento for both tools (bento build of examples/iris), python:3.11-slim, packages from the bench's wheel server at ${server.url}. ` +
          "BentoML's image also carries build-essential (its Dockerfile always installs it) and uv.",
      ],
      raw: {size},
    }
  } finally {
    await server.stop()
    await removeImages(tools, images)
    // Quick: bench/run.ts prunes the run's build cache once at the end.
    if (!ctx.quick) await pruneBuildCacheSince(tools, cacheBefore)
  }
}
