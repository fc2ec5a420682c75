import {readFileSync} from 'node:fs'

import {UsageError} from '../errors.js'
import {templatePath} from './dockerfile.js'
import {renderTemplate} from './template.js'

export interface InstallScriptOptions {
  /** Installed when the environment has no bentoml yet (`BENTOML_VERSION` overrides it at build time). */
  bentomlVersion: string
  /** Extra pip arguments (index URLs, trusted hosts, find-links, `python.pip_args` split on whitespace). */
  pipArgs: string[]
}

const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+!-]*$/

/**
 * The `env/python/install.sh` a Bento carries (BentoML's behaviour plus offline wheelhouse support).
 * Pure apart from reading the shipped `templates/install.sh` (pass `template` to avoid even that).
 * Every pip argument is shell-quoted.
 */
export function renderInstallSh(
  opts: InstallScriptOptions,
  template: string = readFileSync(templatePath('install.sh'), 'utf8'),
): string {
  if (!VERSION.test(opts.bentomlVersion)) {
    throw new UsageError(`"${opts.bentomlVersion}" is not a bentoml version`, {hint: 'pass a PEP 440 version such as 1.4.15'})
  }
  return renderTemplate(template, {bentomlVersion: opts.bentomlVersion, pipArgs: opts.pipArgs})
}

/** The container entrypoint script (`env/docker/entrypoint.sh`), verbatim. */
export function entrypointScript(): string {
  return readFileSync(templatePath('entrypoint.sh'), 'utf8')
}

/** Default `.dockerignore` patterns for a Bento build context (`templates/dockerignore`). */
export function defaultDockerignore(): string[] {
  return parseDockerignore(readFileSync(templatePath('dockerignore'), 'utf8'))
}

/** `.dockerignore` text → patterns (comments and blank lines dropped). */
export function parseDockerignore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}
