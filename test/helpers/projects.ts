/** Small projects for CLI tests. */
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

/** An SDK service without models: builds in any store, no BentoML needed. */
export const ECHO_SERVICE =
  'import bentoml\n\n@bentoml.service\nclass Echo:\n    @bentoml.api\n    def echo(self, text: str) -> str:\n        return text\n'

/** `dir` with service.py (ECHO_SERVICE) and a bentofile naming the Bento `name`. Returns `dir`. */
export async function echoProject(dir: string, name: string, bentofileExtra = ''): Promise<string> {
  await mkdir(dir, {recursive: true})
  await writeFile(join(dir, 'service.py'), ECHO_SERVICE)
  await writeFile(join(dir, 'bentofile.yaml'), `service: "service:Echo"\nname: ${name}\n${bentofileExtra}`)
  return dir
}
