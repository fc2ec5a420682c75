import Build from './build.js'
import Containerize from './containerize.js'
import Delete from './delete.js'
import Export from './export.js'
import Get from './get.js'
import Import from './import.js'
import K8s from './k8s.js'
import List from './list.js'
import Lock from './lock.js'
import ModelsGet from './models/get.js'
import ModelsList from './models/list.js'
import Prune from './prune.js'
import Push from './push.js'
import Smoke from './smoke.js'

/** Explicit command discovery: no glob at start-up, so `bento list` starts fast. */
export const COMMANDS = {
  build: Build,
  containerize: Containerize,
  list: List,
  get: Get,
  delete: Delete,
  export: Export,
  import: Import,
  'models:list': ModelsList,
  'models:get': ModelsGet,
  prune: Prune,
  lock: Lock,
  smoke: Smoke,
  k8s: K8s,
  push: Push,
}
