/**
 * The entry of `dist/direct.cjs` (scripts/bundle.mjs): what bin/run.js takes from the bundle of the direct path
 * (`bento --version`, plain `bento build` lines), one CommonJS file that V8's code cache covers (src/code-cache.ts).
 */
export {processInterrupts} from '../interrupt.js'
export {runDirect} from './direct.js'
