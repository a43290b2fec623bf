import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream'

/**
 * Passes a response body through unchanged (keeping backpressure) while copying it up to `limit` bytes.
 * `done` is called once: with the whole body when the stream ended within the limit, or with `undefined` when
 * the body outgrew the limit (the copy is dropped at that moment), the source failed or the client went away.
 *
 * @example
 * ```ts
 * res.body = captureBody(res.body, 1_048_576, (body) => { if (body) store(body) })
 * ```
 */
export function captureBody(
  source: Readable,
  limit: number,
  done: (body: Buffer | undefined) => void,
): Readable {
  const capture = new Capture(limit, done)
  pipeline(source, capture, (error) => {
    if (error) capture.finish(undefined)
  })
  return capture
}

class Capture extends Transform {
  #chunks: Buffer[] = []
  #size = 0
  #copying = true
  #done: ((body: Buffer | undefined) => void) | undefined
  readonly #limit: number

  constructor(limit: number, done: (body: Buffer | undefined) => void) {
    super()
    this.#limit = limit
    this.#done = done
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#copying) {
      this.#size += chunk.length
      if (this.#size > this.#limit) {
        this.#copying = false
        this.#chunks = []
        this.finish(undefined)
      } else this.#chunks.push(chunk)
    }
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    if (this.#copying) this.finish(Buffer.concat(this.#chunks, this.#size))
    this.#chunks = []
    callback()
  }

  finish(body: Buffer | undefined): void {
    const done = this.#done
    if (done === undefined) return
    this.#done = undefined
    this.#copying = false
    done(body)
  }
}
