/**
 * Every fact about BentoML that `bento` depends on: releases and what each reads and writes, the target-version
 * rule, tag and name rules, bentofile defaults and the image runtime contract. A leaf: it imports nothing from
 * the project but the error types.
 */
export * from './config-facts.js'
export * from './huggingface.js'
export * from './image-rules.js'
export * from './names.js'
export * from './pep440.js'
export * from './readme.js'
export * from './runtime.js'
export * from './tag.js'
export * from './target.js'
export * from './versions.js'
export * from './lock-facts.js'
export * from './serving.js'
