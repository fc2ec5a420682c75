/** A tag as a value: `name`, or `name:version` (BentoML's `Tag`). Written out only by `formatTag`. */
export interface Tag {
  name: string
  version: string | null
}

/** A tag that names one stored item. */
export interface FullTag {
  name: string
  version: string
}

/** `name` or `name:version`, as BentoML's `str(Tag)`: the one place a tag becomes text. */
export function formatTag(tag: Tag): string {
  return tag.version === null ? tag.name : `${tag.name}:${tag.version}`
}

/**
 * `name` or `name:version` split as BentoML's `Tag.from_str` does (at the first `:`), as written: neither
 * lowercased nor checked (`parseTag` in src/store/tag.ts does both). The one place a tag text is taken apart.
 */
export function splitTag(text: string): Tag {
  const colon = text.indexOf(':')
  return colon === -1 ? {name: text, version: null} : {name: text.slice(0, colon), version: text.slice(colon + 1)}
}

/** BentoML's tag rule (`_internal/tag.py`, unchanged since 1.0): both the name and the version of a tag. */
export const TAG_REGEX = /^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$/
export const TAG_MAX_LENGTH = 63

/** The rule in words, for hints and descriptions. */
export const TAG_RULE = `lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most ${TAG_MAX_LENGTH} characters`

/** True when `value` is a valid tag name or version as is (BentoML lowercases first, with a warning). */
export function isValidTagPart(value: string): boolean {
  return value.length <= TAG_MAX_LENGTH && TAG_REGEX.test(value)
}

/**
 * What breaks the rule in `value` (an already lowercased name or version), one clause each, none when it is valid:
 * the wording of the bentofile diagnostics (`'X' is not a valid Bento name: it must …`).
 */
export function tagRuleBreaks(value: string): string[] {
  const breaks: string[] = []
  if (value.length > TAG_MAX_LENGTH) breaks.push(`must be at most ${TAG_MAX_LENGTH} characters (it has ${value.length})`)
  if (!TAG_REGEX.test(value)) {
    breaks.push(`must consist of lowercase alphanumeric characters, '_', '-' or '.', and start and end with an alphanumeric character`)
  }
  return breaks
}

/**
 * Why `value` is not a valid tag name or version (BentoML's `validate_tag_str` wording), or null when it is valid.
 * Expects an already lowercased value, like BentoML. With `{version: true}`, `latest` is refused too: it names the
 * newest version, so no Bento or model may carry it as its own.
 */
export function tagPartProblem(value: string, options: {version?: boolean} = {}): string | null {
  if (options.version === true && value === 'latest') return "'latest' is reserved: it names the newest version, it cannot be one"
  const errors: string[] = []
  if (value.length > TAG_MAX_LENGTH) {
    errors.push(`a tag's name or version must be at most ${TAG_MAX_LENGTH} characters in length`)
  }
  if (!TAG_REGEX.test(value)) {
    errors.push(
      "a tag's name or version must consist of alphanumeric characters, '_', '-', or '.', " +
        'and must start and end with an alphanumeric character',
    )
  }
  return errors.length === 0 ? null : `${value} is not a valid BentoML tag: ${errors.join(', and ')}`
}

/** The version string BentoML generates: 10 bytes of uuid1, base32, lowercased → 16 chars of `[a-z2-7]`. */
export const GENERATED_VERSION_REGEX = /^[a-z2-7]{16}$/
