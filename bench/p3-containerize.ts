/**
 * P3, P4, P5: `bento containerize` and `bentoml containerize` of the same Bento (built by `bento build` from the
 * sklearn iris project), same daemon, same base image (python:3.11-slim), both installing Python packages from
 * the same local wheel server.
 *   P3 warm: after a one-line service.py edit (and `bento build`), seconds and bytes of new layers vs the
 *      tool's previous image.
 *   P4 size of each image (docker image inspect .Size).
 *   P5 cold: BuildKit cache pruned (`docker builder prune -af`) before every run. Quick mode: one
 *      `bento containerize --no-cache` instead (no prune: the daemon is shared).
 */
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {freshDir, irisProject, runTool, saveSklearnIris, type Tool, type Tools} from './lib/env.js'
import {imageLayers, imageSize, pruneBuildCache, rebuiltLayers, removeImages, type Layer} from './lib/docker.js'
import {fmtBytes, fmtRatio, fmtSeconds, median, ratio} from './lib/stats.js'
import type {BenchContext, BenchResult, Row} from './lib/types.js'
import {startWheelServer} from './lib/wheel-server.js'

export const P3_TARGET_MS = 10_000
export const P4_TARGET = 0.8
export const P5_TARGET = 1.0

/** Layers that must survive a code edit: system packages, Python dependencies, models. */
const HEAVY = /install\.sh|apt-get|pip install|uv venv|\.\/models/

function bentofile(url: string, host: string): string {
  return `service: "service:svc"
labels:
  owner: bentoml-team
  stage: dev
include:
  - "*.py"
envs:  # for \`pip install uv\` in BentoML's Dockerfile (the bench's wheel server; see bench/results.md)
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

interface EditRun {
  tool: Tool
  ms: number
  rebuiltBytes: number
  rebuilt: Layer[]
  heavyRebuilt: Layer[]
}

export async function benchContainerize(ctx: BenchContext): Promise<BenchResult[]> {
  const tools: Tools = ctx.tools
  const root = await freshDir(tools, 'docker')
  const home = join(root, 'home')
  const server = await startWheelServer(tools)
  const images: string[] = []
  try {
    const dir = await irisProject(join(root, 'project'), bentofile(server.url, server.host))
    await saveSklearnIris(tools, home)
    const r = {tools, home, cwd: root, timeoutMs: 60 * 60_000}
    const build = async (): Promise<string> => {
      const out = await runTool('bento', {...r, cwd: dir}, ['build', '--json'])
      return (JSON.parse(out.stdout) as {tag: string}).tag
    }
    const containerize = async (tool: Tool, tag: string, image: string, extra: string[] = []): Promise<number> => {
      images.push(image)
      ctx.log(`  ${tool} containerize ${tag} -t ${image} ${extra.join(' ')}`)
      return (await runTool(tool, r, ['containerize', tag, '-t', image, ...extra])).ms
    }
    const imageOf = (tool: Tool, label: string): string => `bench-${tool}:${label}`

    // Warm-up: the first image of each tool (fills the layer cache); also P4's images.
    let tag = await build()
    ctx.log(`P3: warm-up builds of ${tag}`)
    const firstMs: Record<Tool, number> = {bento: await containerize('bento', tag, imageOf('bento', 'v0')), bentoml: 0}
    firstMs.bentoml = await containerize('bentoml', tag, imageOf('bentoml', 'v0'))
    const size: Record<Tool, number> = {bento: await imageSize(tools, imageOf('bento', 'v0')), bentoml: await imageSize(tools, imageOf('bentoml', 'v0'))}

    // P3: one-line edits.
    const original = await readFile(join(dir, 'service.py'), 'utf8')
    const prev: Record<Tool, Layer[]> = {bento: await imageLayers(tools, imageOf('bento', 'v0')), bentoml: await imageLayers(tools, imageOf('bentoml', 'v0'))}
    const edits: EditRun[] = []
    const runs = ctx.quick ? 1 : 3
    for (let i = 1; i <= runs; i++) {
      await writeFile(join(dir, 'service.py'), `${original}# bench edit ${i}\n`)
      tag = await build()
      for (const tool of (i % 2 === 1 ? ['bento', 'bentoml'] : ['bentoml', 'bento']) as Tool[]) {
        const image = imageOf(tool, `v${i}`)
        const ms = await containerize(tool, tag, image)
        const layers = await imageLayers(tools, image)
        const rebuilt = rebuiltLayers(prev[tool], layers)
        prev[tool] = layers
        edits.push({tool, ms, rebuilt, rebuiltBytes: rebuilt.reduce((s, l) => s + l.size, 0), heavyRebuilt: rebuilt.filter((l) => HEAVY.test(l.createdBy))})
      }
    }
    const of = (tool: Tool): EditRun[] => edits.filter((e) => e.tool === tool)
    const p3: Record<Tool, {ms: number; bytes: number; heavy: number}> = {
      bento: {ms: median(of('bento').map((e) => e.ms)), bytes: median(of('bento').map((e) => e.rebuiltBytes)), heavy: Math.max(...of('bento').map((e) => e.heavyRebuilt.length))},
      bentoml: {ms: median(of('bentoml').map((e) => e.ms)), bytes: median(of('bentoml').map((e) => e.rebuiltBytes)), heavy: Math.max(...of('bentoml').map((e) => e.heavyRebuilt.length))},
    }
    ctx.log(`P3: bento ${fmtSeconds(p3.bento.ms)} ${fmtBytes(p3.bento.bytes)} new; bentoml ${fmtSeconds(p3.bentoml.ms)} ${fmtBytes(p3.bentoml.bytes)} new`)

    // P5: cold.
    const cold: Record<Tool, number[]> = {bento: [], bentoml: []}
    if (ctx.quick) {
      cold.bento.push(await containerize('bento', tag, imageOf('bento', 'nocache'), ['--no-cache']))
    } else {
      for (let i = 0; i < 2; i++) {
        for (const tool of (i % 2 === 0 ? ['bento', 'bentoml'] : ['bentoml', 'bento']) as Tool[]) {
          await removeImages(tools, images.filter((x) => x.includes(':cold')))
          await pruneBuildCache(tools)
          cold[tool].push(await containerize(tool, tag, imageOf(tool, `cold${i}`)))
        }
      }
    }
    ctx.log(`P5: bento ${fmtSeconds(median(cold.bento))}, bentoml ${fmtSeconds(median(cold.bentoml))}`)

    const p4 = ratio(size.bento, size.bentoml)
    const p5 = ratio(median(cold.bento), median(cold.bentoml))
    const layerList = (tool: Tool): string =>
      of(tool).at(-1)!.rebuilt.map((l) => `\`${l.createdBy.slice(0, 70)}\` ${fmtBytes(l.size)}`).join('; ') || 'none'
    const p3Rows: Row[] = [
      {
        id: 'P3',
        metric: `containerize after a one-line service.py edit, warm (median of ${runs})`,
        bento: fmtSeconds(p3.bento.ms),
        other: `bentoml ${fmtSeconds(p3.bentoml.ms)}`,
        ratio: ratio(p3.bento.ms, p3.bentoml.ms),
        value: fmtSeconds(p3.bento.ms),
        target: `≤ ${P3_TARGET_MS / 1000} s`,
        status: p3.bento.ms <= P3_TARGET_MS ? 'ok' : 'behind',
      },
      {
        id: 'P3',
        metric: 'bytes of new layers after that edit; model/dependency layers rebuilt',
        bento: `${fmtBytes(p3.bento.bytes)}; ${p3.bento.heavy}`,
        other: `bentoml ${fmtBytes(p3.bentoml.bytes)}; ${p3.bentoml.heavy}`,
        ratio: ratio(p3.bento.bytes, p3.bentoml.bytes),
        value: `${p3.bento.heavy} heavy layers`,
        target: 'none rebuilt',
        status: p3.bento.heavy === 0 ? 'ok' : 'behind',
      },
    ]
    const p4Row: Row = {
      id: 'P4',
      metric: 'image size, same Bento (docker image inspect)',
      bento: fmtBytes(size.bento),
      other: `bentoml ${fmtBytes(size.bentoml)}`,
      ratio: p4,
      value: fmtRatio(p4),
      target: `≤ ${P4_TARGET}`,
      status: p4 !== null && p4 <= P4_TARGET ? 'ok' : 'behind',
    }
    const p5Row: Row = ctx.quick
      ? {id: 'P5', metric: 'bento containerize --no-cache (quick smoke, no prune)', bento: fmtSeconds(median(cold.bento)), other: '–', ratio: null, value: '–', target: `≤ ${P5_TARGET}`, status: 'info'}
      : {
          id: 'P5',
          metric: `cold containerize, BuildKit cache pruned before each (median of ${cold.bento.length})`,
          bento: fmtSeconds(median(cold.bento)),
          other: `bentoml ${fmtSeconds(median(cold.bentoml))}`,
          ratio: p5,
          value: fmtRatio(p5),
          target: `≤ ${P5_TARGET}`,
          status: p5 !== null && p5 <= P5_TARGET ? 'ok' : 'behind',
        }
    const method =
      `Same Bento for both tools (built by \`bento build\` from examples/iris with the pip options below), same daemon and base image python:3.11-slim. ` +
      `Python packages: both install from the bench's wheel server, \`python3 -m http.server\` over .tools/wheelhouse at ${server.url} (the docker bridge gateway): ` +
      'the bentofile sets `python.no_index`, `find_links`, `trusted_host` (both tools pass them to pip/uv in env/python/install.sh) and `envs` PIP_NO_INDEX/PIP_FIND_LINKS/PIP_TRUSTED_HOST ' +
      "(for the `pip install uv` step of BentoML's Dockerfile). No PyPI, no CA bundle, no `--opt network=host`. BentoML's Dockerfile also runs `apt-get install build-essential …` (Debian mirror, network) — its own choice, kept. " +
      '`bentoml containerize` runs with the provisioned /usr/bin/docker (20.10, BuildKit via DOCKER_BUILDKIT=1) first on PATH: the /usr/local/bin/docker CLI 28 refuses BuildKit without buildx.'
    return [
      {
        id: 'P3',
        title: 'warm containerize after a one-line edit',
        rows: p3Rows,
        curves: [],
        notes: [
          method,
          `Warm-up: one untimed containerize of each tool first (bento ${fmtSeconds(firstMs.bento)}, bentoml ${fmtSeconds(firstMs.bentoml)} with whatever cache the daemon had). ` +
            `Each run appends one comment line to service.py, runs \`bento build\` (untimed), then times each tool's containerize of the new Bento (alternating order). ` +
            "New layers: diff IDs absent from the tool's previous image, sizes from the daemon's layer store.",
          `Last run, bento's new layers: ${layerList('bento')}.`,
          `Last run, bentoml's new layers: ${layerList('bentoml')}.`,
        ],
        raw: {edits, firstMs},
      },
      {id: 'P4', title: 'image size', rows: [p4Row], curves: [], notes: [], raw: {size}},
      {
        id: 'P5',
        title: 'cold containerize',
        rows: [p5Row],
        curves: [],
        notes: [
          ctx.quick
            ? 'Quick mode does not prune the shared build cache.'
            : '`docker builder prune -af` and removal of the previous cold images before every run; runs alternate. The base image stays. ' +
              "bentoml's cold build includes `apt-get update` + build-essential from the Debian mirror (network-bound) and `pip install uv`; bento's installs no system packages unless the bentofile asks.",
        ],
        raw: {cold},
      },
    ]
  } finally {
    await server.stop()
    await removeImages(tools, images)
  }
}
