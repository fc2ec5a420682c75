/**
 * What a generated Dockerfile can hold: environment variable names (and the ones BentoML's image runtime sets
 * itself), values, apt package names, label keys, image references. The one home of these rules: the bentofile
 * check (src/config) reports a problem at the line the user wrote it, and the Dockerfile renderer
 * (src/docker/dockerfile.ts) enforces the same rules, with the same words, on Bentos it did not build, where
 * bento.yaml is the only source. Each check returns a message and hint, or undefined when the value is fine.
 */

export interface RuleProblem {
  message: string
  hint?: string
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
/** Set by the image itself (BentoML's runtime contract): a Bento cannot override them. */
export const RESERVED_ENV: ReadonlySet<string> = new Set(['BENTO_PATH', 'BENTOML_HOME', 'BENTOML_CONTAINERIZED', 'VIRTUAL_ENV', 'PATH'])
const APT_PACKAGE = /^[A-Za-z0-9][A-Za-z0-9+.\-:=~*]*$/
/** A user label `k` becomes the image label `dev.bento.labels.<k>`. */
const LABEL_KEY_SUFFIX = /^[A-Za-z0-9._\-/]*$/
const IMAGE_REF = /^[a-z0-9][a-z0-9._\-/:@]*$/i

const quoted = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 59)}…` : s)

export function envNameProblem(name: string): RuleProblem | undefined {
  if (!ENV_NAME.test(name)) return {message: `${quoted(name)} is not a valid environment variable name`, hint: 'use letters, digits and _, not starting with a digit'}
  if (RESERVED_ENV.has(name)) return {message: `${name} is set by the image and cannot be overridden`, hint: 'choose another name'}
  return undefined
}

export function envValueProblem(name: string, value: string): RuleProblem | undefined {
  if (/[\r\n]/.test(value)) {
    return {message: `the value of ${name} contains a line break, which a Dockerfile cannot express`, hint: 'put the text in a file of the project and pass its path'}
  }
  return undefined
}

export function aptPackageProblem(name: string): RuleProblem | undefined {
  if (APT_PACKAGE.test(name)) return undefined
  return {message: `${quoted(name)} is not an apt package name`, hint: 'one package per item, e.g. "libgomp1" or "curl=7.88.1-10+deb12u5"; put commands in docker.setup_script'}
}

export function labelKeyProblem(key: string): RuleProblem | undefined {
  if (LABEL_KEY_SUFFIX.test(key)) return undefined
  return {message: `${quoted(key)} is not a valid image label key`, hint: 'use letters, digits, ".", "-", "_" and "/"'}
}

/** A full image label key (`org.opencontainers.image.title`, `dev.bento.labels.<k>`): what a Dockerfile LABEL takes unquoted-safe. */
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._\-/]*$/

export function imageLabelKeyProblem(key: string): RuleProblem | undefined {
  if (LABEL_KEY.test(key)) return undefined
  return {message: `${quoted(key)} is not a valid image label key`, hint: 'use letters, digits, ".", "-", "_" and "/"'}
}

export function isImageRef(ref: string): boolean {
  return IMAGE_REF.test(ref)
}

export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name)
}

export function imageRefProblem(ref: string): RuleProblem | undefined {
  if (IMAGE_REF.test(ref)) return undefined
  return {message: `${quoted(ref)} is not an image reference`, hint: 'use e.g. python:3.11-slim or registry.example.com/team/base:1.2'}
}
