/**
 * Issue 9, "model size never costs twice": P2, P2b, P3, P3b, P5, P7 as curves over the model's size, each against
 * `bentoml build` / `bentoml containerize` 1.4.15 on the same project / the same Bento, in the same run.
 *
 * One project per size: a legacy service carrying one model (weights.bin: a 16 MiB os.urandom block repeated, saved
 * with the real `bentoml.models.create`), listed in bentofile `models:`; pip options point both tools at the bench's
 * wheel server. Sizes: 1 KiB (the P2 baseline, builds only), 100 MiB, 1 GiB, 4 GiB (quick, a smoke of the script: 1 KiB
 * and 8 MiB, one run, no cold containerize, the build cache pruned once at the end of the bench run).
 *
 *   P2b  the first `bento build` of the never-seen model: bytes read by the process (/proc io rchar) ÷ model size;
 *        then a build of ANOTHER project with the same model, and every later build: model bytes read.
 *   P2   `bento build` after a one-line service.py edit: S ÷ 1 KiB (flat), and ÷ `bentoml build` of the same project.
 *   P3   warm `containerize` after the edit (`bento build` untimed), same Bento for both tools: seconds; bytes sent to
 *        the daemon (bento: its build contexts, model images or committed model layers included; bentoml: its whole
 *        context, ≈ the Bento).
 *   P3b  `docker push` of each tool's image after the edit to a private registry (pushed once before the edit):
 *        growth of the registry's blob store.
 *   P5   cold containerize (`--no-cache` / `--opt no-cache`: every step re-run, bento's model layer made again: a model
 *        image below 256 MiB of models, committed onto the dependency image from there) and the
 *        image sizes.
 *   P7   peak RSS of `bento build` (first: hashes the model), `bento containerize` (first: streams the model into its
 *        image) and `bento export` (.tar) per size.
 */
import {execFileSync} from 'node:child_process'
import {cp, mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {buildCacheIds, docker, imageSize, pruneBigRecords, pruneBuildCacheSince, pruneContextsSince, removeImages} from './lib/docker.js'
import {FIXTURES, freshDir, runTool, runToolMeasured, saveBigModel, type Tool, type ToolRun} from './lib/env.js'
import type {Measured, RunOutput} from './lib/proc.js'
import {startRegistry, type BenchRegistry} from './lib/registry.js'
import {fmtBytes, fmtRatio, fmtSeconds, GiB, median, MiB, ratio, slope} from './lib/stats.js'
import type {BenchContext, BenchResult, Curve, Row} from './lib/types.js'
import {startWheelServer, type WheelServer} from './lib/wheel-server.js'

export const P2_FLAT = 1.3
export const P2_VS_BENTOML = 0.5
export const P3_TARGET_MS = 2_000
export const P3_VS_BENTOML = 0.05
export const P3B_TARGET = MiB
export const P5_TARGET = 1.0
export const P7_FLAT_SLACK = 1.2

interface BuildSample {
  ms: number
  rchar: number
  rssKiB: number
}

export interface SizeResult {
  label: string
  bytes: number
  /** P2b: the first build (never-seen model) and a build of another project using the same model. */
  first: BuildSample
  otherProject: BuildSample
  /** P2: builds after one-line edits. */
  bento: BuildSample[]
  bentoml: BuildSample[]
  /** Sizes above the baseline only. */
  containerize?: {
    /** The first containerize of each tool (bento builds the model image here): P7's containerize RSS. */
    firstBento: BuildSample & {sent: number}
    firstBentomlMs: number
    warm: Array<{tool: Tool; ms: number; sent: number; wchar: number}>
    push: {bento: number; bentoml: number}
    cold: {bento: number[]; bentoml: number[]}
    imageSize: {bento: number; bentoml: number}
    exportSample: BuildSample
  }
}

function freeBytes(dir: string): number {
  const out = execFileSync('df', ['-B1', '--output=avail', dir], {encoding: 'utf8'})
  return Number(out.trim().split('\n').pop())
}

function duBytes(dir: string): number {
  return Number(execFileSync('du', ['-sbL', dir], {encoding: 'utf8'}).split('\t')[0])
}

function bentofile(modelTag: string, server: WheelServer, name: string): string {
  return `service: "service:svc"
name: ${name}
include:
  - "*.py"
models:
  - "${modelTag}"
envs:  # for \`pip install uv\` in BentoML's Dockerfile (the bench's wheel server)
  - name: PIP_NO_INDEX
    value: "1"
  - name: PIP_FIND_LINKS
    value: "${server.url}"
  - name: PIP_TRUSTED_HOST
    value: "${server.host}"
python:
  lock_packages: false
  no_index: true
  find_links:
    - "${server.url}"
  trusted_host:
    - "${server.host}"
`
}

const sample = (r: RunOutput & Measured): BuildSample => ({ms: r.ms, rchar: r.rchar, rssKiB: r.rssKiB})

async function runSize(ctx: BenchContext, bytes: number, label: string, server: WheelServer): Promise<SizeResult> {
  const {tools} = ctx
  const runs = ctx.quick ? 1 : bytes >= 4 * GiB ? 2 : 3
  const root = await freshDir(tools, 'models', label)
  if (freeBytes(root) < 7 * bytes + 6 * GiB) throw new Error(`P2/P3 ${label}: not enough free disk under ${root} and the daemon (df -h)`)
  const cacheBefore = await buildCacheIds(tools)
  const home = join(root, 'home')
  const projA = join(root, 'project-a')
  const projB = join(root, 'project-b')
  const images: string[] = []
  let registry: BenchRegistry | undefined
  try {
    ctx.log(`models ${label}: saving the model`)
    const model = await saveBigModel(tools, home, 'big_model', bytes)
    for (const [dir, name] of [
      [projA, 'big_model_svc'],
      [projB, 'other_project'],
    ] as const) {
      await mkdir(dir, {recursive: true})
      await cp(join(FIXTURES, 'big-model/service.py'), join(dir, 'service.py'))
      await writeFile(join(dir, 'bentofile.yaml'), bentofile(model.tag, server, name))
    }
    const original = await readFile(join(projA, 'service.py'), 'utf8')
    const r = (cwd?: string): ToolRun => ({tools, home, cwd, timeoutMs: 2 * 60 * 60_000})
    const bentoBuild = async (cwd: string): Promise<BuildSample & {tag: string}> => {
      const out = await runToolMeasured('bento', r(cwd), ['build', '--json'])
      return {...sample(out), tag: (JSON.parse(out.stdout) as {tag: string}).tag}
    }

    // P2b: the first build reads the model once; a build of another project with it reads none.
    const first = await bentoBuild(projA)
    const otherProject = await bentoBuild(projB)
    ctx.log(`models ${label}: first build read ${fmtBytes(first.rchar)} in ${fmtSeconds(first.ms)}; another project ${fmtBytes(otherProject.rchar)}`)

    // P2: one-line edits, alternating tools; bentoml builds the same project (its Bento references the model store).
    const res: SizeResult = {label, bytes, first, otherProject, bento: [], bentoml: []}
    let tag = first.tag
    for (let i = 1; i <= runs; i++) {
      await writeFile(join(projA, 'service.py'), `${original}# bench edit ${i}\n`)
      for (const tool of (i % 2 === 1 ? ['bento', 'bentoml'] : ['bentoml', 'bento']) as Tool[]) {
        if (tool === 'bento') {
          const b = await bentoBuild(projA)
          tag = b.tag
          res.bento.push(b)
        } else {
          res.bentoml.push(sample(await runToolMeasured('bentoml', r(projA), ['build', '--version', `bml${i}`])))
        }
      }
    }
    ctx.log(`models ${label}: build after edit: bento ${fmtSeconds(median(res.bento.map((x) => x.ms)))}, bentoml ${fmtSeconds(median(res.bentoml.map((x) => x.ms)))}`)
    if (bytes <= 1024) return res

    // P3: containerize the same Bento with each tool; first (untimed for P3; P7's containerize RSS), then after edits.
    // Quick (CI's smoke): a registry kept between runs, so the base and Python layers are not gzipped and uploaded
    // again each run (≈ 1.3 GB, ≈ 25 s of one core); the push after the edit is measured the same way.
    const reg = ctx.quick
      ? await startRegistry(join(tools.toolsDir, 'bench-quick-registry'), {preferredPort: 18766, maxBytes: 3 * GiB})
      : await startRegistry(join(tools.out, 'registry'))
    registry = reg
    const image = (tool: Tool, what: string): string => {
      const ref = `${reg.address}/bench-${tool}-${label.toLowerCase()}:${what}`
      images.push(ref)
      return ref
    }
    const bentoContainerize = async (t: string, ref: string, extra: string[] = []): Promise<BuildSample & {sent: number; wchar: number}> => {
      const out = await runToolMeasured('bento', r(), ['containerize', t, '-t', ref, '--json', ...extra])
      const json = JSON.parse(out.stdout) as {contextBytes: number; modelImages: Array<{image: string; contextBytes: number}>}
      for (const m of json.modelImages) if (!images.includes(m.image)) images.push(m.image)
      return {...sample(out), wchar: out.wchar, sent: json.contextBytes + json.modelImages.reduce((s, m) => s + m.contextBytes, 0)}
    }
    // bentoml's COPY . layer carries the models: keep only its latest (the daemon's disk), never bento's layers.
    const bigRecord = Math.max(bytes / 2, GiB)
    let lastBentomlRecords = new Set<string>()
    const bentomlContainerize = async (t: string, ref: string, extra: string[] = []): Promise<number> => {
      // Quick removes nothing from the build cache (its contexts are a few MiB), so it lists none: .ci/run runs it
      // beside the tests, whose builds' records it must not touch.
      if (ctx.quick) return (await runTool('bentoml', r(), ['containerize', t, '-t', ref, ...extra])).ms
      const before = await buildCacheIds(tools)
      const ms = (await runTool('bentoml', r(), ['containerize', t, '-t', ref, ...extra])).ms
      await pruneContextsSince(tools, cacheBefore)
      await pruneBigRecords(tools, lastBentomlRecords, bigRecord)
      lastBentomlRecords = new Set([...(await buildCacheIds(tools))].filter((id) => !before.has(id)))
      return ms
    }
    ctx.log(`models ${label}: first containerize of ${tag}`)
    const firstBento = await bentoContainerize(tag, image('bento', 'v0'))
    const firstBentomlMs = await bentomlContainerize(tag, image('bentoml', 'v0'))
    for (const tool of ['bento', 'bentoml'] as Tool[]) await docker(tools, ['push', image(tool, 'v0')])

    const warm: Array<{tool: Tool; ms: number; sent: number; wchar: number}> = []
    const push = {bento: 0, bentoml: 0}
    // bentoml sends its whole context (a copy of the Bento, models included) to the daemon every time.
    let bentomlSent = 0
    for (let i = 1; i <= runs; i++) {
      await writeFile(join(projA, 'service.py'), `${original}# bench containerize edit ${i}\n`)
      tag = (await bentoBuild(projA)).tag
      bentomlSent = duBytes(join(home, 'bentos/big_model_svc', tag.split(':')[1]!))
      for (const tool of (i % 2 === 1 ? ['bento', 'bentoml'] : ['bentoml', 'bento']) as Tool[]) {
        const ref = image(tool, `v${i}`)
        if (tool === 'bento') {
          const b = await bentoContainerize(tag, ref)
          warm.push({tool, ms: b.ms, sent: b.sent, wchar: b.wchar})
        } else {
          warm.push({tool, ms: await bentomlContainerize(tag, ref), sent: bentomlSent, wchar: Number.NaN})
        }
        if (i === 1) {
          // P3b: the push after the edit, to a registry that holds the image from before it.
          const before = reg.blobBytes()
          await docker(tools, ['push', ref])
          push[tool] = reg.blobBytes() - before
        }
        // Keep the daemon's disk in check: the previous image of this tool is no longer needed.
        await removeImages(tools, [image(tool, `v${i - 1}`)])
      }
    }
    const medianOf = (tool: Tool): number => median(warm.filter((w) => w.tool === tool).map((w) => w.ms))
    ctx.log(`models ${label}: warm containerize: bento ${fmtSeconds(medianOf('bento'))}, bentoml ${fmtSeconds(medianOf('bentoml'))}; push after edit: bento ${fmtBytes(push.bento)}, bentoml ${fmtBytes(push.bentoml)}`)

    const imageSizes = {bento: 0, bentoml: 0}
    // Quick: the sizes of the warm images (there is no cold run).
    if (ctx.quick) for (const tool of ['bento', 'bentoml'] as Tool[]) imageSizes[tool] = await imageSize(tools, image(tool, `v${runs}`))
    // Done with the registry and the warm images: give the disk back before the cold builds (which use no cache).
    await reg.stop()
    registry = undefined
    const dropAll = async (): Promise<void> => {
      await removeImages(tools, images)
      if (!ctx.quick) await pruneBuildCacheSince(tools, cacheBefore)
    }
    await dropAll()

    // P5: cold. Quick mode (a smoke of the script): none, no repeated cold builds.
    const cold: {bento: number[]; bentoml: number[]} = {bento: [], bentoml: []}
    const coldRuns = ctx.quick ? 0 : bytes >= 4 * GiB ? 1 : 2
    for (let i = 0; i < coldRuns; i++) {
      for (const tool of (i % 2 === 0 ? ['bento', 'bentoml'] : ['bentoml', 'bento']) as Tool[]) {
        const ref = image(tool, `cold${i}`)
        if (tool === 'bento') cold.bento.push((await bentoContainerize(tag, ref, ['--no-cache'])).ms)
        else cold.bentoml.push(await bentomlContainerize(tag, ref, ['--opt', 'no-cache']))
        imageSizes[tool] = await imageSize(tools, ref)
        await dropAll()
      }
    }
    ctx.log(`models ${label}: cold containerize: bento ${fmtSeconds(median(cold.bento))}, bentoml ${fmtSeconds(median(cold.bentoml))}`)

    // P7: export (.tar: the memory of the export itself, not of xz).
    const out = join(root, 'export.tar')
    const exportSample = sample(await runToolMeasured('bento', r(), ['export', tag, out]))
    await rm(out, {force: true})

    res.containerize = {firstBento, firstBentomlMs, warm, push, cold, imageSize: imageSizes, exportSample}
    return res
  } finally {
    await registry?.stop()
    await removeImages(tools, images)
    // Quick: bench/run.ts prunes the run's build cache once at the end (the next benchmark reuses the layers).
    if (!ctx.quick) await pruneBuildCacheSince(tools, cacheBefore)
    await rm(root, {recursive: true, force: true})
  }
}

const FULL_SIZES: Array<[number, string]> = [
  [100 * MiB, '100MiB'],
  [1 * GiB, '1GiB'],
  [4 * GiB, '4GiB'],
]

/** The 1 KiB baseline, then the curve's sizes: all, or those BENCH_MODEL_SIZES names (e.g. `100MiB,1GiB`). */
function fullSizes(names: string | undefined): Array<[number, string]> {
  const wanted = names ? names.split(',').map((n) => n.trim()) : FULL_SIZES.map(([, label]) => label)
  for (const n of wanted) if (!FULL_SIZES.some(([, label]) => label === n)) throw new Error(`BENCH_MODEL_SIZES: unknown size ${n} (known: ${FULL_SIZES.map(([, l]) => l).join(', ')})`)
  return [[1024, '1KiB'], ...FULL_SIZES.filter(([, label]) => wanted.includes(label))]
}

export async function benchModels(ctx: BenchContext): Promise<BenchResult[]> {
  const sizes: Array<[number, string]> = ctx.quick
    ? [
        [1024, '1KiB'],
        [8 * MiB, '8MiB'],
      ]
    : fullSizes(process.env.BENCH_MODEL_SIZES)
  const server = await startWheelServer(ctx.tools)
  const results: SizeResult[] = []
  try {
    for (const [bytes, label] of sizes) results.push(await runSize(ctx, bytes, label, server))
  } finally {
    await server.stop()
  }
  return report(ctx, results, server)
}

/** The rows and curves of the sizes measured (exported for re-rendering a run's raw samples). */
export function report(ctx: BenchContext, results: SizeResult[], server: Pick<WheelServer, 'url'>): BenchResult[] {
  const base = results[0]!
  const big = results.slice(1)
  const head = big[big.length - 1]!
  const c = (x: SizeResult): NonNullable<SizeResult['containerize']> => x.containerize!
  const med = (xs: BuildSample[], k: keyof BuildSample = 'ms'): number => median(xs.map((x) => x[k]))
  const warmOf = (x: SizeResult, tool: Tool): number => median(c(x).warm.filter((w) => w.tool === tool).map((w) => w.ms))
  const sentOf = (x: SizeResult): number => Math.max(...c(x).warm.filter((w) => w.tool === 'bento').map((w) => w.sent))
  const sentBentoml = (x: SizeResult): number => median(c(x).warm.filter((w) => w.tool === 'bentoml').map((w) => w.sent))
  // Bytes a build reads that are not the model's: the same kind of build with the 1 KiB model.
  const baseRead = med(base.bento, 'rchar')
  const modelRead = (rchar: number): number => Math.max(0, rchar - baseRead)

  const flat = big.map((x) => ratio(med(x.bento), med(base.bento)))
  const worstFlat = Math.max(...flat.map((f) => f ?? Number.POSITIVE_INFINITY))
  const vsBentoml = ratio(med(head.bento), med(head.bentoml))
  const firstRatio = Math.max(...big.map((x) => x.first.rchar / x.bytes))
  const laterModelRead = Math.max(...big.flatMap((x) => [x.otherProject.rchar, ...x.bento.map((b) => b.rchar)].map(modelRead)))
  const p3 = warmOf(head, 'bento')
  const p3Ratio = ratio(p3, warmOf(head, 'bentoml'))
  const p5Ratio = ratio(median(c(head).cold.bento), median(c(head).cold.bentoml))
  const sizeRatio = ratio(c(head).imageSize.bento, c(head).imageSize.bentoml)
  const growth = (f: (x: SizeResult) => number): number | null => ratio(f(head), f(big[0]!))
  const rss = {
    build: growth((x) => x.first.rssKiB),
    containerize: growth((x) => c(x).firstBento.rssKiB),
    export: growth((x) => c(x).exportSample.rssKiB),
  }
  const worstRss = Math.max(...Object.values(rss).map((v) => v ?? Number.POSITIVE_INFINITY))
  const ok = (b: boolean): Row['status'] => (b ? 'ok' : 'behind')
  const runsNote = ctx.quick ? '1 run' : 'median of 3 (2 at 4 GiB)'

  const rows: Row[] = [
    {
      id: 'P2',
      metric: `build after a one-line edit, model of size S ÷ 1 KiB model, worst S (${runsNote})`,
      bento: big.map((x, i) => `${x.label} ${fmtRatio(flat[i] ?? null)}`).join(', '),
      other: `1 KiB: ${fmtSeconds(med(base.bento))}`,
      ratio: worstFlat,
      value: fmtRatio(worstFlat),
      target: `≤ ${P2_FLAT} at every S`,
      status: ok(worstFlat <= P2_FLAT),
    },
    {
      id: 'P2',
      metric: `build after a one-line edit with a ${head.label} model ÷ bentoml build`,
      bento: fmtSeconds(med(head.bento)),
      other: `bentoml ${fmtSeconds(med(head.bentoml))}`,
      ratio: vsBentoml,
      value: fmtRatio(vsBentoml),
      target: `≤ ${P2_VS_BENTOML}`,
      status: ok(vsBentoml !== null && vsBentoml <= P2_VS_BENTOML),
    },
    {
      id: 'P2b',
      metric: 'first build of a never-seen model: bytes read ÷ model size (worst S)',
      bento: big.map((x) => `${x.label} ${fmtBytes(x.first.rchar)}`).join(', '),
      other: '–',
      ratio: firstRatio,
      value: fmtRatio(firstRatio),
      target: '≤ 1 (each byte once)',
      status: ok(firstRatio <= 1 + 32 * MiB / big[0]!.bytes),
    },
    {
      id: 'P2b',
      metric: 'model bytes read by later builds (edits, another project with the same model), worst',
      bento: fmtBytes(laterModelRead),
      other: `process reads ${fmtBytes(baseRead)} with a 1 KiB model`,
      ratio: null,
      value: fmtBytes(laterModelRead),
      target: '0',
      status: ok(laterModelRead < MiB),
    },
    {
      id: 'P3',
      metric: `warm containerize after a one-line edit, ${head.label} model (${runsNote})`,
      bento: fmtSeconds(p3),
      other: `bentoml ${fmtSeconds(warmOf(head, 'bentoml'))}`,
      ratio: p3Ratio,
      value: `${fmtSeconds(p3)}; ×${fmtRatio(p3Ratio)}`,
      target: `≤ ${P3_TARGET_MS / 1000} s; ≤ ${P3_VS_BENTOML}`,
      status: ok(p3 <= P3_TARGET_MS && p3Ratio !== null && p3Ratio <= P3_VS_BENTOML),
    },
    {
      id: 'P3',
      metric: `bytes sent to the daemon by that containerize, ${head.label} model`,
      bento: fmtBytes(sentOf(head)),
      other: `bentoml ${fmtBytes(sentBentoml(head))}`,
      ratio: ratio(sentOf(head), sentBentoml(head)),
      value: `${fmtBytes(sentOf(head))} (0 model bytes)`,
      target: '0 model bytes',
      status: ok(sentOf(head) < MiB),
    },
    {
      id: 'P3b',
      metric: `push after that edit, ${head.label} model: bytes uploaded (registry blob growth)`,
      bento: fmtBytes(c(head).push.bento),
      other: `bentoml ${fmtBytes(c(head).push.bentoml)}`,
      ratio: ratio(c(head).push.bento, c(head).push.bentoml),
      value: fmtBytes(c(head).push.bento),
      target: '≤ 1 MiB',
      status: ok(c(head).push.bento <= P3B_TARGET),
    },
    ctx.quick
      ? {id: 'P5', metric: `cold containerize, ${head.label} model (quick: no cold run; first containerize instead)`, bento: fmtSeconds(c(head).firstBento.ms), other: `bentoml ${fmtSeconds(c(head).firstBentomlMs)}`, ratio: null, value: '–', target: `≤ ${P5_TARGET}`, status: 'info'}
      : {
          id: 'P5',
          metric: `cold containerize (--no-cache / --opt no-cache), ${head.label} model`,
          bento: fmtSeconds(median(c(head).cold.bento)),
          other: `bentoml ${fmtSeconds(median(c(head).cold.bentoml))}`,
          ratio: p5Ratio,
          value: fmtRatio(p5Ratio),
          target: `≤ ${P5_TARGET}`,
          status: ok(p5Ratio !== null && p5Ratio <= P5_TARGET),
        },
    {
      id: 'P5',
      metric: `image size, ${head.label} model, same Bento`,
      bento: fmtBytes(c(head).imageSize.bento),
      other: `bentoml ${fmtBytes(c(head).imageSize.bentoml)}`,
      ratio: sizeRatio,
      value: fmtRatio(sizeRatio),
      target: '≤ 1',
      status: ok(sizeRatio !== null && sizeRatio <= 1),
    },
    {
      id: 'P7',
      metric: `peak RSS growth ${big[0]!.label} → ${head.label}: build, containerize, export`,
      bento: `${fmtBytes(head.first.rssKiB * 1024)}, ${fmtBytes(c(head).firstBento.rssKiB * 1024)}, ${fmtBytes(c(head).exportSample.rssKiB * 1024)}`,
      other: `bentoml build ${fmtBytes(med(head.bentoml, 'rssKiB') * 1024)}`,
      ratio: worstRss,
      value: `×${fmtRatio(rss.build)}, ×${fmtRatio(rss.containerize)}, ×${fmtRatio(rss.export)}`,
      target: `flat (≤ ×${P7_FLAT_SLACK} each)`,
      status: ok(worstRss <= P7_FLAT_SLACK),
    },
  ]

  const perGiB = (f: (x: SizeResult) => number): string => {
    const s = slope(big.map((x) => ({x: x.bytes / GiB, y: f(x) / 1000})))
    return Number.isFinite(s) ? `${s.toFixed(2)} s per GiB` : '–'
  }
  const curves: Curve[] = [
    {
      title: 'P2 build after a one-line edit vs model size (medians)',
      columns: ['model', 'bento build', 'bento ÷ 1 KiB', 'bentoml build', 'bento ÷ bentoml', 'bento bytes read'],
      rows: results.map((x) => [x.label, fmtSeconds(med(x.bento)), fmtRatio(ratio(med(x.bento), med(base.bento))), fmtSeconds(med(x.bentoml)), fmtRatio(ratio(med(x.bento), med(x.bentoml))), fmtBytes(med(x.bento, 'rchar'))]),
      summary: `bento build after an edit: ${perGiB((x) => med(x.bento))} of model; bentoml build: ${perGiB((x) => med(x.bentoml))}.`,
    },
    {
      title: 'P2b model bytes read per build',
      columns: ['model', 'first build (never-seen model)', 'read ÷ size', 'first build time', 'another project, same model', 'later builds (median)'],
      rows: big.map((x) => [x.label, fmtBytes(x.first.rchar), fmtRatio(x.first.rchar / x.bytes), fmtSeconds(x.first.ms), fmtBytes(modelRead(x.otherProject.rchar)), fmtBytes(modelRead(med(x.bento, 'rchar')))]),
      summary: `Bytes are /proc rchar of the whole process; "model bytes" subtract what the same build reads with a 1 KiB model (${fmtBytes(baseRead)}: Node, the CLI, the project).`,
    },
    {
      title: 'P3 warm containerize after a one-line edit vs model size (medians)',
      columns: ['model', 'bento', 'bentoml', 'bento ÷ bentoml', 'bento sent to daemon', 'bentoml sent (its context)'],
      rows: big.map((x) => [x.label, fmtSeconds(warmOf(x, 'bento')), fmtSeconds(warmOf(x, 'bentoml')), fmtRatio(ratio(warmOf(x, 'bento'), warmOf(x, 'bentoml'))), fmtBytes(sentOf(x)), fmtBytes(sentBentoml(x))]),
      summary: `bento: ${perGiB((x) => warmOf(x, 'bento'))} of model; bentoml: ${perGiB((x) => warmOf(x, 'bentoml'))}.`,
    },
    {
      title: 'P3b bytes uploaded by a push after a one-line edit',
      columns: ['model', 'bento', 'bentoml'],
      rows: big.map((x) => [x.label, fmtBytes(c(x).push.bento), fmtBytes(c(x).push.bentoml)]),
      summary: 'Growth of the private registry\'s blob store over each push; both images were pushed once before the edit.',
    },
    {
      title: 'P5 cold containerize and image size vs model size',
      columns: ['model', 'bento cold', 'bentoml cold', 'bento ÷ bentoml', 'bento first (model image or layer made)', 'bentoml first', 'bento image', 'bentoml image'],
      rows: big.map((x) => [
        x.label,
        fmtSeconds(median(c(x).cold.bento)),
        fmtSeconds(median(c(x).cold.bentoml)),
        fmtRatio(ratio(median(c(x).cold.bento), median(c(x).cold.bentoml))),
        fmtSeconds(c(x).firstBento.ms),
        fmtSeconds(c(x).firstBentomlMs),
        fmtBytes(c(x).imageSize.bento),
        fmtBytes(c(x).imageSize.bentoml),
      ]),
      summary: `bento cold: ${perGiB((x) => median(c(x).cold.bento))}; bentoml cold: ${perGiB((x) => median(c(x).cold.bentoml))}.`,
    },
    {
      title: 'P7 peak RSS vs model size',
      columns: ['model', 'bento build (first)', 'bento containerize (first)', 'bento export (.tar)', 'bentoml build'],
      rows: big.map((x) => [x.label, fmtBytes(x.first.rssKiB * 1024), fmtBytes(c(x).firstBento.rssKiB * 1024), fmtBytes(c(x).exportSample.rssKiB * 1024), fmtBytes(med(x.bentoml, 'rssKiB') * 1024)]),
      summary: `bento build: ${(slope(big.map((x) => ({x: x.bytes / GiB, y: (x.first.rssKiB * 1024) / MiB})))).toFixed(1)} MiB of peak RSS per GiB of model (flat means ≈ 0).`,
    },
  ]
  return [
    {
      id: 'P2',
      title: 'model size never costs twice: build, containerize, push, memory (P2, P2b, P3, P3b, P5, P7)',
      rows,
      curves,
      notes: [
        'The model: one weights.bin (a 16 MiB os.urandom block repeated) saved with the real `bentoml.models.create` 1.4.15, listed in bentofile `models:`; a new random model per size and run, so every run starts from a never-seen model.',
        'P2/P2b: each build is `bento build --json` (a one-line comment appended to service.py before each); bentoml builds the same project (`--version bmlN`). Alternating order. Bytes read: `rchar` of /proc/<pid>/io of a shell that reaped the tool (Linux adds a reaped child\'s counters to its parent\'s), so everything the tool\'s processes read.',
        `P3: the Bento of the last edit, containerized by each tool (alternating), both installing Python packages from the bench's wheel server at ${server.url}; bento's bytes sent are its own count of the build contexts it streamed (model images or committed model layers included, 0 when reused); bentoml's are its context, a copy of the Bento with the models (du).`,
        'P3b: a private docker-registry started for the run (deleted after); each tool\'s image is pushed before the edit, then the image after the edit; the figure is the growth of the registry\'s blob store (compressed layers).',
        'P5: `bento containerize --no-cache` (the model layer made again: at 1 GiB and 4 GiB committed onto the dependency image, at 100 MiB a model image) and `bentoml containerize --opt no-cache`; the base image and page cache stay warm. bentoml\'s cold build also installs build-essential from the Debian mirror and uv.',
        'P7: `/usr/bin/time -f %M` (peak RSS of the command and its children) for the first build, the first containerize (streams the model into its image) and `bento export … x.tar`.',
        'Cleanup after each size: every image of the run and the build cache records it created (one by one, never the whole cache).',
      ],
      raw: results,
    },
  ]
}

