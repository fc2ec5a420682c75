/** The bento.yaml label (and so the image label) holding the sha256 of the Bento's lock file. */
export const LOCK_LABEL = 'dev.bento.lock.sha256'
