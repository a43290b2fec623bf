import type { Exchange, z } from '@gw/core'
import { compileTemplate } from '../template/index.js'
import { getAt, type Json, parsePointer, pick, removeAt, setAt } from './pointer.js'
import type { mappingSchema } from './schema.js'

/**
 * A compiled JSON mapping: takes a parsed document, returns the mapped one (the input may be mutated).
 *
 * @example
 * ```ts
 * const map: JsonMapping = compileMapping(mappingSchema.parse({ omit: ['/secret'] }))
 * ```
 */
export type JsonMapping = (doc: Json, ex: Exchange) => Json

type Setter = readonly [pointer: readonly string[], value: (ex: Exchange) => Json | undefined]

/**
 * Compiles one direction's mapping (unwrap, pick, omit, rename, set, wrap; in that order) at start-up.
 *
 * @example
 * ```ts
 * const map = compileMapping(mappingSchema.parse({ omit: ['/password'], wrap: '/data' }))
 * map({ id: 1, password: 'x' }, ex) // { data: { id: 1 } }
 * ```
 */
export function compileMapping(options: z.output<typeof mappingSchema>): JsonMapping {
  const unwrap = options.unwrap === undefined ? undefined : parsePointer(options.unwrap)
  const picks = options.pick?.map(parsePointer)
  const omit = options.omit.map(parsePointer)
  const rename = Object.entries(options.rename).map(
    ([from, to]) => [parsePointer(from), parsePointer(to)] as const,
  )
  const set: Setter[] = Object.entries(options.set).map(([p, value]) => [
    parsePointer(p),
    compileValue(value),
  ])
  const wrap = options.wrap === undefined ? undefined : parsePointer(options.wrap)
  return (input, ex) => {
    let doc = input
    if (unwrap !== undefined) doc = getAt(doc, unwrap) ?? null
    if (picks !== undefined) doc = pick(doc, picks)
    for (const pointer of omit) removeAt(doc, pointer)
    for (const [from, to] of rename) {
      const value = removeAt(doc, from)
      if (value !== undefined) doc = setAt(doc, to, value)
    }
    for (const [pointer, render] of set) {
      const value = render(ex)
      if (value !== undefined) doc = setAt(doc, pointer, value)
    }
    if (wrap !== undefined) doc = setAt({}, wrap, doc)
    return doc
  }
}

function compileValue(value: unknown): (ex: Exchange) => Json | undefined {
  if (typeof value === 'string') return compileTemplate(value)
  const constant = value as Json
  if (constant === null || typeof constant !== 'object') return () => constant
  const frozen = JSON.stringify(constant)
  return () => JSON.parse(frozen) as Json
}
