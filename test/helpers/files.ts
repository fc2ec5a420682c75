/** Files and directories for tests, from object literals. */
import {chmod, mkdir, readdir, rm, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {afterEach, beforeEach} from 'vitest'

import {tempDir} from './env.js'

export interface SymlinkSpec {
  symlink: string
}
export interface FileSpec {
  content: string | Uint8Array
  mode: number
}
export type TreeNode = string | Uint8Array | SymlinkSpec | FileSpec | Tree
export interface Tree {
  [name: string]: TreeNode
}

function isSymlink(node: TreeNode): node is SymlinkSpec {
  return typeof node === 'object' && !(node instanceof Uint8Array) && typeof (node as Partial<SymlinkSpec>).symlink === 'string'
}

function isFileSpec(node: TreeNode): node is FileSpec {
  return typeof node === 'object' && !(node instanceof Uint8Array) && 'content' in node && 'mode' in node
}

/** Create the files, directories and symlinks of `tree` under `root` (keys may be paths: `src/pkg/a.py`). Returns `root`. */
export async function writeTree(root: string, tree: Tree): Promise<string> {
  await mkdir(root, {recursive: true})
  for (const [name, node] of Object.entries(tree)) {
    const target = path.join(root, name)
    await mkdir(path.dirname(target), {recursive: true})
    if (typeof node === 'string' || node instanceof Uint8Array) {
      await writeFile(target, node)
    } else if (isSymlink(node)) {
      await symlink(node.symlink, target)
    } else if (isFileSpec(node)) {
      await writeFile(target, node.content)
      await chmod(target, node.mode)
    } else {
      await writeTree(target, node as Tree)
    }
  }
  return root
}

/** Every path under `dir` that is not a directory (files, links), relative to it, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, {withFileTypes: true, recursive: true})) {
    if (!e.isDirectory()) out.push(path.relative(dir, path.join(e.parentPath, e.name)))
  }
  return out.sort()
}

/**
 * A fresh temp directory for each test of the file, removed after it: call at the top level (or in a describe), read
 * `.dir` inside the tests.
 */
export function dirEachTest(prefix = 'bento-test-'): {readonly dir: string} {
  let dir: string | undefined
  beforeEach(async () => {
    dir = await tempDir(prefix)
  })
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, {recursive: true, force: true})
    dir = undefined
  })
  return {
    get dir(): string {
      if (dir === undefined) throw new Error('dirEachTest: .dir is only there inside a test')
      return dir
    },
  }
}
