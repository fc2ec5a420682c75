/**
 * A minimal decoder for `moby.buildkit.v1.StatusResponse`, the protobuf message the Engine API sends
 * base64-encoded in `{"id":"moby.buildkit.trace","aux":"…"}` lines of a BuildKit build stream.
 * Only the fields needed for progress and error reporting are decoded; unknown fields are skipped.
 *
 * StatusResponse { repeated Vertex vertexes = 1; repeated VertexStatus statuses = 2; repeated VertexLog logs = 3;
 *                  repeated VertexWarning warnings = 4 }
 * Vertex { string digest = 1; repeated string inputs = 2; string name = 3; bool cached = 4;
 *          Timestamp started = 5; Timestamp completed = 6; string error = 7 }
 * VertexLog { string vertex = 1; Timestamp timestamp = 2; int64 stream = 3; bytes msg = 4 }
 * VertexWarning { string vertex = 1; int64 level = 2; bytes short = 3 }
 */

export interface BuildkitVertex {
  digest: string
  name: string
  cached: boolean
  started: boolean
  completed: boolean
  error: string
}
export interface BuildkitLog {
  vertex: string
  stream: number
  msg: string
}
export interface BuildkitStatus {
  vertexes: BuildkitVertex[]
  logs: BuildkitLog[]
  warnings: Array<{vertex: string; short: string}>
}

class Reader {
  pos = 0
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length
  }
  varint(): number {
    let result = 0
    let shift = 0
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint')
      const b = this.buf[this.pos++] as number
      // Values beyond 2^53 lose precision; we only use small ones (lengths, bools, stream ids).
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) return result
      shift += 7
      if (shift > 63) throw new Error('varint too long')
    }
  }
  bytes(): Uint8Array {
    const len = this.varint()
    if (this.pos + len > this.buf.length) throw new Error('truncated field')
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint()
    else if (wireType === 1) this.pos += 8
    else if (wireType === 2) this.bytes()
    else if (wireType === 5) this.pos += 4
    else throw new Error(`unsupported wire type ${wireType}`)
  }
  /** Iterate fields: calls `f(fieldNumber, wireType)`; `f` must consume the value or return false to skip it. */
  fields(f: (field: number, wireType: number) => boolean): void {
    while (!this.done) {
      const key = this.varint()
      const field = Math.floor(key / 8)
      const wireType = key & 7
      if (!f(field, wireType)) this.skip(wireType)
    }
  }
}

const utf8 = new TextDecoder('utf-8')

function decodeVertex(buf: Uint8Array): BuildkitVertex {
  const v: BuildkitVertex = {digest: '', name: '', cached: false, started: false, completed: false, error: ''}
  const r = new Reader(buf)
  r.fields((field, wt) => {
    if (field === 1 && wt === 2) v.digest = utf8.decode(r.bytes())
    else if (field === 3 && wt === 2) v.name = utf8.decode(r.bytes())
    else if (field === 4 && wt === 0) v.cached = r.varint() !== 0
    else if (field === 5 && wt === 2) {
      r.bytes()
      v.started = true
    } else if (field === 6 && wt === 2) {
      r.bytes()
      v.completed = true
    }
    else if (field === 7 && wt === 2) v.error = utf8.decode(r.bytes())
    else return false
    return true
  })
  return v
}

function decodeLog(buf: Uint8Array): BuildkitLog {
  const l: BuildkitLog = {vertex: '', stream: 0, msg: ''}
  const r = new Reader(buf)
  r.fields((field, wt) => {
    if (field === 1 && wt === 2) l.vertex = utf8.decode(r.bytes())
    else if (field === 3 && wt === 0) l.stream = r.varint()
    else if (field === 4 && wt === 2) l.msg = utf8.decode(r.bytes())
    else return false
    return true
  })
  return l
}

function decodeWarning(buf: Uint8Array): {vertex: string; short: string} {
  const w = {vertex: '', short: ''}
  const r = new Reader(buf)
  r.fields((field, wt) => {
    if (field === 1 && wt === 2) w.vertex = utf8.decode(r.bytes())
    else if (field === 3 && wt === 2) w.short = utf8.decode(r.bytes())
    else return false
    return true
  })
  return w
}

/** Decode one base64 `moby.buildkit.trace` payload. Throws on malformed input. */
export function decodeBuildkitStatus(base64: string): BuildkitStatus {
  const out: BuildkitStatus = {vertexes: [], logs: [], warnings: []}
  const r = new Reader(Buffer.from(base64, 'base64'))
  r.fields((field, wt) => {
    if (wt !== 2) return false
    if (field === 1) out.vertexes.push(decodeVertex(r.bytes()))
    else if (field === 3) out.logs.push(decodeLog(r.bytes()))
    else if (field === 4) out.warnings.push(decodeWarning(r.bytes()))
    else return false
    return true
  })
  return out
}

// ---- encoder (tests and fixtures only need it, but it documents the wire format too) ----

function varintBytes(n: number): number[] {
  const out: number[] = []
  let v = n
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
  return out
}
function field(num: number, payload: Uint8Array | number[]): number[] {
  return [...varintBytes(num * 8 + 2), ...varintBytes(payload.length), ...payload]
}
const enc = new TextEncoder()

/** Encode a StatusResponse (subset) to base64: for building synthetic test streams. */
export function encodeBuildkitStatus(s: Partial<BuildkitStatus>): string {
  const bytes: number[] = []
  for (const v of s.vertexes ?? []) {
    const vb: number[] = [...field(1, enc.encode(v.digest)), ...field(3, enc.encode(v.name))]
    if (v.cached) vb.push(...varintBytes(4 * 8), 1)
    if (v.started) vb.push(...field(5, [8, 1]))
    if (v.completed) vb.push(...field(6, [8, 2]))
    if (v.error) vb.push(...field(7, enc.encode(v.error)))
    bytes.push(...field(1, vb))
  }
  for (const l of s.logs ?? []) {
    bytes.push(...field(3, [...field(1, enc.encode(l.vertex)), ...varintBytes(3 * 8), ...varintBytes(l.stream), ...field(4, enc.encode(l.msg))]))
  }
  for (const w of s.warnings ?? []) {
    bytes.push(...field(4, [...field(1, enc.encode(w.vertex)), ...field(3, enc.encode(w.short))]))
  }
  return Buffer.from(bytes).toString('base64')
}
