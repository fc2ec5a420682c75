import {constants as fsc} from 'node:fs'
import {chmod, copyFile, link, lstat, mkdir, readdir, readlink, symlink, writeFile} from 'node:fs/promises'
import {dirname, isAbsolute, join, relative} from 'node:path'

import {formatTag} from '../bentoml/tag.js'
import type {Reporter} from '../reporter.js'
import {vanishedError} from './files.js'
import type {BuildPlan} from './plan.js'

/**
 * Carry out a build plan into `dir` (a fresh temp dir under $BENTOML_HOME/tmp). The caller renames
 * the finished dir into the store, so nothing here is ever visible half-written.
 */
export async function writePlan(plan: BuildPlan, dir: string, reporter: Reporter): Promise<{linked: number; copied: number}> {
  const stats = {linked: 0, copied: 0}
  const ensureDir = dirMaker(dir)

  for (const t of plan.texts) {
    const to = join(dir, t.path)
    await ensureDir(dirname(to))
    await writeFile(to, t.content, {mode: t.mode})
    await chmod(to, t.mode)
  }
  // Spec 1 always has env/python/wheels (BentoML's PythonOptions.write_to_bento makes it); spec 2 does not.
  if (plan.manifest.spec === 1) await ensureDir(join(dir, 'env/python/wheels'))

  // The project's files, COPY_CONCURRENCY at a time (a 50-module project is hundreds of small copies: one after
  // the other, the build waits on each round trip to the file system).
  await eachLimit(plan.copies, COPY_CONCURRENCY, async (c) => {
    const to = join(dir, c.path)
    await ensureDir(dirname(to))
    if (c.symlinkTarget !== undefined) {
      await symlink(c.symlinkTarget, to)
      return
    }
    await copyFile(c.from, to, fsc.COPYFILE_FICLONE).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException | undefined)?.code
      // The source was there when it was selected and hashed (the copy's target dir is ours: made above).
      throw code === 'ENOENT' || code === 'ENOTDIR' ? vanishedError(c.from, c.from, error) : error
    })
    // copyFile gives the copy the source's permission bits (whatever the umask): chmod only when they differ.
    const mode = normalizeMode(c.mode)
    if (c.sourceMode !== true || (c.mode & 0o7777) !== mode) await chmod(to, mode)
    stats.copied++
  })

  for (const m of plan.models) {
    reporter.log(`Bundling model ${formatTag(m)}`)
    await linkTree(m.from, join(dir, m.path), stats, ensureDir)
  }
  return stats
}

/** Mode of every directory a Bento (or an imported model) holds: what BentoML's and bento's archives say, whatever the umask. */
export const BENTO_DIR_MODE = 0o755

/**
 * `ensureDir(d)` for directories under `root`: creates each missing one and sets it to 0755 (`mkdir`'s mode is cut by
 * the umask: under umask 077 the Bento's directories would be 0700, E13). `root` itself exists already.
 */
export function dirMaker(root: string): (d: string) => Promise<void> {
  // One promise per directory: copies running side by side wait for the same mkdir instead of racing it.
  const made = new Map<string, Promise<void>>([[root, Promise.resolve()]])
  const ensureDir = (d: string): Promise<void> => {
    let done = made.get(d)
    if (done === undefined) {
      done = makeDir(d)
      made.set(d, done)
    }
    return done
  }
  const makeDir = async (d: string): Promise<void> => {
    const rel = relative(root, d)
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      // Not below root (not ours to chmod): made as before, modes left alone.
      await mkdir(d, {recursive: true})
      return
    }
    await ensureDir(dirname(d))
    try {
      await mkdir(d)
    } catch (error) {
      if ((error as NodeJS.ErrnoException | undefined)?.code !== 'EEXIST') throw error
      if (!(await lstat(d)).isDirectory()) throw error // never chmod through a symlink
    }
    await chmod(d, BENTO_DIR_MODE)
  }
  return ensureDir
}

/** Files copied into a Bento at once. */
const COPY_CONCURRENCY = 8

/** `fn` over `items`, at most `limit` at a time; the first error rejects (after the running ones settle). */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed: {error: unknown} | undefined
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++] as T
      try {
        await fn(item)
      } catch (error) {
        failed ??= {error}
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  if (failed !== undefined) throw failed.error
}

/** Files keep their executable bit; everything is readable by the serving user. */
function normalizeMode(mode: number): number {
  return mode & 0o111 ? 0o755 : 0o644
}

/**
 * Mirror a directory: hard links where the file system allows them (a model store entry is immutable
 * once saved, so sharing its inodes is safe), copies otherwise (EXDEV, EPERM).
 */
export async function linkTree(
  from: string,
  to: string,
  stats: {linked: number; copied: number},
  ensureDir: (d: string) => Promise<void> = dirMaker(dirname(to)),
): Promise<void> {
  await ensureDir(to)
  const entries = await readdir(from, {withFileTypes: true})
  entries.sort((a, b) => (a.name < b.name ? -1 : 1))
  for (const e of entries) {
    const src = join(from, e.name)
    const dst = join(to, e.name)
    if (e.isDirectory()) {
      await linkTree(src, dst, stats, ensureDir)
    } else if (e.isSymbolicLink()) {
      await symlink(await readlink(src), dst)
    } else if (e.isFile()) {
      try {
        await link(src, dst)
        stats.linked++
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw error
        await copyFile(src, dst, fsc.COPYFILE_FICLONE)
        stats.copied++
      }
    }
  }
}
