#!/usr/bin/env node
/**
 * The direct path (src/commands/direct.ts: `bento --version`, plain `bento build` lines) as two CommonJS bundles,
 * made from the compiled dist/ by esbuild; run by `npm run build` after tsc:
 *
 *   dist/direct.cjs        src/commands/direct-bundle.ts: the command-line reader, `--version`, the signal handlers
 *                          (≈ 20 KB); what bin/run.js loads for those lines, through V8's code cache
 *                          (src/code-cache.ts); without it bin/run.js runs dist/ as before.
 *   dist/direct-build.cjs  src/commands/direct-build.ts: a build line and everything it loads, npm dependencies
 *                          included (≈ 1 MB); loaded by the first one, through the code cache too, for a build only.
 *
 * One file instead of ≈ 130 ES modules: no module resolution, one read, one compile that can be cached.
 * The two share no module state except the process's `Interrupts` (held under a global symbol, src/interrupt.ts),
 * and errors are made and printed inside the second one (its own error classes: `instanceof` holds).
 *
 * Refused (the build fails): a dynamic import left in a bundle (a vm.Script cannot run one), @oclif/core or
 * dockerode inside one (the direct path must not load them).
 */
import {build} from 'esbuild'
import {cpSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = `${root}dist`

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20', // package.json engines
  // `import.meta.url` of the bundled modules: the bundle's own URL. dist/version.js's `new URL('../', …)` is the
  // package root from dist/*.cjs as from dist/version.js; no other bundled module resolves a path from it.
  define: {'import.meta.url': '__bentoBundleUrl'},
  banner: {js: 'const __bentoBundleUrl = require("node:url").pathToFileURL(__filename).href;'},
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
}

/** In dist/direct.cjs, `import('./direct-build.js')` loads dist/direct-build.cjs through the code cache. */
const splitBuild = {
  name: 'split-direct-build',
  setup(b) {
    b.onResolve({filter: /^\.\/direct-build\.js$/}, (args) => (args.importer.endsWith('/commands/direct.js') ? {path: 'direct-build', namespace: 'bento-split'} : undefined))
    b.onLoad({filter: /.*/, namespace: 'bento-split'}, () => ({
      resolveDir: dist,
      loader: 'js',
      contents: [
        `import {join} from 'node:path'`,
        `import {requireCached} from './code-cache.js'`,
        `const load = () => requireCached(join(__dirname, 'direct-build.cjs'), {variant: 'direct-build'}).exports`,
        `export const runBuildLine = (...args) => load().runBuildLine(...args)`,
      ].join('\n'),
    }))
  },
}

/**
 * The text of a dependency's `file` with the `count` occurrences of `from` replaced by `to`; any other count fails the
 * build (the dependency changed: the patch must be looked at again).
 */
function patchText(file, from, to, count) {
  const parts = readFileSync(file, 'utf8').split(from)
  if (parts.length - 1 !== count) throw new Error(`${file}: expected ${count} × \`${from}\`, found ${parts.length - 1}`)
  return parts.join(to)
}

/**
 * oclif's module loader (`@oclif/core/lib/module-loader.js`) `import()`s an ES module such as our command table; in
 * dist/oclif.cjs that `import()` is answered by `bundledModule` (src/commands/oclif-bundle.ts), and a module the
 * bundle does not hold is a MODULE_NOT_FOUND error as Node's would be. Fails the build if oclif's text changed.
 */
const IMPORT_IN_OCLIF = 'await import((0, node_url_1.pathToFileURL)(filePath).href)'
const oclifModuleLoader = {
  name: 'oclif-module-loader',
  setup(b) {
    b.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]module-loader\.js$/}, (args) => {
      const patched = patchText(args.path, IMPORT_IN_OCLIF, 'await __bentoImport(filePath)', 3)
      const bundled = [
        'const __bentoImport = async (filePath) => {',
        `  const found = require(${JSON.stringify(`${dist}/commands/oclif-bundle.js`)}).bundledModule(filePath)`,
        '  if (found !== undefined) return found',
        "  throw Object.assign(new Error(`Cannot find module '${filePath}' (not in dist/oclif.cjs)`), {code: 'MODULE_NOT_FOUND'})",
        '}',
      ].join('\n')
      return {contents: `${patched}\n${bundled}\n`, loader: 'js'}
    })
  },
}

/**
 * dockerode in dist/oclif.cjs (so V8's code cache covers it: `require('dockerode')` from node_modules cost ≈ 160 ms
 * of CPU per Docker command, most of it compiling), with what only some runs use loaded when first used:
 * - the BuildKit session (`@grpc/grpc-js`, `@grpc/proto-loader`, protobufjs: ≈ 90 ms), opened by a BuildKit build;
 * - `ssh2` (≈ 60 ms, a native addon inside: left out of the bundle), for an `ssh://` DOCKER_HOST only.
 * The session reads its .proto files next to the bundle (`dist/proto/`, copied below). Fails the build if a
 * patched text changed.
 */
const LAZY_DOCKERODE = [
  [/dockerode[\\/]lib[\\/]docker\.js$/, "withSession = require('./session'),", "withSession = function () { return require('./session').apply(this, arguments) },"],
  [/docker-modem[\\/]lib[\\/]modem\.js$/, "ssh = require('./ssh'),", "ssh = function () { return require('./ssh').apply(this, arguments) },"],
]
const lazyDockerode = {
  name: 'lazy-dockerode',
  setup(b) {
    for (const [filter, from, to] of LAZY_DOCKERODE) {
      b.onLoad({filter}, (args) => ({contents: patchText(args.path, from, to, 1), loader: 'js'}))
    }
  },
}

const results = [
  await build({...common, entryPoints: [`${dist}/commands/direct-bundle.js`], outfile: `${dist}/direct.cjs`, plugins: [splitBuild]}),
  await build({...common, entryPoints: [`${dist}/commands/direct-build.js`], outfile: `${dist}/direct-build.cjs`}),
]
const oclif = await build({
  ...common,
  entryPoints: [`${dist}/commands/oclif-bundle.js`],
  outfile: `${dist}/oclif.cjs`,
  plugins: [oclifModuleLoader, lazyDockerode],
  // Loaded with `require` where used, as from dist/: ssh2 (native helpers inside), oclif's TypeScript support.
  external: ['ssh2', 'typescript', 'ts-node'],
  // `import()` of a package left out becomes `require` (a vm.Script cannot run `import()`).
  supported: {'dynamic-import': false},
})

// dockerode's session and BuildKit decoder read `path.resolve(__dirname, 'proto', …)`: __dirname is dist/ in the bundle.
cpSync(`${root}node_modules/dockerode/lib/proto`, `${dist}/proto`, {recursive: true})

const problems = []
for (const result of results) {
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    for (const imp of meta.imports) {
      if (imp.kind === 'dynamic-import') problems.push(`${out}: dynamic import of ${imp.path} left in the bundle`)
    }
  }
  for (const input of Object.keys(result.metafile.inputs)) {
    if (/node_modules\/(@oclif\/core|dockerode)\//.test(input)) problems.push(`${input} is in a direct-path bundle`)
  }
}
for (const [out, meta] of Object.entries(oclif.metafile.outputs)) {
  for (const imp of meta.imports) {
    if (imp.kind === 'dynamic-import') problems.push(`${out}: dynamic import of ${imp.path} left in the bundle`)
  }
}
const small = Object.keys(results[0].metafile.inputs)
if (small.some((i) => i.includes('build-action'))) problems.push('dist/direct.cjs holds the build: it must stay small for --version')
if (problems.length > 0) {
  process.stderr.write(`scripts/bundle.mjs: ${problems.join('\n')}\n`)
  process.exit(1)
}
