import { randomFillSync } from 'node:crypto'

/** A parsed `traceparent` (W3C Trace Context). */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string
  /** 16 lowercase hex digits, not all zero: the caller's span. */
  parentId: string
  /** Trace flags byte (bit 0: sampled). */
  flags: number
}

const HEX = /^[0-9a-f]+$/
const ZERO_TRACE = '00000000000000000000000000000000'
const ZERO_SPAN = '0000000000000000'

/**
 * Parses a `traceparent` header following W3C Trace Context: version 00 must be exactly 55 characters; a
 * higher version (not `ff`) is parsed by its version-00 prefix when it is 55 characters or followed by `-`;
 * hex must be lowercase; all-zero trace or parent ids are invalid. Returns undefined for anything invalid.
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
 * // { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: 1 }
 * ```
 */
export function parseTraceparent(value: string | string[] | undefined): TraceParent | undefined {
  if (typeof value !== 'string' || value.length < 55) return undefined
  const version = value.slice(0, 2)
  if (!HEX.test(version) || version === 'ff') return undefined
  if (version === '00' ? value.length !== 55 : value.length > 55 && value[55] !== '-') return undefined
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined
  const traceId = value.slice(3, 35)
  const parentId = value.slice(36, 52)
  const flags = value.slice(53, 55)
  if (!HEX.test(traceId) || !HEX.test(parentId) || !HEX.test(flags)) return undefined
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined
  return { traceId, parentId, flags: Number.parseInt(flags, 16) }
}

/**
 * Formats a version-00 `traceparent`.
 *
 * @example
 * ```ts
 * formatTraceparent('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', true)
 * // '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
 * ```
 */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return '00-' + traceId + '-' + spanId + (sampled ? '-01' : '-00')
}

const MAX_MEMBERS = 32
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/

/**
 * Validates and normalises a `tracestate` header (several headers arrive joined by commas): at most 32
 * list-members of `key=value` with W3C keys and values, no duplicate keys; empty members are dropped. Returns
 * the normalised header, '' when empty, or undefined when invalid (then it is not propagated).
 *
 * @example
 * ```ts
 * normaliseTracestate('congo=t61rcWkgMzE, rojo=00f067aa0ba902b7') // 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'
 * ```
 */
export function normaliseTracestate(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return ''
  const joined = typeof value === 'string' ? value : value.join(',')
  const members: string[] = []
  const keys = new Set<string>()
  for (const raw of joined.split(',')) {
    const member = raw.trim()
    if (member === '') continue
    const eq = member.indexOf('=')
    if (eq <= 0) return undefined
    const key = member.slice(0, eq)
    if (!KEY.test(key) || !VALUE.test(member.slice(eq + 1)) || keys.has(key)) return undefined
    keys.add(key)
    members.push(member)
    if (members.length > MAX_MEMBERS) return undefined
  }
  return members.join(',')
}

const POOL_SIZE = 4096
const pool = Buffer.allocUnsafe(POOL_SIZE)
let offset = POOL_SIZE

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool)
    offset = 0
  }
  const hex = pool.toString('hex', offset, offset + bytes)
  offset += bytes
  return hex
}

/**
 * A new random trace id (16 bytes, never all zero), from a pooled CSPRNG buffer.
 *
 * @example
 * ```ts
 * newTraceId() // '0af7651916cd43dd8448eb211c80319c'
 * ```
 */
export function newTraceId(): string {
  let id = randomHex(16)
  while (id === ZERO_TRACE) id = randomHex(16)
  return id
}

/**
 * A new random span id (8 bytes, never all zero).
 *
 * @example
 * ```ts
 * newSpanId() // 'b7ad6b7169203331'
 * ```
 */
export function newSpanId(): string {
  let id = randomHex(8)
  while (id === ZERO_SPAN) id = randomHex(8)
  return id
}
