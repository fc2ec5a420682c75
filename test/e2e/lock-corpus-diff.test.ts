/**
 * The lock differential (scripts/lock-diff/): on corpus projects BentoML can lock offline, the package set the real
 * `bentoml build` 1.4.40 locks equals the set `bento build` locks, both with the same uv against the same local
 * index over the corpus lock wheelhouse (scripts/provision/corpus-lock-wheelhouse.sh). langgraph-anthropic locks
 * langgraph + langchain-anthropic + langchain-community + duckduckgo-search + bentoml (107 packages); the other two
 * bentoml alone, one of them a spec-1 legacy service (its lock is requirements.lock.txt).
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {defaultVenv} from '../../scripts/corpus-diff/run.js'
import {defaultLockWheelhouse, LOCK_PROJECTS, lockDiff} from '../../scripts/lock-diff/run.js'
import {bentoml1440} from '../helpers/env.js'
import {SHARED, sharedPresent} from '../helpers/shared.js'

const CORPUS = join(SHARED, 'corpus', 'projects')

describe.runIf(sharedPresent(CORPUS))('lock differential: bento build ⇄ the real bentoml build 1.4.40, same local index', () => {
  it('locks the same package set for each project', async () => {
    bentoml1440()
    const wheelhouse = defaultLockWheelhouse()
    if (!existsSync(wheelhouse)) throw new Error(`no corpus lock wheelhouse at ${wheelhouse}: run scripts/provision/corpus-lock-wheelhouse.sh (CI does)`)
    const projects = Object.keys(LOCK_PROJECTS)
    const rows = await lockDiff({corpus: CORPUS, projects, venv: defaultVenv(), wheelhouse, jobs: 2})
    expect(rows.map((r) => ({project: r.project, errors: r.errors, onlyBentoml: r.onlyBentoml, onlyBento: r.onlyBento}))).toEqual(
      projects.map((project) => ({project, errors: {}, onlyBentoml: [], onlyBento: []})),
    )
    const sizes = Object.fromEntries(rows.map((r) => [r.project, r.bento?.length]))
    // Locked closures, not the requirement lines as written.
    expect(sizes['langgraph-anthropic']).toBeGreaterThan(90)
    expect(sizes['bml-service-in-module']).toBeGreaterThan(50)
    expect(rows.find((r) => r.project === 'langgraph-anthropic')?.bento).toEqual(expect.arrayContaining([expect.stringMatching(/^langgraph==/), 'bentoml==1.4.40']))
  }, 60_000)
})
