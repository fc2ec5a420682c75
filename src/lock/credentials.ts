/**
 * Index credentials at containerize: what the Bento's requirement files need to reach their indexes, taken from the
 * environment of `bento containerize` (never from the Bento, which holds only `${VAR}` names). The containerize
 * service hands each to the image's install step as a BuildKit secret (see dockerfile.ts `indexCredentials`).
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {referencedVariables} from './mask.js'
import type {Env} from './uv.js'

/** The option lines of a requirement file that name an index (`--index-url`, `-i`, `--extra-index-url`, `--find-links`, `-f`). */
export function indexOptionLinesOf(text: string): string[] {
  return text.split('\n').filter((l) => /^\s*(?:--index-url|-i|--extra-index-url|--find-links|-f)(?:\s+|=)\S/.test(l))
}

/** The hosts of the index URLs of those lines (for netrc). */
export function indexHostsOf(lines: readonly string[]): string[] {
  const hosts = new Set<string>()
  for (const l of lines) {
    const url = /(?:\s|=)([a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S+)/.exec(l)?.[1]
    if (url === undefined) continue
    const host = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^/@\s]*@)?(\[[^\]]+\]|[^/:?#\s]+)/.exec(url)?.[1]
    if (host !== undefined) hosts.add(host.toLowerCase())
  }
  return [...hosts]
}

export interface IndexCredentials {
  /** `${VAR}` references of the index URLs, with their values from the environment. */
  variables: Array<{name: string; value: string}>
  /** Referenced but not set in the environment. */
  missing: string[]
  /** A netrc file (`NETRC`, else `~/.netrc`) with a `machine` entry for an index host, if any. */
  netrc: string | null
}

/**
 * The credentials the requirement files `texts` need: the variables their index URLs reference (pip expands them
 * from the environment, as uv did at build) and a netrc that names one of their hosts.
 */
export function indexCredentialsFor(texts: readonly string[], env: Env): IndexCredentials {
  const lines = texts.flatMap((t) => indexOptionLinesOf(t))
  const names = referencedVariables(lines)
  const variables: Array<{name: string; value: string}> = []
  const missing: string[] = []
  for (const name of names) {
    const value = env[name]
    if (value === undefined || value === '') missing.push(name)
    else variables.push({name, value})
  }
  return {variables, missing, netrc: netrcFor(indexHostsOf(lines), env)}
}

function netrcFor(hosts: readonly string[], env: Env): string | null {
  if (hosts.length === 0) return null
  const file = env.NETRC || (env.HOME ? join(env.HOME, '.netrc') : '')
  if (file === '' || !existsSync(file)) return null
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return null
  }
  const words = text.split(/\s+/)
  const machines = new Set(words.flatMap((w, i) => (w === 'machine' && words[i + 1] ? [words[i + 1]!.toLowerCase()] : [])))
  return hosts.some((h) => machines.has(h)) ? file : null
}
