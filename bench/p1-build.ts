/**
 * P1: `bento build` ÷ `bentoml build` on the iris project, Keras (the bench trains its own model, bentoml.keras, TF 2.15)
 * and sklearn variants. Alternating runs, fresh version each run (`--version` for both), median.
 * Two bentofiles each: like-for-like (`python.lock_packages: false`, as bento never locks) and the project's
 * own bentofile (BentoML then also runs `uv pip compile` against PyPI).
 */
import {cp, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {parse, stringify} from 'yaml'

import {FIXTURES, freshDir, irisProject, runTool, saveKerasIris, saveSklearnIris, type Tool, type Tools} from './lib/env.js'
import {fmtRatio, fmtSeconds, median, ratio} from './lib/stats.js'
import type {BenchContext, BenchResult, Row} from './lib/types.js'

export const P1_TARGET = 0.05

interface Variant {
  name: string
  keras: boolean
  lock: boolean
}

interface VariantResult extends Variant {
  bentoMs: number[]
  bentomlMs: number[]
  ratio: number | null
}

function withoutLock(bentofile: string): string {
  const doc = (parse(bentofile) ?? {}) as Record<string, unknown>
  const python = (doc.python ?? {}) as Record<string, unknown>
  doc.python = {...python, lock_packages: false}
  return stringify(doc)
}

async function project(tools: Tools, keras: boolean, lock: boolean): Promise<{dir: string; home: string}> {
  const root = await freshDir(tools, 'p1', `${keras ? 'keras' : 'sklearn'}-${lock ? 'lock' : 'nolock'}`)
  const home = join(root, 'home')
  const dir = join(root, 'project')
  if (keras) {
    await cp(join(FIXTURES, 'keras-iris'), dir, {recursive: true})
    const own = await readFile(join(dir, 'bentofile.yaml'), 'utf8')
    await writeFile(join(dir, 'bentofile.yaml'), lock ? own : withoutLock(own))
    await saveKerasIris(tools, home)
  } else {
    await irisProject(dir)
    if (!lock) await writeFile(join(dir, 'bentofile.yaml'), withoutLock(await readFile(join(dir, 'bentofile.yaml'), 'utf8')))
    await saveSklearnIris(tools, home)
  }
  return {dir, home}
}

async function runVariant(ctx: BenchContext, v: Variant, runs: number): Promise<VariantResult> {
  const {dir, home} = await project(ctx.tools, v.keras, v.lock)
  const samples: Record<Tool, number[]> = {bento: [], bentoml: []}
  const once = async (tool: Tool, version: string): Promise<number> => {
    const r = await runTool(tool, {tools: ctx.tools, home, cwd: dir, keras: v.keras}, ['build', '--version', version])
    return r.ms
  }
  // One untimed warm-up each (page cache, Python bytecode), then alternating pairs. Quick (a smoke): no warm-up.
  if (!ctx.quick) {
    await once('bento', 'warmup-bento')
    await once('bentoml', 'warmup-bentoml')
  }
  for (let i = 0; i < runs; i++) {
    const order: Tool[] = i % 2 === 0 ? ['bento', 'bentoml'] : ['bentoml', 'bento']
    for (const tool of order) samples[tool].push(await once(tool, `run${i}-${tool}`))
  }
  const r = ratio(median(samples.bento), median(samples.bentoml))
  ctx.log(`P1 ${v.name}: bento ${fmtSeconds(median(samples.bento))}, bentoml ${fmtSeconds(median(samples.bentoml))}, ratio ${fmtRatio(r)}`)
  if (!ctx.quick) await rm(join(dir, '..'), {recursive: true, force: true})
  return {...v, bentoMs: samples.bento, bentomlMs: samples.bentoml, ratio: r}
}

export async function benchP1(ctx: BenchContext): Promise<BenchResult> {
  const runs = ctx.quick ? 1 : 5
  const variants: Variant[] = [
    {name: 'keras, lock_packages: false', keras: true, lock: false},
    {name: 'sklearn, lock_packages: false', keras: false, lock: false},
    {name: 'keras, project bentofile (bentoml locks)', keras: true, lock: true},
    {name: 'sklearn, project bentofile (bentoml locks)', keras: false, lock: true},
  ]
  const results: VariantResult[] = []
  // Quick (a smoke of the script): the sklearn like-for-like variant only (Keras trains a TensorFlow model first).
  for (const v of ctx.quick ? variants.slice(1, 2) : variants) results.push(await runVariant(ctx, v, runs))
  const rows: Row[] = results.map((v) => ({
    id: 'P1',
    metric: `build time, iris ${v.name} (median of ${v.bentoMs.length})`,
    bento: fmtSeconds(median(v.bentoMs)),
    other: `bentoml ${fmtSeconds(median(v.bentomlMs))}`,
    ratio: v.ratio,
    value: fmtRatio(v.ratio),
    target: `≤ ${P1_TARGET}`,
    status: v.lock ? 'info' : v.ratio !== null && v.ratio <= P1_TARGET ? 'ok' : 'behind',
  }))
  return {
    id: 'P1',
    title: 'bento build ÷ bentoml build (iris)',
    rows,
    curves: [],
    notes: [
      `${runs} alternating runs per tool after ${ctx.quick ? 'no' : 'one untimed'} warm-up${ctx.quick ? '' : ' each'}; \`--version runN-<tool>\` makes every run a fresh Bento.`,
      'Like-for-like rows set `python.lock_packages: false` (bento never runs a resolver); they are the ones held to the target. ' +
        'The "project bentofile" rows keep the bentofile as is, so BentoML also locks with `uv pip compile` against PyPI (network) — shown for information.',
      'Keras: `bentoml build` imports the service, hence TensorFlow; bento reads it statically.',
    ],
    raw: results,
  }
}
