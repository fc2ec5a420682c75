#!/usr/bin/env node
// Node ≥ 22.1 keeps the compiled code of our modules on disk (in the OS temp directory): later starts skip compiling.
import module from 'node:module'
module.enableCompileCache?.()
// Signals are handled from the first moment (see src/interrupt.ts). Until that module is loaded (a loaded machine
// can take a while), a signal is only noted here, so the default action (death without a word) never applies;
// once it is loaded it handles the noted signal as one that came before the command started.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP']
const early = []
const note = (sig) => void early.push(sig)
for (const sig of SIGNALS) process.on(sig, note)
const {processInterrupts} = await import('../dist/interrupt.js')
const interrupts = processInterrupts()
for (const sig of SIGNALS) process.off(sig, note)
if (early.length > 0) interrupts.onSignal(early[0])
// `bento --version` and plain `bento build` lines run without oclif (src/commands/direct.ts); the rest with it.
const {runDirect} = await import('../dist/commands/direct.js')
if (!(await runDirect(process.argv.slice(2)))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
