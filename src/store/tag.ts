import {createHash, randomBytes} from 'node:crypto'

import {type FullTag, formatTag, isValidTagPart, splitTag, type Tag, TAG_MAX_LENGTH, TAG_REGEX, TAG_RULE, tagPartProblem} from '../bentoml/tag.js'
import {UserError} from '../errors.js'

export {type FullTag, formatTag, isValidTagPart, splitTag, type Tag, TAG_MAX_LENGTH, TAG_REGEX, tagPartProblem}

/**
 * A malformed tag. A usage error (exit code 2) with the stable code `E_INVALID_TAG`; `UsageError` itself fixes
 * its code to `E_USAGE`, so this is a sibling class rather than a subclass.
 */
export class InvalidTagError extends UserError {
  readonly code = 'E_INVALID_TAG'
}

export interface ParseTagOptions {
  /** Called with `converting 'X' to lowercase: 'x'` when BentoML would log that warning. */
  onWarning?: (message: string) => void
}

function lowerPart(part: string, options: ParseTagOptions): string {
  const lower = part.toLowerCase()
  if (lower !== part) options.onWarning?.(`converting '${part}' to lowercase: '${lower}'`)
  return lower
}

/**
 * Parse `name` or `name:version` as BentoML's `Tag.from_str`: split on the first `:`, lowercase both parts
 * (with a warning), validate both parts. Throws `UsageError` `E_INVALID_TAG`.
 */
export function parseTag(s: string, options: ParseTagOptions = {}): Tag {
  const {name: rawName, version: rawVersion} = splitTag(s)
  if (rawVersion === '') {
    throw new InvalidTagError(`${s} contains trailing ':'. Maybe you meant to use \`${s}latest\`?`, {
      hint: `Use \`${s}latest\` for the newest version, or \`${rawName}:<version>\`.`,
      data: {tag: s},
    })
  }
  const name = lowerPart(rawName, options)
  const version = rawVersion === null ? null : lowerPart(rawVersion, options)
  for (const part of version === null ? [name] : [name, version]) {
    const problem = tagPartProblem(part)
    if (problem !== null) {
      throw new InvalidTagError(`Invalid tag '${s}': ${problem}`, {
        hint: `A tag is \`name\` or \`name:version\`; each part is ${TAG_RULE}.`,
        data: {tag: s},
      })
    }
  }
  return {name, version}
}

/** Parse a tag that must carry a version (`latest` is not resolved here). */
export function parseFullTag(s: string, options: ParseTagOptions = {}): FullTag {
  const tag = parseTag(s, options)
  if (tag.version === null) {
    throw new InvalidTagError(`Tag '${s}' has no version`, {
      hint: `Use \`${tag.name}:<version>\`.`,
      data: {tag: s},
    })
  }
  return {name: tag.name, version: tag.version}
}

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** RFC 4648 base32, lowercase, no padding (for 10 bytes: exactly 16 characters, as `base64.b32encode`). */
export function base32Lower(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
    value &= (1 << bits) - 1
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31]
  return out
}

/**
 * A version in BentoML's format (16 chars of `[a-z2-7]`, like `Tag.make_new_version`), but derived from a
 * content hash: the first 10 bytes of sha256(seed). Same seed → same version.
 */
export function makeVersion(seed: Buffer | Uint8Array): string {
  const digest = createHash('sha256').update(seed).digest()
  return base32Lower(digest.subarray(0, 10))
}

/** Alias used by docs/architecture.md. */
export const newVersion = makeVersion

/** Offset between the UUID epoch (1582-10-15) and the Unix epoch, in 100 ns units. */
const UUID_EPOCH_OFFSET = 0x01b21dd213814000n

/**
 * A random version built like BentoML's: uuid1 bytes [0:6] + [8:12] (time_low, time_mid, clock_seq, first two
 * node bytes), base32, lowercase. Clock sequence and node bytes are random (uuid1 with a random node).
 */
export function randomVersion(now: Date = new Date()): string {
  const sub = BigInt(randomBytes(2).readUInt16BE(0) % 10_000)
  const timestamp = BigInt(now.getTime()) * 10_000n + sub + UUID_EPOCH_OFFSET
  const bytes = Buffer.alloc(10)
  bytes.writeUInt32BE(Number(timestamp & 0xffffffffn), 0)
  bytes.writeUInt16BE(Number((timestamp >> 32n) & 0xffffn), 4)
  const rand = randomBytes(4)
  bytes.writeUInt8(((rand[0] ?? 0) & 0x3f) | 0x80, 6) // clock_seq_hi_and_reserved: RFC 4122 variant
  bytes.writeUInt8(rand[1] ?? 0, 7)
  bytes.writeUInt8(rand[2] ?? 0, 8)
  bytes.writeUInt8(rand[3] ?? 0, 9)
  return base32Lower(bytes)
}

/** A version prefix that matches more than one stored version. Exit code 2, code `E_AMBIGUOUS_TAG`. */
export class AmbiguousTagError extends UserError {
  readonly code = 'E_AMBIGUOUS_TAG'
}
