/**
 * huggingface_hub's rules as its source states them (constants.py, utils/_auth.py): the token, offline mode, the
 * cache directory.
 */
import {describe, expect, it} from 'vitest'

import {hfCacheRefPath, hfHubCache, hfOffline, hfToken, isHfCommit} from './huggingface.js'

describe('huggingface_hub rules', () => {
  it('token: HF_TOKEN, else HUGGING_FACE_HUB_TOKEN (an empty HF_TOKEN falls through), cleaned, empty is none', () => {
    expect(hfToken({})).toBeNull()
    expect(hfToken({HF_TOKEN: 'a', HUGGING_FACE_HUB_TOKEN: 'b'})).toBe('a')
    expect(hfToken({HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: 'b'})).toBe('b')
    expect(hfToken({HUGGING_FACE_HUB_TOKEN: ' b\n'})).toBe('b')
    // `"  " or …` is "  " in Python: no fall-through, then cleaned to nothing.
    expect(hfToken({HF_TOKEN: '  ', HUGGING_FACE_HUB_TOKEN: 'b'})).toBeNull()
    expect(hfToken({HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: ''})).toBeNull()
  })

  it('offline: HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE in 1/ON/YES/TRUE, any case', () => {
    expect(hfOffline({})).toBe(false)
    for (const v of ['1', 'on', 'Yes', 'TRUE']) expect(hfOffline({HF_HUB_OFFLINE: v})).toBe(true)
    for (const v of ['0', '', 'false', 'no']) expect(hfOffline({HF_HUB_OFFLINE: v})).toBe(false)
    expect(hfOffline({TRANSFORMERS_OFFLINE: '1'})).toBe(true)
    expect(hfOffline({HF_HUB_OFFLINE: '0', TRANSFORMERS_OFFLINE: '1'})).toBe(false)
  })

  it('cache: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub', () => {
    expect(hfHubCache({}, '/home/u')).toBe('/home/u/.cache/huggingface/hub')
    expect(hfHubCache({HOME: '/h'}, '/home/u')).toBe('/h/.cache/huggingface/hub')
    expect(hfHubCache({XDG_CACHE_HOME: '/x'}, '/home/u')).toBe('/x/huggingface/hub')
    expect(hfHubCache({HF_HOME: '~/hf', XDG_CACHE_HOME: '/x'}, '/home/u')).toBe('/home/u/hf/hub')
    expect(hfHubCache({HF_HOME: '$D/hf', D: '/d'}, '/home/u')).toBe('/d/hf/hub')
    expect(hfHubCache({HUGGINGFACE_HUB_CACHE: '/legacy', HF_HOME: '/hf'}, '/home/u')).toBe('/legacy')
    expect(hfHubCache({HF_HUB_CACHE: '${C}/hub', C: '/c', HUGGINGFACE_HUB_CACHE: '/legacy'}, '/home/u')).toBe('/c/hub')
    expect(hfHubCache({HF_HUB_CACHE: '', HF_HOME: '/hf'}, '/home/u')).toBe('/hf/hub')
    expect(hfCacheRefPath('/c', 'Org/Name', 'main')).toBe('/c/models--Org--Name/refs/main')
  })

  it('a commit is 40 lowercase hex digits', () => {
    expect(isHfCommit('0123456789abcdef0123456789abcdef01234567')).toBe(true)
    expect(isHfCommit('0123456789ABCDEF0123456789abcdef01234567')).toBe(false)
    expect(isHfCommit('main')).toBe(false)
    expect(isHfCommit('a'.repeat(41))).toBe(false)
  })
})
