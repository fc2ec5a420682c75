/**
 * Hugging Face models in containerize, against a local stand-in of the hub's HTTP API on 127.0.0.1 (the two
 * endpoints huggingface_hub's snapshot_download uses): the model image holds hf-models/models--org--name in
 * huggingface_hub's cache layout; an unreachable hub is a clear error.
 */
import {createHash} from 'node:crypto'
import {createServer, type Server} from 'node:http'
import {mkdir, readFile, readlink, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {FakeImageClient} from '../../docker/fake-client.js'
import {memoryReporter} from '../../reporter.js'
import {containerize} from '../../services/containerize.js'
import {tempDir} from '../../../test/helpers/env.js'
import {SPEC2_BENTO_YAML} from '../../../test/helpers/store-fixtures.js'
import {resolveHfModel} from './resolve.js'
import {downloadHfModel, filterRepoFiles, hfModelRef} from './download.js'

const COMMIT = 'a'.repeat(40)
const FILES: Record<string, string> = {'config.json': '{"hidden_size": 8}\n', 'model.safetensors': 'weights'.repeat(1000), 'nested/tokenizer.json': '{}\n', 'README.md': '# m\n'}
const sha = (s: string): string => createHash('sha256').update(s).digest('hex')

describe('Hugging Face models', () => {
  let server: Server
  let endpoint: string
  let home: string
  const requests: string[] = []
  const auths: Array<string | undefined> = []

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`)
      auths.push(req.headers.authorization)
      const url = decodeURIComponent(req.url ?? '')
      if (url === `/api/models/org/tiny-bert/revision/${COMMIT}` || url === '/api/models/org/tiny-bert/revision/main') {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({sha: COMMIT, siblings: Object.keys(FILES).map((rfilename) => ({rfilename}))}))
        return
      }
      const m = new RegExp(`^/org/tiny-bert/resolve/${COMMIT}/(.+)$`).exec(url)
      const body = m ? FILES[m[1]!] : undefined
      if (body === undefined) {
        res.statusCode = 404
        res.end()
        return
      }
      // LFS files: X-Linked-Etag is the sha256; others: a git-like ETag.
      if (m![1]!.endsWith('.safetensors')) res.setHeader('x-linked-etag', `"${sha(body)}"`)
      else res.setHeader('etag', `W/"${sha(`git:${body}`).slice(0, 40)}"`)
      res.setHeader('x-repo-commit', COMMIT)
      res.end(req.method === 'HEAD' ? undefined : body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const addr = server.address()
    endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`
    home = await tempDir('bento-hf-')
    // A known home id, so the model images' names (bento-model.invalid/h<home id>/…) can be spelled out.
    await mkdir(join(home, '.bento'), {recursive: true})
    await writeFile(join(home, '.bento/home-id'), '0123456789abcdef\n')
  })
  afterAll(async () => {
    server.close()
    await rm(home, {recursive: true, force: true})
  })

  it('filters like huggingface_hub (fnmatch; "dir/" means "dir/*")', () => {
    const files = ['config.json', 'model.safetensors', 'nested/tokenizer.json', 'README.md', 'onnx/model.onnx']
    expect(filterRepoFiles(files, null, null)).toEqual(files)
    expect(filterRepoFiles(files, ['*.json'], null)).toEqual(['config.json', 'nested/tokenizer.json'])
    expect(filterRepoFiles(files, null, ['onnx/', '*.md'])).toEqual(['config.json', 'model.safetensors', 'nested/tokenizer.json'])
    expect(filterRepoFiles(files, ['[cm]*'], ['*.json'])).toEqual(['model.safetensors'])
  })

  it('downloads into huggingface_hub\'s cache layout: blobs by etag, snapshot symlinks, refs for a branch', async () => {
    const dest = join(home, 'dl')
    const ref = hfModelRef({tag: 'org--tiny-bert:x', name: 'org--tiny-bert', metadata: {model_id: 'org/tiny-bert', revision: 'main', endpoint, include: null, exclude: ['README.md']}})
    const root = await downloadHfModel(ref, dest, {env: {}, reporter: memoryReporter()})
    expect(root).toBe(join(dest, 'models--org--tiny-bert'))
    const weights = join(root, 'snapshots', COMMIT, 'model.safetensors')
    expect(await readlink(weights)).toBe(`../../blobs/${sha(FILES['model.safetensors']!)}`)
    expect(await readFile(weights, 'utf8')).toBe(FILES['model.safetensors'])
    expect(await readlink(join(root, 'snapshots', COMMIT, 'nested/tokenizer.json'))).toMatch(/^\.\.\/\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/)
    expect(await readFile(join(root, 'refs/main'), 'utf8')).toBe(COMMIT)
    await expect(readFile(join(root, 'snapshots', COMMIT, 'README.md'))).rejects.toThrow()
  })

  it('containerize bakes it into its own model image under hf-models/, reused the next time (no fetch)', async () => {
    const bento = join(home, 'bentos/iris/h7xpzohl7ooj6ax4')
    await mkdir(join(bento, 'env/python'), {recursive: true})
    await mkdir(join(bento, 'src'), {recursive: true})
    const yaml = SPEC2_BENTO_YAML.replace(
      "  dependencies: []\n",
      `  - tag: org--tiny-bert:0123456789abcdef0123456789abcdef\n    registry: huggingface\n    metadata:\n      model_id: org/tiny-bert\n      revision: ${COMMIT}\n      endpoint: ${endpoint}\n      include: null\n      exclude: null\n  dependencies: []\n`,
    )
    await writeFile(join(bento, 'bento.yaml'), yaml)
    await writeFile(join(bento, 'env/python/requirements.txt'), 'bentoml==1.4.40\n')
    await writeFile(join(bento, 'src/service.py'), 'import bentoml\n')
    await writeFile(join(home, 'bentos/iris/latest'), 'h7xpzohl7ooj6ax4')
    await mkdir(join(home, 'models/iris_clf/hxv3rsxl7oxj6ax4'), {recursive: true})
    await writeFile(join(home, 'models/iris_clf/hxv3rsxl7oxj6ax4/model.yaml'), 'name: iris_clf\n')

    const client = new FakeImageClient()
    const opts = {home, tag: 'iris:latest', imageTags: ['iris:t'], push: false, client, dockerConfigDir: home, reporter: memoryReporter(), env: {}}
    const r = await containerize(opts)
    expect(r.modelImages.map((m) => [m.model, m.image, m.built])).toEqual([
      ['iris_clf:hxv3rsxl7oxj6ax4', 'bento-model.invalid/h0123456789abcdef/iris_clf:hxv3rsxl7oxj6ax4', true],
      ['org--tiny-bert:0123456789abcdef0123456789abcdef', 'bento-model.invalid/h0123456789abcdef/org--tiny-bert:0123456789abcdef0123456789abcdef', true],
    ])
    const hfImport = client.imports[1]!
    expect(hfImport.tag).toBe('bento-model.invalid/h0123456789abcdef/org--tiny-bert:0123456789abcdef0123456789abcdef')
    expect(hfImport.labels).toMatchObject({'dev.bento.kind': 'model', 'dev.bento.model.registry': 'huggingface'})
    expect(hfImport.files).toContain(`home/bentoml/bento/hf-models/models--org--tiny-bert/snapshots/${COMMIT}/model.safetensors`)
    expect(hfImport.files).toContain(`home/bentoml/bento/hf-models/models--org--tiny-bert/blobs/${sha(FILES['model.safetensors']!)}`)
    const dockerfile = client.builds[0]!.contents['env/docker/Dockerfile']!
    expect(dockerfile).toContain('COPY --from=bento-model.invalid/h0123456789abcdef/org--tiny-bert:0123456789abcdef0123456789abcdef / /')

    const fetched = requests.length
    const again = await containerize(opts)
    expect(again.modelImages[1]).toMatchObject({built: false, contextBytes: 0})
    expect(requests.length).toBe(fetched)
  })

  it('one token rule for build and containerize (huggingface_hub: HF_TOKEN, else HUGGING_FACE_HUB_TOKEN; empty is unset)', async () => {
    const env = {HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: 'hf_legacy'}
    auths.length = 0
    const ref = hfModelRef({tag: 'org--tiny-bert:x', name: 'org--tiny-bert', metadata: {model_id: 'org/tiny-bert', revision: 'main', endpoint, include: ['config.json'], exclude: null}})
    await downloadHfModel(ref, join(home, 'dl-token'), {env, reporter: memoryReporter()})
    const containerizeSent = [...new Set(auths)]
    auths.length = 0
    await resolveHfModel('org/tiny-bert', {revision: 'main', endpoint, include: null, exclude: null}, {env, site: {file: 'service.py'}})
    const buildSent = [...new Set(auths)]
    expect(containerizeSent).toEqual(['Bearer hf_legacy'])
    expect(buildSent).toEqual(containerizeSent)
  })

  it('an unreachable hub is a usage error that says what to do, before anything is built', async () => {
    const ref = hfModelRef({tag: 'org--tiny-bert:x', name: 'org--tiny-bert', metadata: {model_id: 'org/tiny-bert', revision: COMMIT, endpoint: 'http://127.0.0.1:9'}})
    await expect(downloadHfModel(ref, join(home, 'nope'), {env: {}, reporter: memoryReporter()})).rejects.toMatchObject({
      code: 'E_USAGE',
      hint: expect.stringMatching(/HF_ENDPOINT/),
    })
    const missing = hfModelRef({tag: 'org--gone:x', name: 'org--gone', metadata: {model_id: 'org/gone', revision: COMMIT, endpoint}})
    await expect(downloadHfModel(missing, join(home, 'nope2'), {env: {}, reporter: memoryReporter()})).rejects.toMatchObject({code: 'E_MODEL_NOT_FOUND'})
  })
})
