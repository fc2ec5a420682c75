/**
 * Mutations of YAML text for the fuzz tests (test/unit/fuzz.test.ts, test/e2e/import-readable.test.ts): nasty
 * fragments (aliases, tags, merge keys, odd scalars), wrong shapes, line and byte damage, alias bombs.
 */
import fc from 'fast-check'
import {stringify} from 'yaml'


/** Fragments that broke YAML readers: aliases, tags, merge keys, odd scalars, flow garbage, control bytes. */
export const NASTY = [
  '*nope',
  '&a [*a]',
  '!!python/object/apply:os.system ["true"]',
  '!!python/name:os.system',
  '!secret x',
  '{<<: 1}',
  '{<<: [1, 2]}',
  '<<: *nope',
  '[',
  '{',
  '"unterminated',
  "'also",
  '~',
  'null',
  '0x10',
  '0o17',
  '1e999',
  '.inf',
  '-.nan',
  '2025-13-45',
  '2025-05-30T25:61:00',
  '!!binary ===',
  '!!timestamp yesterday',
  '!!int x',
  '!!float y',
  '!!set {a, b}',
  '!!omap [a: 1]',
  '? [complex, key]\n  : value',
  '- item',
  '|\n  literal\n  block',
  '>-\n  folded',
  'yes',
  'no',
  'on',
  '1:20',
  '3.10',
  '"\\x00\\u0007"',
  '\u0000',
  '\uFEFF',
  '\t',
  '\r\n',
  '---\nsecond: doc',
  '...',
  '%YAML 1.2',
  'a'.repeat(5000),
  '[' + '['.repeat(200) + ']'.repeat(200) + ']',
  '{a: {b: {c: {d: {e: {f: [1, 2, {g: h}]}}}}}}',
  '中文: 値',
  '@reserved',
  '`backtick',
  '%percent',
  'key: value: another',
  '[*a, &a 1]',
]

export const KEYS = [
  'service',
  'name',
  'description',
  'labels',
  'include',
  'exclude',
  'models',
  'docker',
  'python',
  'conda',
  'envs',
  'args',
  'version',
  'creation_time',
  'bentoml_version',
  'module',
  'context',
  'signatures',
  'options',
  'metadata',
  'api_version',
  'runners',
  'apis',
  'spec',
  'schema',
  'services',
  'image',
  'x-unknown',
]

export type Mutation = (text: string) => string

const lineOf = (text: string, at: number): {lines: string[]; i: number} => {
  const lines = text.split('\n')
  return {lines, i: Math.floor(at * lines.length) % Math.max(1, lines.length)}
}

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A value replaced by a nasty fragment (keeping the key).
  fc.tuple(fc.double({min: 0, max: 1, noNaN: true}), fc.constantFrom(...NASTY)).map(([at, frag]): Mutation => (t) => {
    const {lines, i} = lineOf(t, at)
    const line = lines[i] ?? ''
    const colon = line.indexOf(':')
    lines[i] = colon >= 0 ? `${line.slice(0, colon + 1)} ${frag}` : `${line.replace(/\S.*$/, '')}- ${frag}`
    return lines.join('\n')
  }),
  // A new top-level key with a nasty or random value.
  fc.tuple(fc.constantFrom(...KEYS), fc.oneof(fc.constantFrom(...NASTY), fc.jsonValue({maxDepth: 3}).map((v) => JSON.stringify(v)))).map(
    ([key, value]): Mutation => (t) => `${t}\n${key}: ${value}\n`,
  ),
  // A whole key replaced by a random structure (typed wrongly, as often as not).
  fc.tuple(fc.constantFrom(...KEYS), fc.anything({maxDepth: 3, withNullPrototype: false, withBigInt: false, withDate: true, withTypedArray: false, withMap: false, withSet: false, withSparseArray: false, withObjectString: false, withBoxedValues: false})).map(
    ([key, value]): Mutation => (t) => {
      let dumped: string
      try {
        dumped = stringify({[key]: value}, {lineWidth: 0})
      } catch {
        dumped = `${key}: null\n`
      }
      return `${t.replace(new RegExp(`^${key}:.*(\\n[ -].*)*`, 'm'), '')}\n${dumped}`
    },
  ),
  // Line-level damage: delete, duplicate, swap, re-indent.
  fc.tuple(fc.double({min: 0, max: 1, noNaN: true}), fc.double({min: 0, max: 1, noNaN: true}), fc.constantFrom('delete', 'duplicate', 'swap', 'indent', 'dedent')).map(
    ([a, b, op]): Mutation => (t) => {
      const {lines, i} = lineOf(t, a)
      const j = lineOf(t, b).i
      const line = lines[i] ?? ''
      if (op === 'delete') lines.splice(i, 1)
      else if (op === 'duplicate') lines.splice(i, 0, line)
      else if (op === 'swap') [lines[i], lines[j]] = [lines[j] ?? '', line]
      else if (op === 'indent') lines[i] = `   ${line}`
      else lines[i] = line.trimStart()
      return lines.join('\n')
    },
  ),
  // Byte-level damage: random bytes inserted, the file cut short.
  fc.tuple(fc.double({min: 0, max: 1, noNaN: true}), fc.uint8Array({minLength: 1, maxLength: 16})).map(([at, bytes]): Mutation => (t) => {
    const i = Math.floor(at * t.length)
    return t.slice(0, i) + Buffer.from(bytes).toString('latin1') + t.slice(i)
  }),
  fc.double({min: 0, max: 1, noNaN: true}).map((at): Mutation => (t) => t.slice(0, Math.floor(at * t.length))),
  // An anchor on one value, aliases to it elsewhere (valid YAML, often the wrong shape), or an alias bomb.
  fc.tuple(fc.double({min: 0, max: 1, noNaN: true}), fc.constantFrom(...KEYS)).map(([at, key]): Mutation => (t) => {
    const {lines, i} = lineOf(t, at)
    const line = lines[i] ?? ''
    const colon = line.indexOf(':')
    if (colon >= 0 && line.slice(colon + 1).trim() !== '') lines[i] = `${line.slice(0, colon + 1)} &anc ${line.slice(colon + 1).trim()}`
    return `${lines.join('\n')}\n${key}: *anc\n`
  }),
  fc.constant<Mutation>((t) => `${t}\nb0: &b0 [x, x, x, x, x, x, x, x]\nb1: &b1 [${'*b0, '.repeat(40)}*b0]\nb2: &b2 [${'*b1, '.repeat(40)}*b1]\nb3: [${'*b2, '.repeat(40)}*b2]\n`),
)

export const mutations = fc.array(mutation, {minLength: 1, maxLength: 4})
export const apply = (text: string, ms: Mutation[]): string => ms.reduce((t, m) => m(t), text)

