/**
 * The differential corpus in CI (scripts/corpus-diff/): projects of ../shared/corpus/projects that the real
 * `bentoml build` 1.4.40 and `bento build` both build (chosen fast: a few seconds each), compared key by key on the
 * `bentoml get -o json` of both Bentos and their `src/` files. A regression in any compared key fails here; the whole
 * table is `npm run corpus-diff`.
 */
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {corpusDiff, defaultVenv, type ProjectSpec} from '../../scripts/corpus-diff/run.js'
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
/**
 * BentoML's flagship vLLM example: `bentoml.use_arguments` with a pydantic model whose properties build the image,
 * envs and labels, `HuggingFaceModel(args.model_id.lower(), exclude=args.exclude)` (the bounded interpreter). The
 * project pins bentoml==1.4.25: bento writes for that release (its apt-get line has no `--force-confdef`, added in
 * 1.4.29), BentoML 1.4.40 for itself (and its lock refuses the two pins, which the harness notes); nothing else differs.
 */
const PINNED = 'vllm-qwen3-8b'
/** Refused by both: two services in the module and no `service:` attribute (BentoML: "Multiple … instances"). */
const BOTH_REFUSE = ['bml-static-http']
/**
 * The same project with a `service:` for each of its services (the harness's EXTRA_BENTOFILES): `bentoml.Service(
 * "StaticHTTP1", cmd=[...], config={...})`, an SDK service made from a command (1.4.16+), and an @bentoml.service
 * class with `__command__`.
 */
const CHOSEN: ProjectSpec[] = ['StaticHTTP1', 'StaticHTTP2'].map((svc) => ({name: `bml-static-http[service:${svc}]`, dir: join(CORPUS, 'bml-static-http'), service: `service:${svc}`}))
const spec = (name: string): ProjectSpec => ({name, dir: join(CORPUS, name)})

describe.runIf(sharedPresent(CORPUS))('differential corpus: bento build ⇄ the real bentoml build 1.4.40', () => {
  it('builds each project alike, on every compared key; refuses what BentoML refuses', async () => {
    bentoml1440()
    const all = await corpusDiff({projects: [...[...PROJECTS, PINNED, ...BOTH_REFUSE].map(spec), ...CHOSEN], venv: defaultVenv(), jobs: 2})
    const refused = all.filter((r) => BOTH_REFUSE.includes(r.project))
    expect(refused.map((r) => [r.project, r.builtByBentoml, r.builtByBento, r.run.bento.error?.split(' ')[0]])).toEqual(BOTH_REFUSE.map((p) => [p, false, false, 'E_CONFIG']))
    const agreeing = [...PROJECTS, ...CHOSEN.map((c) => c.name)]
    const rows = all.filter((r) => agreeing.includes(r.project))
    const found = rows.map((r) => ({
      project: r.project,
      bentoml: r.run.bentoml.error ?? r.run.bentoml.readError ?? 'built',
      bento: r.run.bento.error ?? r.run.bento.readError ?? 'built',
      differences: r.comparison?.differing ?? null,
    }))
    expect(found).toEqual(agreeing.map((project) => ({project, bentoml: 'built', bento: 'built', differences: []})))
    // The keys that matter were compared, not skipped: both documents had them.
    for (const r of rows) expect(r.comparison?.agreeing).toEqual(expect.arrayContaining(['services', 'models', 'envs', 'labels', 'args', 'entry_service', 'spec', 'schema', 'src']))
    const pinned = all.find((r) => r.project === PINNED)
    expect([pinned?.builtByBentoml, pinned?.builtByBento]).toEqual([true, true])
    expect(pinned?.comparison?.agreeing).toEqual(expect.arrayContaining(['services', 'models', 'envs', 'labels', 'args', 'entry_service', 'spec', 'schema', 'src']))
    expect(pinned?.comparison?.differing.map((d) => d.key)).toEqual(['bentoml_version', 'image'])
    const image = pinned?.comparison?.differing.find((d) => d.key === 'image')?.paths ?? []
    expect(image).toHaveLength(1)
    expect(image[0]).toContain('Dpkg::Options::=--force-confdef')
  }, 120_000)
})
