// The "chain" scenario, shared by the gw, fastify and express chain servers: JWT (HS256) on every request, a
// per-ip rate limit high enough never to deny, security headers and Prometheus metrics, in front of the same
// upstream. Every request carries the same valid bearer token.
import { createHmac } from 'node:crypto'

/** HS256 secret of the chain scenario. */
export const CHAIN_SECRET = 'bench-secret-0123456789-0123456789-0123456789'

/** A rate limit that never denies within a run (the cost of counting is what is measured). */
export const CHAIN_LIMIT = 1_000_000_000

/** A valid HS256 token (sub, scope, iat, exp in a day), signed with {@link CHAIN_SECRET}. */
export function chainToken() {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'bench-user', scope: 'read', iat: now, exp: now + 86_400 })}`
  return `${input}.${createHmac('sha256', CHAIN_SECRET).update(input).digest('base64url')}`
}

/** The request headers the load generator sends in the chain scenario. */
export function chainHeaders() {
  return { authorization: `Bearer ${chainToken()}` }
}
