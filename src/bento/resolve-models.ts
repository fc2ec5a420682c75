import {join} from 'node:path'

import {NotFoundError} from '../errors.js'
import type {Reporter} from '../reporter.js'
import {Store} from '../store/store.js'
import {formatTag, splitTag} from '../store/tag.js'
import {modelDigest} from './model-digest.js'
import type {PlanModel} from './plan.js'

export type ResolvedModel = PlanModel & {size: number}

/** The models a build packs, read from the model store (digests cached per version); a missing one says what the store has. */
export async function resolveModels(
  opts: {home: string; reporter: Reporter},
  configured: Array<{tag: string; alias?: string}> | null,
  fromCode: string[],
  configFile: string,
  sdk: boolean,
  where: (tag: string, configured?: number) => PlanModel['at'],
): Promise<ResolvedModel[]> {
  // Legacy: the bentofile's models replace the service's. SDK: both (top-level models + services[].models).
  const fromConfig = (configured ?? []).map((m, i) => ({...m, at: where(m.tag, i)}))
  const coded = fromCode.map((tag) => ({tag, at: where(tag)}))
  const wanted: Array<{tag: string; alias?: string; at: PlanModel['at']}> = sdk ? [...fromConfig, ...coded] : configured ? fromConfig : coded
  const store = Store.models(opts.home)
  const out: ResolvedModel[] = []
  const seen = new Set<string>()
  for (const w of wanted) {
    let item
    try {
      item = await store.get(w.tag)
    } catch (error) {
      if (error instanceof NotFoundError) {
        const listed = await store.list()
        // Versions of this name exist but none is readable: say which file is broken, not "not found".
        const want = splitTag(w.tag.toLowerCase())
        const wantVersion = want.version ?? 'latest'
        const broken = listed.find(
          (m) => m.error && m.tag.name === want.name && (wantVersion === 'latest' || m.tag.version.startsWith(wantVersion)),
        )
        if (broken?.error) throw broken.error
        const available = listed.filter((m) => !m.error).map((m) => formatTag(m.tag))
        throw new NotFoundError(`Model "${w.tag}" not found in the model store ${join(opts.home, 'models')}`, {
          code: 'E_MODEL_NOT_FOUND',
          hint:
            (configured ? `it is listed under \`models:\` in ${configFile}; ` : `the service code loads it; `) +
            (available.length > 0
              ? `the store has: ${available.slice(0, 20).join(', ')}${available.length > 20 ? ', …' : ''}`
              : 'the model store is empty: save the model first (e.g. bentoml.sklearn.save_model(...)) with the same BENTOML_HOME'),
          data: {tag: w.tag, available},
          cause: error,
        })
      }
      throw error
    }
    const key = formatTag(item.tag)
    if (seen.has(key)) {
      const first = out.find((m) => formatTag(m) === key)
      if (first && w.alias && !first.alias) first.alias = w.alias
      continue
    }
    seen.add(key)
    const info = item.info
    // Read once per model version, ever: later builds find the digest cached under the model's file manifest.
    const {digest, size} = await modelDigest(opts.home, {name: item.tag.name, version: item.tag.version, dir: item.path}, opts.reporter)
    out.push({
      name: item.tag.name,
      version: item.tag.version,
      module: info.module,
      creationTime: info.creation_time,
      dir: item.path,
      digest,
      size,
      bentomlVersion: info.context.bentoml_version ?? null,
      pythonVersion: info.context.python_version ?? null,
      frameworkVersions: info.context.framework_versions ?? {},
      ...(w.alias ? {alias: w.alias} : {}),
      ...(w.at ? {at: w.at} : {}),
    })
  }
  return out
}
