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
// The direct path comes from one bundle, dist/direct.cjs (scripts/bundle.mjs), loaded through V8's code cache
// (src/code-cache.ts; NODE_DISABLE_COMPILE_CACHE=1 turns it off); without the bundle, from dist/ as ES modules.
const first = process.argv[2]
const directLine = first === '--version' || first === 'build'
const bundle = fileURLToPath(new URL('../dist/direct.cjs', import.meta.url))
let direct
if (directLine && existsSync(bundle)) {
  const {requireCached} = await import('../dist/code-cache.js')
  direct = requireCached(bundle, {variant: first}).exports
} else {
  const [{processInterrupts}, runDirect] = await Promise.all([
    import('../dist/interrupt.js'),
    directLine ? import('../dist/commands/direct.js').then((m) => m.runDirect) : async () => false,
  ])
  direct = {processInterrupts, runDirect}
}
const interrupts = direct.processInterrupts()
for (const sig of SIGNALS) process.off(sig, note)
if (early.length > 0) interrupts.onSignal(early[0])
if (!(await direct.runDirect(process.argv.slice(2)))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
