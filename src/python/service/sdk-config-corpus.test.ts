/**
 * Every real `@bentoml.service` module of the shared corpus (../shared/corpus/bentofiles/*.service.py) through the
 * evaluator: it never throws, reads what is literal, and refuses exactly the modules whose decorator values depend
 * on something only running Python knows — each refusal checked here with its reason.
 */
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {CORPUS_DIR, sharedPresent} from '../../../test/helpers/shared.js'
import {readService} from './service.js'
import {readSdkConfig} from './sdk-config.js'

const hasCorpus = sharedPresent(CORPUS_DIR)

/** Corpus modules bento refuses, and why (each is a value BentoML takes from running code). */
const REFUSED: Record<string, string> = {
  '027': 'the arguments of @bentoml.service(...) cannot be read: **svars.services_config',
  '056': 'it is set under `if GPU_COUNT > 0` (line 13), a condition bento cannot evaluate: the result of torch.cuda.device_count(...) from torch',
  '064': 'image.requirements_file(...) is given a value bento cannot read: the result of pathlib.Path(...) (file I/O)',
  // yaml.safe_load(f) of `open(os.path.join(os.path.dirname(__file__), ...))`: a file's text (bento reads a string only).
  '069': 'the arguments of @bentoml.service(...) cannot be read: the result of os.path.join(...) from os',
}

describe.runIf(hasCorpus)('corpus @bentoml.service modules through the evaluator', () => {
  const files = hasCorpus ? readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.service.py')).sort() : []
  const sdk = files.filter((f) => /@bentoml\.service|bentoml\.service\(/.test(readFileSync(join(CORPUS_DIR, f), 'utf8')))

  it('finds the corpus SDK modules', () => {
    expect(sdk.length).toBeGreaterThanOrEqual(25)
  })

  for (const f of sdk) {
    const id = f.slice(0, 3)
    it(`${id}: ${REFUSED[id] ? 'refused with its reason' : 'read without an error'}`, () => {
      const yml = readFileSync(join(CORPUS_DIR, f.replace(/\.service\.py$/, '')), 'utf8')
      const attr = /^service:\s*["']?[^"':#\n]*:([^"'#\n]*?)["']?\s*(#.*)?$/m.exec(yml)?.[1]?.trim() ?? ''
      const sources = new Map([['service.py', readFileSync(join(CORPUS_DIR, f), 'utf8')]])
      const info = readService({files: sources, service: attr ? `service:${attr}` : 'service'})
      const r = readSdkConfig({
        files: sources,
        module: 'service',
        args: {},
        services: info.services.map((s) => ({file: s.file, line: s.line})),
        cpuCount: 4,
        // An empty environment of the build: os.getenv(..., default) gives the default (073), as in a clean shell.
        environ: {},
        imageFiles: {read: (p) => ({rel: p, text: 'numpy\n'})},
      })
      const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)
      if (REFUSED[id]) expect(errors.join('\n')).toContain(REFUSED[id])
      else expect(errors).toEqual([])
    })
  }
})
