/**
 * Writes schema/bentofile.schema.json from the bentofile field table (src/config/fields.ts).
 * Run: npx tsx scripts/gen-schema.ts   (src/config/schema.test.ts fails when the file is stale)
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {renderBentofileJsonSchema} from '../src/config/index.js'

const target = fileURLToPath(new URL('../schema/bentofile.schema.json', import.meta.url))
mkdirSync(fileURLToPath(new URL('../schema/', import.meta.url)), {recursive: true})
writeFileSync(target, renderBentofileJsonSchema())
console.log(`wrote ${target}`)
