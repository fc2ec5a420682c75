/**
 * P2 and P7: `bento build` of a project whose model is big (one random-ish weights.bin saved with the real
 * `bentoml.models.create`), against the disk's limit (`cp -r` of the model dir + `sha256sum` of its file)
 * and against `bentoml build`; peak RSS of each (GNU time). Sizes 100 MiB, 1 GiB, 4 GiB (quick: 8, 32 MiB).
 */
import {execFileSync} from 'node:child_process'
import {cp, mkdir, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {FIXTURES, freshDir, runToolWithRss, saveBigModel, type Tool} from './lib/env.js'
import {mustRun} from './lib/proc.js'
import {fmtBytes, fmtRatio, fmtSeconds, GiB, median, MiB, ratio, slope} from './lib/stats.js'
import type {BenchContext, BenchResult, Curve, Row} from './lib/types.js'

export const P2_TARGET = 1.2
/** P7 "flat": peak RSS at the largest size at most this much above the smallest. */
export const P7_FLAT_SLACK = 1.2

interface SizeResult {
  bytes: number
  label: string
  bentoMs: number[]
  bentomlMs: number[]
  baselineMs: number[]
  bentoRssKiB: number[]
  bentomlRssKiB: number[]
}

function freeBytes(dir: string): number {
  const out = execFileSync('df', ['-B1', '--output=avail', dir], {encoding: 'utf8'})
  return Number(out.trim().split('\n').pop())
}

async function runSize(ctx: BenchContext, bytes: number, label: string, runs: number): Promise<SizeResult> {
  const root = await freshDir(ctx.tools, 'p2', label)
  // Room for the model, one cp -r copy and slack (bento's Bento hard-links the model; bentoml's references it).
  if (freeBytes(root) < 2.5 * bytes + 2 * GiB) throw new Error(`P2 ${label}: not enough free disk under ${root} (df -h)`)
  const home = join(root, 'home')
  const dir = join(root, 'project')
  ctx.log(`P2 ${label}: saving the model`)
  const model = await saveBigModel(ctx.tools, home, 'big_model', bytes)
  await mkdir(dir, {recursive: true})
  await cp(join(FIXTURES, 'big-model/service.py'), join(dir, 'service.py'))
  await writeFile(
    join(dir, 'bentofile.yaml'),
    `service: "service:svc"\ninclude:\n  - "*.py"\nmodels:\n  - "${model.tag}"\npython:\n  lock_packages: false\n`,
  )
  const r: SizeResult = {bytes, label, bentoMs: [], bentomlMs: [], baselineMs: [], bentoRssKiB: [], bentomlRssKiB: []}
  const build = async (tool: Tool, i: number): Promise<void> => {
    const version = `run${i}-${tool}`
    const out = await runToolWithRss(tool, {tools: ctx.tools, home, cwd: dir, timeoutMs: 60 * 60_000}, ['build', '--version', version])
    ;(tool === 'bento' ? r.bentoMs : r.bentomlMs).push(out.ms)
    ;(tool === 'bento' ? r.bentoRssKiB : r.bentomlRssKiB).push(out.rssKiB)
    await rm(join(home, 'bentos/big_model_svc', version), {recursive: true, force: true})
  }
  const baseline = async (): Promise<void> => {
    const copy = join(root, 'copy')
    await rm(copy, {recursive: true, force: true})
    const c = await mustRun('cp', ['-r', model.path, copy])
    const s = await mustRun('sha256sum', [join(model.path, 'weights.bin')])
    r.baselineMs.push(c.ms + s.ms)
    await rm(copy, {recursive: true, force: true})
  }
  for (let i = 0; i < runs; i++) {
    const order: Array<() => Promise<void>> =
      i % 2 === 0 ? [() => build('bento', i), () => build('bentoml', i), baseline] : [baseline, () => build('bentoml', i), () => build('bento', i)]
    for (const step of order) await step()
  }
  ctx.log(
    `P2 ${label}: bento ${fmtSeconds(median(r.bentoMs))} (${fmtBytes(median(r.bentoRssKiB) * 1024)} RSS), ` +
      `cp+sha256 ${fmtSeconds(median(r.baselineMs))}, bentoml ${fmtSeconds(median(r.bentomlMs))} (${fmtBytes(median(r.bentomlRssKiB) * 1024)} RSS)`,
  )
  await rm(root, {recursive: true, force: true})
  return r
}

export async function benchP2(ctx: BenchContext): Promise<BenchResult> {
  const sizes: Array<[number, string]> = ctx.quick
    ? [
        [8 * MiB, '8MiB'],
        [32 * MiB, '32MiB'],
      ]
    : [
        [100 * MiB, '100MiB'],
        [1 * GiB, '1GiB'],
        [4 * GiB, '4GiB'],
      ]
  const runs = ctx.quick ? 1 : 3
  const results: SizeResult[] = []
  for (const [bytes, label] of sizes) results.push(await runSize(ctx, bytes, label, runs))

  // The headline size: 1 GiB (quick: the largest).
  const head = results.find((x) => x.bytes === GiB) ?? results[results.length - 1]!
  const bento = median(head.bentoMs)
  const vsDisk = ratio(bento, median(head.baselineMs))
  const vsBentoml = ratio(bento, median(head.bentomlMs))
  const rss = results.map((x) => median(x.bentoRssKiB) * 1024)
  const rssGrowth = ratio(rss[rss.length - 1]!, rss[0]!)
  const rssSlope = slope(results.map((x, i) => ({x: x.bytes / GiB, y: rss[i]! / MiB})))
  const rows: Row[] = [
    {
      id: 'P2',
      metric: `build with a ${head.label} model ÷ (cp -r + sha256sum) (median of ${runs})`,
      bento: fmtSeconds(bento),
      other: `cp+sha256 ${fmtSeconds(median(head.baselineMs))}`,
      ratio: vsDisk,
      value: fmtRatio(vsDisk),
      target: `≤ ${P2_TARGET}`,
      status: vsDisk !== null && vsDisk <= P2_TARGET ? 'ok' : 'behind',
    },
    {
      id: 'P2',
      metric: `build with a ${head.label} model ÷ bentoml build`,
      bento: fmtSeconds(bento),
      other: `bentoml ${fmtSeconds(median(head.bentomlMs))}`,
      ratio: vsBentoml,
      value: fmtRatio(vsBentoml),
      target: '(same)',
      status: 'info',
    },
    {
      id: 'P7',
      metric: `peak RSS of bento build, ${results[0]!.label} → ${results[results.length - 1]!.label} model`,
      bento: `${fmtBytes(rss[0]!)} → ${fmtBytes(rss[rss.length - 1]!)}`,
      other: `bentoml ${fmtBytes(median(results[results.length - 1]!.bentomlRssKiB) * 1024)}`,
      ratio: rssGrowth,
      value: `×${fmtRatio(rssGrowth)} (${Number.isFinite(rssSlope) ? rssSlope.toFixed(1) : '–'} MiB per GiB)`,
      target: `flat (≤ ×${P7_FLAT_SLACK})`,
      status: rssGrowth !== null && rssGrowth <= P7_FLAT_SLACK ? 'ok' : 'behind',
    },
  ]
  const curves: Curve[] = [
    {
      title: 'P2 build time vs model size (medians)',
      columns: ['model', 'bento build', 'cp -r + sha256sum', 'bentoml build', 'bento ÷ disk', 'bento ÷ bentoml', 'bento MiB/s'],
      rows: results.map((x) => {
        const b = median(x.bentoMs)
        return [
          x.label,
          fmtSeconds(b),
          fmtSeconds(median(x.baselineMs)),
          fmtSeconds(median(x.bentomlMs)),
          fmtRatio(ratio(b, median(x.baselineMs))),
          fmtRatio(ratio(b, median(x.bentomlMs))),
          (x.bytes / MiB / (b / 1000)).toFixed(0),
        ]
      }),
      summary: `bento build: ${(slope(results.map((x) => ({x: x.bytes / GiB, y: median(x.bentoMs) / 1000})))).toFixed(2)} s per GiB of model; cp -r + sha256sum: ${(slope(results.map((x) => ({x: x.bytes / GiB, y: median(x.baselineMs) / 1000})))).toFixed(2)} s per GiB.`,
    },
    {
      title: 'P7 peak RSS vs model size (medians)',
      columns: ['model', 'bento build RSS', 'bentoml build RSS'],
      rows: results.map((x) => [x.label, fmtBytes(median(x.bentoRssKiB) * 1024), fmtBytes(median(x.bentomlRssKiB) * 1024)]),
      summary: `bento build: ${Number.isFinite(rssSlope) ? rssSlope.toFixed(1) : '–'} MiB of peak RSS per GiB of model (flat means ≈ 0).`,
    },
  ]
  return {
    id: 'P2',
    title: 'big model: build vs disk, peak memory',
    rows,
    curves,
    notes: [
      `The model: one weights.bin (a 16 MiB os.urandom block repeated) saved with the real \`bentoml.models.create\`; the service lists it in bentofile \`models:\`. ${runs} alternating runs of bento build, bentoml build and the baseline per size; each Bento is deleted after its run (untimed).`,
      'Baseline: `cp -r <model dir> <same file system>` + `sha256sum weights.bin`, i.e. one read + one write + one hash pass, page cache warm (the model was just written; the machine has RAM to spare), no fsync. bento hashes the model (streamed, 1 MiB chunks) and hard-links it into the Bento; bentoml build only references the model store.',
      'Peak RSS: `/usr/bin/time -f %M` (ru_maxrss of the command and its children).',
    ],
    raw: results,
  }
}
