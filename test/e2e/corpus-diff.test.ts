/**
 * The differential corpus in CI (scripts/corpus-diff/): projects of ../shared/corpus/projects that the real
 * `bentoml build` 1.4.40 and `bento build` both build (chosen fast: a few seconds each), compared key by key on the
 * `bentoml get -o json` of both Bentos and their `src/` files. A regression in any compared key fails here; the whole
 * table is `npm run corpus-diff`.
 */
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {corpusDiff, defaultVenv} from '../../scripts/corpus-diff/run.js'
import {bentoml1440} from '../helpers/env.js'
import {SHARED, sharedPresent} from '../helpers/shared.js'

const CORPUS = join(SHARED, 'corpus', 'projects')

/**
 * SDK services with Hugging Face models (resolved through the harness's hub stand-in), stubbed heavy imports, a
 * `bentoml.depends` graph with a mounted app (langgraph-anthropic), a legacy service with store models and a
 * bentofile alias (bml-bento-with-models), a class-attribute image and requirements file (infinity), API defaults
 * that are items of a module constant (text2video).
 */
const PROJECTS = ['blip', 'bml-bento-with-models', 'infinity', 'langgraph-anthropic', 'text2video']
/** Refused by both: two services in the module and no `service:` attribute (BentoML: "Multiple … instances"). */
const BOTH_REFUSE = ['bml-static-http']

describe.runIf(sharedPresent(CORPUS))('differential corpus: bento build ⇄ the real bentoml build 1.4.40', () => {
  it('builds each project alike, on every compared key; refuses what BentoML refuses', async () => {
    bentoml1440()
    const all = await corpusDiff({corpus: CORPUS, projects: [...PROJECTS, ...BOTH_REFUSE], venv: defaultVenv(), jobs: 2})
    const refused = all.filter((r) => BOTH_REFUSE.includes(r.project))
    expect(refused.map((r) => [r.project, r.builtByBentoml, r.builtByBento, r.run.bento.error?.split(' ')[0]])).toEqual(BOTH_REFUSE.map((p) => [p, false, false, 'E_CONFIG']))
    const rows = all.filter((r) => PROJECTS.includes(r.project))
    const found = rows.map((r) => ({
      project: r.project,
      bentoml: r.run.bentoml.error ?? r.run.bentoml.readError ?? 'built',
      bento: r.run.bento.error ?? r.run.bento.readError ?? 'built',
      differences: r.comparison?.differing ?? null,
    }))
    expect(found).toEqual(PROJECTS.map((project) => ({project, bentoml: 'built', bento: 'built', differences: []})))
    // The keys that matter were compared, not skipped: both documents had them.
    for (const r of rows) expect(r.comparison?.agreeing).toEqual(expect.arrayContaining(['services', 'models', 'envs', 'labels', 'args', 'entry_service', 'spec', 'schema', 'src']))
  }, 120_000)
})
