/** The archive formats: what `bento export` writes (by the output's extension), what `bento import` reads (by magic bytes). */
export type ArchiveFormat = 'bento' | 'gz' | 'tar'

export const EXTENSIONS: Record<ArchiveFormat, string> = {bento: '.bento', gz: '.tar.gz', tar: '.tar'}

export function inferFormat(out: string): ArchiveFormat {
  const lower = out.toLowerCase()
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz') || lower.endsWith('.gz')) return 'gz'
  if (lower.endsWith('.tar')) return 'tar'
  return 'bento'
}

export type DetectedFormat = 'xz' | 'gz' | 'tar' | 'zip'

/** By magic bytes: xz `FD 37 7A 58 5A 00`, gzip `1F 8B`, zip `PK\x03\x04`, anything else is tried as tar. */
export function detectArchiveFormat(head: Uint8Array): DetectedFormat {
  const xz = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]
  if (xz.every((byte, i) => head[i] === byte)) return 'xz'
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gz'
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip'
  return 'tar'
}
