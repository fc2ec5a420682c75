import {formatTag} from '../bentoml/tag.js'
import {baseImageFor, BENTO_GID, BENTO_PATH, BENTO_UID, type ModelSource, renderDockerfile} from '../docker/dockerfile.js'
import {entrypointScript, renderInstallSh} from '../docker/install-script.js'
import {imageLabels} from '../docker/labels.js'
import type {DockerfileInputs} from './dockerfile-inputs.js'
import type {PlanTemplates} from './plan.js'

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

/** From what a Bento says (`dockerfileInputsOf`) to the Dockerfile generator's typed context. */
export function dockerfileContext(
  ctx: DockerfileInputs,
  opts: {buildkit: boolean; wheelhouse: boolean; wheelhouseImage?: string; needsCompilers?: boolean; models?: ModelSource},
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
    ...(ctx.buildSecrets.length > 0 ? {buildSecrets: ctx.buildSecrets.map((e) => e.name)} : {}),
    wheelhouse: opts.wheelhouse,
    ...(opts.wheelhouseImage ? {wheelhouseImage: opts.wheelhouseImage} : {}),
    labels: imageLabels({
      tag: formatTag(ctx.tag),
      name: ctx.tag.name,
      version: ctx.tag.version,
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
    commands: ctx.commands,
    postCommands: ctx.postCommands,
    buildInclude: ctx.buildInclude,
    commandFiles: ctx.commandFiles,
    installScript: ctx.installScript,
    ...(ctx.ensurePkgResources ? {ensurePkgResources: true} : {}),
    ...(ctx.requireHashes ? {requireHashes: true} : {}),
    ...(ctx.bentomlVersion ? {bentomlVersion: ctx.bentomlVersion} : {}),
    models: opts.models ?? {kind: 'context', present: ctx.hasModels},
    codeDirs: ctx.codeDirs,
    codeFiles: ctx.codeFiles,
  }
}
