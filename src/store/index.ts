export {bentomlHome, ensureHome, type EnsureHomeOptions, expandEnvVar, expandUser, expandVars, HOME_SUBDIRS} from './home.js'
export {dirSize, humanSize, isDirectory, pathExists, writeFileAtomic} from './fs-utils.js'
export {
  type BentoInfo,
  type BentoModelRef,
  type ModelContext,
  type ModelInfo,
  type ModelSignature,
  parseIsoDatetime,
  readBentoInfo,
  readModelInfo,
} from './info.js'
export {acquireLock, type Lock, type LockOptions, pidAlive, withLock} from './lock.js'
export {
  type BentoStore,
  type BrokenStoreItem,
  type InstallOptions,
  installFromTemp,
  type ListedItem,
  type ListOptions,
  makeTempDir,
  type ModelStore,
  Store,
  type StoreItem,
  type StoreKind,
} from './store.js'
export {
  AmbiguousTagError,
  base32Lower,
  formatTag,
  type FullTag,
  InvalidTagError,
  isValidTagPart,
  makeVersion,
  newVersion,
  parseFullTag,
  type ParseTagOptions,
  parseTag,
  randomVersion,
  type Tag,
  TAG_MAX_LENGTH,
  TAG_REGEX,
  tagPartProblem,
} from './tag.js'
