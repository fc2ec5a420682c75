import {baseImageFor, BENTO_GID, BENTO_PATH, BENTO_UID, renderDockerfile} from '../docker/dockerfile.js'
import {entrypointScript, renderInstallSh} from '../docker/install-script.js'
import {imageLabels} from '../docker/labels.js'
import type {DockerfileInputs, PlanTemplates} from './plan.js'

/**
 * The generated files of a Bento (Dockerfile, install.sh, entrypoint.sh) come from the shipped templates.
 * Reads the template files once; the returned functions are pure.
 */
export function bentoTemplates(opts: {userDockerfileTemplate?: {content: string; file: string}}): Omit<PlanTemplates, 'openapi'> {
  return {
    entrypoint: entrypointScript(),
    renderInstallSh: (o) => renderInstallSh(o),
    renderDockerfile: (ctx) => renderDockerfile(dockerfileContext(ctx, {buildkit: true, wheelhouse: false}), opts.userDockerfileTemplate),
  }
}

/** From what a Bento says (bento.yaml) to the Dockerfile generator's typed context. */
export function dockerfileContext(
  ctx: DockerfileInputs,
  opts: {buildkit: boolean; wheelhouse: boolean; needsCompilers?: boolean},
): Parameters<typeof renderDockerfile>[0] {
  return {
    baseImage: baseImageFor({pythonVersion: ctx.pythonVersion, baseImage: ctx.baseImage, cudaVersion: ctx.cudaVersion}),
    pythonVersion: ctx.pythonVersion,
    distro: 'debian',
    systemPackages: ctx.systemPackages,
    needsCompilers: opts.needsCompilers ?? false,
    env: ctx.env,
    setupScript: ctx.setupScript,
    buildkit: opts.buildkit,
    wheelhouse: opts.wheelhouse,
    labels: imageLabels({
      tag: ctx.tag,
      name: ctx.tag.split(':')[0]!,
      version: ctx.tag.split(':')[1]!,
      labels: ctx.userLabels,
      models: ctx.models,
      bentomlVersion: ctx.bentomlVersion,
      description: ctx.description ?? undefined,
      creationTime: ctx.creationTime,
    }),
    bentoPath: BENTO_PATH,
    uid: BENTO_UID,
    gid: BENTO_GID,
    ...(ctx.cudaVersion ? {cudaVersion: ctx.cudaVersion} : {}),
  }
}
