/** What the archive code throws: typed `ArchiveError`s, an interrupt, a missing `xz`. */
import {ArchiveError, InterruptedError} from '../../errors.js'

export function archiveError(
  code: 'E_ARCHIVE_UNSAFE' | 'E_ARCHIVE_INVALID' | 'E_ARCHIVE_TOO_LARGE' | 'E_ARCHIVE',
  message: string,
  extra: {hint?: string; cause?: unknown; data?: Record<string, unknown>} = {}): ArchiveError {
  return new ArchiveError(message, {code, ...extra})
}

export function interrupted(): InterruptedError {
  return new InterruptedError('Interrupted; nothing was written.')
}

export function xzMissing(cause: unknown): ArchiveError {
  return archiveError('E_ARCHIVE', 'The `xz` program is needed for .bento archives but was not found', {
    cause,
    hint: 'Install xz-utils (e.g. `apt-get install xz-utils`), or use a .tar.gz / .tar output.',
  })
}

export const UNSAFE_HINT =
  'The archive was not imported and nothing was written. Import only archives made by `bento export` or `bentoml export`.'
