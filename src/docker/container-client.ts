/**
 * The narrow interface `bento smoke` uses to run a container: create (no published port, network `none` by default),
 * start, run a probe inside it (`exec`), read its state and last log lines, read a file out of it, remove it.
 * One implementation talks to dockerd (dockerode-container-client.ts).
 */

export interface CreateContainerOptions {
  image: string
  /** `none` (default: no interface but loopback) or a network name such as `bridge`. */
  network: string
  /** `NAME=VALUE` entries added to the image's environment. */
  env?: string[]
  labels: Record<string, string>
  name?: string
}

export interface ContainerState {
  running: boolean
  /** Set once the container has stopped. */
  exitCode?: number
  /** Why the daemon stopped it, e.g. `OOMKilled`. */
  error?: string
  oomKilled?: boolean
}

/** What the container runs as and how the daemon checks it (`Config` of the created container, the image's merged in). */
export interface ContainerConfig {
  user: string
  /** The HEALTHCHECK test, e.g. `["CMD", "/app/.venv/bin/python3", "-c", "…"]`; null when there is none. */
  healthcheck: string[] | null
  env: string[]
}

export interface ExecResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface ContainerClient {
  /** Creates the container (not started); returns its id. Rejects with NotFoundError (`E_IMAGE_NOT_FOUND`) when the image is missing. */
  create(opts: CreateContainerOptions): Promise<string>
  start(id: string): Promise<void>
  state(id: string): Promise<ContainerState>
  config(id: string): Promise<ContainerConfig>
  /** Runs `cmd` in the running container as its user and waits for it (bounded by `timeoutMs`). */
  exec(id: string, cmd: string[], opts: {timeoutMs: number; signal?: AbortSignal}): Promise<ExecResult>
  /** The last `tail` lines of the container's stdout and stderr, in order. */
  logs(id: string, tail: number): Promise<string[]>
  /** One regular file out of the container's file system (created or running), or null when it is not there. */
  readFile(id: string, path: string): Promise<Buffer | null>
  /** Stops and removes the container and its anonymous volumes; a missing container is no error. Ignores Ctrl-C. */
  remove(id: string): Promise<void>
}
