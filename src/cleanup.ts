/**
 * What must go if the process has to exit at once (a second Ctrl-C, a signal while a rename is in flight): the
 * temp files and directories an operation is writing. Operations register a path while it exists and forget it
 * once it is renamed into place or removed. The command layer owns one list per process and, on a forced exit,
 * removes what is still registered, synchronously. (Anything a SIGKILL leaves is proven dead and swept by the
 * next run: see store/scratch.ts.)
 */
import {rmSync} from 'node:fs'

export interface Cleanup {
  /** Register `path` for removal on a forced exit; returns the function that forgets it again. */
  add(path: string): () => void
}

export class CleanupList implements Cleanup {
  private readonly paths = new Map<number, string>()
  private next = 0

  add(path: string): () => void {
    const id = this.next++
    this.paths.set(id, path)
    return () => {
      this.paths.delete(id)
    }
  }

  get size(): number {
    return this.paths.size
  }

  /** Remove everything still registered, newest first; never throws. Returns the paths it removed. */
  removeAllSync(): string[] {
    const removed: string[] = []
    for (const id of [...this.paths.keys()].reverse()) {
      const path = this.paths.get(id)
      this.paths.delete(id)
      if (path === undefined) continue
      try {
        rmSync(path, {recursive: true, force: true, maxRetries: 2})
        removed.push(path)
      } catch {
        // best effort: the next run sweeps what is left (it carries a dead owner)
      }
    }
    return removed
  }
}
