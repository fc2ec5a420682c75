#!/usr/bin/env node
/**
 * `dist/direct.cjs`: the direct path (src/commands/direct-bundle.ts → direct.ts → the build service and everything it
 * loads, with its npm dependencies) as one CommonJS file, made from the compiled dist/ by esbuild. bin/run.js loads it
 * through V8's code cache (src/code-cache.ts) and falls back to dist/ when it is missing. Run by `npm run build`
 * after tsc. One file instead of ≈ 130 ES modules: no module resolution, one read, one compile that can be cached.
 *
 * Refused (the build fails): a dynamic import left in the bundle (a vm.Script cannot run one) and @oclif/core or
 * dockerode inside it (the direct path must not load them).
 */
import {build} from 'esbuild'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const outfile = `${root}dist/direct.cjs`

const result = await build({
  entryPoints: [`${root}dist/commands/direct-bundle.js`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20', // package.json engines
  // `import.meta.url` of the bundled modules: the bundle's own URL. dist/version.js's `new URL('../', …)` is the
  // package root from dist/direct.cjs as from dist/version.js; no other module resolves a path from it.
  define: {'import.meta.url': '__bentoBundleUrl'},
  banner: {js: 'const __bentoBundleUrl = require("node:url").pathToFileURL(__filename).href;'},
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
})

const problems = []
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  for (const imp of meta.imports) {
    if (imp.kind === 'dynamic-import') problems.push(`${out}: dynamic import of ${imp.path} left in the bundle`)
  }
}
for (const input of Object.keys(result.metafile.inputs)) {
  if (/node_modules\/(@oclif\/core|dockerode)\//.test(input)) problems.push(`${input} is in the direct-path bundle`)
}
if (problems.length > 0) {
  process.stderr.write(`scripts/bundle.mjs: ${problems.join('\n')}\n`)
  process.exit(1)
}
