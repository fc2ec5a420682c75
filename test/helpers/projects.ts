/** Small projects for CLI tests. */
import {writeTree} from './files.js'

/** An SDK service without models: builds in any store, no BentoML needed. */
export const ECHO_SERVICE =
  'import bentoml\n\n@bentoml.service\nclass Echo:\n    @bentoml.api\n    def echo(self, text: str) -> str:\n        return text\n'

/** `dir` with service.py (ECHO_SERVICE) and a bentofile naming the Bento `name`. Returns `dir`. */
export async function echoProject(dir: string, name: string, bentofileExtra = ''): Promise<string> {
  return writeTree(dir, {'service.py': ECHO_SERVICE, 'bentofile.yaml': `service: "service:Echo"\nname: ${name}\n${bentofileExtra}`})
}

/** A runner-style (`bentoml.Service`) service without models: BentoML 1.4.x builds it as a spec-1 Bento with `docker:`. */
export const LEGACY_ECHO_SERVICE =
  'import bentoml\nfrom bentoml.io import Text\n\nsvc = bentoml.Service("echo")\n\n\n@svc.api(input=Text(), output=Text())\ndef echo(text: str) -> str:\n    return text\n'

/** Like `echoProject`, with LEGACY_ECHO_SERVICE (`service: "service:svc"`). */
export async function legacyEchoProject(dir: string, name: string, bentofileExtra = ''): Promise<string> {
  return writeTree(dir, {'service.py': LEGACY_ECHO_SERVICE, 'bentofile.yaml': `service: "service:svc"\nname: ${name}\n${bentofileExtra}`})
}

/** `@bentoml.service class Locked` with one API and no models (the lock tests); `image`, a line defining `image`, is passed to it. */
export function lockedService(image = ''): string {
  return `import bentoml
${image}

@bentoml.service${image === '' ? '' : '(image=image)'}
class Locked:
    @bentoml.api
    def hi(self) -> str:
        return "hi"
`
}
