import {readFileSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'

import {parse} from 'yaml'

import {formatTag} from '../bentoml/tag.js'
import {type BentoInfo, bentoFromDocument, parseIsoDatetime, readBentoInfo} from './info.js'

/** What `bento list` reads of a Bento: its tag, creation time and the models it uses. */
export type BentoSummary = Pick<BentoInfo, 'name' | 'version' | 'service' | 'bentoml_version' | 'creation_time' | 'creationTime' | 'models' | 'services'>

/**
 * A fast reader for listings: `bento list` needs name, version, creation_time and the model tags of every
 * Bento, not the whole document. bento.yaml as BentoML (PyYAML block style) and bento write it has those as
 * simple top-level lines, so a line scan finds them in a few microseconds. Anything unexpected (flow style,
 * multi-line scalars, anchors, a missing key) falls back to the full YAML reader, so results never differ.
 */
export async function readBentoSummary(dir: string): Promise<BentoSummary> {
  let text: string
  try {
    text = readFileSync(path.join(dir, 'bento.yaml'), 'utf8')
  } catch {
    return readBentoInfo(dir)
  }
  return scanBentoYaml(text) ?? readBentoInfo(dir)
}

/** A tag (`!x`), anchor (`&x`), alias (`*x`) or merge key (`<<:`) where a YAML node starts (not `a && b` inside a value). */
const YAML_NODE_PROPERTY = /(?:^\s*(?:-\s+)?|:\s+|[[{,]\s*)(?:[!&*][^\s,\]}]|<<\s*:)/

const SIMPLE = /^(?:'((?:[^']|'')*)'|"([^"\\]*)"|([^'"\s#&*!|>{[][^#]*?))\s*$/

function scalar(v: string): string | null {
  const m = SIMPLE.exec(v)
  if (!m) return null
  if (m[1] !== undefined) return m[1].replaceAll("''", "'")
  return m[2] ?? m[3] ?? null
}

/** Exported for tests: the summary of a bento.yaml text, or null when the full parser is needed. */
export function scanBentoYaml(text: string): BentoSummary | null {
  const top: Record<string, string> = {}
  const models: Array<Record<string, string>> = []
  let section = ''
  let current: Record<string, string> | null = null
  let keyCol = -1
  // `services:` (spec 2) carries models too; its block is small and nested, so it goes to the YAML parser.
  const servicesLines: string[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    if (line.startsWith('---') || line.startsWith('...')) return null
    // Tags, anchors, aliases and merge keys anywhere: the full reader decides (it refuses what PyYAML refuses).
    if (YAML_NODE_PROPERTY.test(line)) return null
    if (line[0] !== ' ' && line[0] !== '-') {
      const i = line.indexOf(':')
      if (i <= 0) return null
      const key = line.slice(0, i)
      const rest = line.slice(i + 1).trim()
      section = key
      if (rest === '' || rest.startsWith('#')) continue
      if ((key === 'models' || key === 'services') && rest !== '[]') return null
      const v = scalar(rest)
      if (v === null && rest !== '{}' && rest !== '[]') return null
      if (v !== null) top[key] = v
      continue
    }
    if (section === 'services') {
      servicesLines.push(line)
      continue
    }
    if (section !== 'models') continue
    // PyYAML writes `- tag: x` at column 0 (indentless sequences); others indent by two.
    const m = /^(\s*)(- )?(\s*)([A-Za-z_]+):\s*(.*)$/.exec(line)
    if (!m) return null
    const col = (m[1] ?? '').length + (m[2] ? 2 : 0) + (m[3] ?? '').length
    if (m[2]) {
      current = {}
      models.push(current)
      keyCol = col
    }
    // A nested value (Hugging Face `metadata:`) or an odd layout: the full parser reads it.
    if (!current || col !== keyCol) return null
    const v = scalar(m[5] ?? '')
    if (v === null) return null
    current[m[4]!] = v
  }
  const {name, version, creation_time: created} = top
  if (!name || !version || !created) return null
  const date = parseIsoDatetime(created)
  if (date === null) return null
  if (models.some((m) => !m.tag)) return null
  let services: unknown[] = []
  if (servicesLines.length > 0) {
    try {
      const parsed: unknown = parse(`services:\n${servicesLines.join('\n')}\n`, {version: '1.1'})
      services = (parsed as {services?: unknown}).services as unknown[]
    } catch {
      return null
    }
    if (!Array.isArray(services)) return null
  }
  // The typed fields through the reader's own conversion (what is not scanned reads as absent).
  const info = bentoFromDocument({...top, models, services}, {raw: created, date})
  return {
    name: info.name,
    version: info.version,
    service: info.service,
    bentoml_version: info.bentoml_version,
    creation_time: info.creation_time,
    creationTime: info.creationTime,
    models: info.models,
    services: info.services,
  }
}

/**
 * `calc_dir_size` in one synchronous walk, also adding up the sizes under each `models/<name>/<version>/`
 * (so a listing gets Size and Model Size without walking a Bento twice). Symlinks are followed, broken ones skipped.
 */
export function dirSizes(dir: string): {total: number; models: Map<string, number>} {
  const models = new Map<string, number>()
  let total = 0
  const walk = (abs: string, rel: string, depth: number): void => {
    let entries
    try {
      entries = readdirSync(abs, {withFileTypes: true})
    } catch {
      return
    }
    for (const e of entries) {
      const full = path.join(abs, e.name)
      const r = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) {
        walk(full, r, depth + 1)
        continue
      }
      let size = 0
      if (e.isFile()) {
        size = statSync(full, {throwIfNoEntry: false})?.size ?? 0
      } else if (e.isSymbolicLink()) {
        try {
          const st = statSync(full)
          if (st.isFile()) size = st.size
          else if (st.isDirectory()) {
            walk(full, r, depth + 1)
            continue
          }
        } catch {
          size = 0
        }
      }
      total += size
      if (r.startsWith('models/')) {
        const parts = r.split('/')
        if (parts.length > 3) {
          const key = formatTag({name: parts[1]!, version: parts[2]!})
          models.set(key, (models.get(key) ?? 0) + size)
        }
      }
    }
  }
  walk(dir, '', 0)
  return {total, models}
}
