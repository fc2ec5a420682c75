/**
 * The README a Bento holds when the project gives none (no `description`, no README.md). One home for both texts.
 */

/**
 * What bento writes for a runner-style (legacy) service without a README: bento's own text, kept as it was (BentoML
 * writes `defaultServiceReadme` with the API table here).
 */
export function legacyDefaultReadme(name = 'BentoML Service'): string {
  return `# ${name}\n\nThis is a Machine Learning Service created with BentoML and built with bento.\n`
}

const README_TAIL = `

## Help

* [📖 Documentation](https://docs.bentoml.com/en/latest/): Learn how to use BentoML.
* [💬 Community](https://l.bentoml.com/join-slack-swagger): Join the BentoML Slack community.
* [🐛 GitHub Issues](https://github.com/bentoml/BentoML/issues): Report bugs and feature requests.
* Tip: you can also [customize this README](https://docs.bentoml.com/en/latest/reference/bentoml/bento-build-options.html#description).
`

/**
 * BentoML's `get_default_svc_readme(svc, version)` at build time: `# <service name>:<--version or dev>`, the badges
 * with the target release, and for legacy services a table of the APIs.
 */
export function defaultServiceReadme(opts: {
  serviceName: string
  version: string | undefined
  bentomlVersion: string
  legacyApis?: Array<{name: string; inputType: string; outputType: string}>
}): string {
  let doc = `# ${opts.serviceName}:${opts.version ?? 'dev'}

[![pypi_status](https://img.shields.io/badge/BentoML-${opts.bentomlVersion}-informational)](https://pypi.org/project/BentoML)
[![documentation_status](https://readthedocs.org/projects/bentoml/badge/?version=latest)](https://docs.bentoml.com/)
[![join_slack](https://badgen.net/badge/Join/BentoML%20Slack/cyan?icon=slack)](https://l.bentoml.com/join-slack-swagger)
[![BentoML GitHub Repo](https://img.shields.io/github/stars/bentoml/bentoml?style=social)](https://github.com/bentoml/BentoML)
[![Twitter Follow](https://img.shields.io/twitter/follow/bentomlai?label=Follow%20BentoML&style=social)](https://twitter.com/bentomlai)

This is a Machine Learning Service created with BentoML.`
  if (opts.legacyApis && opts.legacyApis.length > 0) {
    const rows = opts.legacyApis.map(
      (a) => `| POST [\`/${a.name}\`](#operations-Service_APIs-${opts.serviceName}__${a.name}) | ${a.inputType} | ${a.outputType} |`,
    )
    doc += `\n| InferenceAPI | Input | Output |\n| ------------ | ----- | ------ |\n${rows.join('\n')}\n\n\n`
  }
  return doc + README_TAIL
}
