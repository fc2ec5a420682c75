#!/usr/bin/env node
// Signals are handled from the first moment (see src/interrupt.ts). Until that module is loaded (a loaded machine
// can take a while), a signal is only noted here, so the default action (death without a word) never applies;
// once it is loaded it handles the noted signal as one that came before the command started.
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP']
const early = []
const note = (sig) => void early.push(sig)
for (const sig of SIGNALS) process.on(sig, note)
// `bento --version` and plain `bento build` lines run without oclif (src/commands/direct.ts); the rest with it.
// Each path comes from one bundle (scripts/bundle.mjs) loaded through V8's code cache (src/code-cache.ts;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off): dist/direct.cjs for the direct lines, dist/oclif.cjs (oclif and our
// commands) for the rest; without the bundles, from dist/ as ES modules.
const first = process.argv[2]
const directLine = first === '--version' || first === 'build'
const bundleOf = (name) => {
  const file = fileURLToPath(new URL(`../dist/${name}`, import.meta.url))
  return existsSync(file) ? file : undefined
}
const directBundle = directLine ? bundleOf('direct.cjs') : undefined
const oclifBundle = bundleOf('oclif.cjs')
let entry
if (directBundle !== undefined || (!directLine && oclifBundle !== undefined)) {
  const {requireCached} = await import('../dist/code-cache.js')
  entry = requireCached(directBundle ?? oclifBundle, {variant: directBundle === undefined ? 'oclif' : first}).exports
} else {
  const [{processInterrupts}, runDirect] = await Promise.all([
    import('../dist/interrupt.js'),
    directLine ? import('../dist/commands/direct.js').then((m) => m.runDirect) : async () => false,
  ])
  entry = {processInterrupts, runDirect}
}
const interrupts = entry.processInterrupts()
for (const sig of SIGNALS) process.off(sig, note)
if (early.length > 0) interrupts.onSignal(early[0])
if (!(await entry.runDirect(process.argv.slice(2)))) {
  if (entry.runOclif !== undefined) {
    await entry.runOclif(import.meta.url)
  } else if (oclifBundle !== undefined) {
    // A direct line that needs oclif after all (`build --help`, a usage error).
    const {requireCached} = await import('../dist/code-cache.js')
    await requireCached(oclifBundle, {variant: 'oclif'}).exports.runOclif(import.meta.url)
  } else {
    const {runOclif} = await import('../dist/commands/oclif-bundle.js')
    await runOclif(import.meta.url)
  }
}
