#!/usr/bin/env node
// Signals are handled from the first moment (before oclif loads): see src/interrupt.ts.
import {processInterrupts} from '../dist/interrupt.js'

processInterrupts()
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
