/** BentoML's tag rule (`_internal/tag.py`, unchanged since 1.0): both the name and the version of a tag. */
export const TAG_REGEX = /^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$/
export const TAG_MAX_LENGTH = 63

/** True when `value` is a valid tag name or version as is (BentoML lowercases first, with a warning). */
export function isValidTagPart(value: string): boolean {
  return value.length <= TAG_MAX_LENGTH && TAG_REGEX.test(value)
}

/** The version string BentoML generates: 10 bytes of uuid1, base32, lowercased → 16 chars of `[a-z2-7]`. */
export const GENERATED_VERSION_REGEX = /^[a-z2-7]{16}$/
