import {readFileSync} from 'node:fs'

/** Root of the installed package (holds package.json, templates/, schema/). */
export const PACKAGE_ROOT = new URL('../', import.meta.url)

export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as {version: string}
).version
