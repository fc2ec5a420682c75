import {LOCK_LABEL} from '../lock/label.js'

/** Input for `imageLabels`: what the Bento says about itself (bento.yaml). */
export interface BentoLabelInfo {
  tag: string
  name: string
  version: string
  labels: Record<string, string>
  /** Model tags, `name:version`. */
  models: string[]
  bentomlVersion: string
  description?: string
  creationTime: string | Date
}

const MAX_DESCRIPTION = 256

/** First non-empty, non-heading line of a README/description, capped: labels are metadata, not documents. */
function summary(description: string): string | undefined {
  const line = description
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '' && !/^(#|=+$|-+$)/.test(l))
  if (line === undefined) return undefined
  return line.length > MAX_DESCRIPTION ? `${line.slice(0, MAX_DESCRIPTION - 1)}…` : line
}

/**
 * Labels that make an image describe the Bento it was built from: OCI annotations plus `dev.bento.*`.
 * User labels from bentofile `labels` become `dev.bento.labels.<key>`; the lock's digest that `bento build` put in
 * bento.yaml's labels stays `dev.bento.lock.sha256`. Deterministic for a given Bento.
 */
export function imageLabels(bento: BentoLabelInfo): Record<string, string> {
  const created = bento.creationTime instanceof Date ? bento.creationTime.toISOString() : bento.creationTime
  const out: Record<string, string> = {
    'org.opencontainers.image.title': bento.name,
    'org.opencontainers.image.version': bento.version,
    'org.opencontainers.image.created': created,
    'dev.bento.tag': bento.tag,
    'dev.bento.name': bento.name,
    'dev.bento.version': bento.version,
    'dev.bento.bentoml-version': bento.bentomlVersion,
    'dev.bento.models': [...bento.models].sort().join(','),
  }
  const description = bento.description === undefined ? undefined : summary(bento.description)
  if (description !== undefined) out['org.opencontainers.image.description'] = description
  for (const key of Object.keys(bento.labels).sort()) {
    if (key === LOCK_LABEL) out[LOCK_LABEL] = String(bento.labels[key])
    else out[`dev.bento.labels.${key}`] = String(bento.labels[key])
  }
  return out
}
