import { anyOf } from './any-of/index.js'
import { apiKey } from './api-key/index.js'
import { authorize } from './authorize/index.js'
import { basic } from './basic/index.js'
import { introspection } from './introspection/index.js'
import { jwt } from './jwt/index.js'

export * from './any-of/index.js'
export * from './api-key/index.js'
export * from './authorize/index.js'
export * from './basic/index.js'
export { authErrors } from './errors.js'
export * from './introspection/index.js'
export * from './jwt/index.js'
export type { AuditLevel } from './shared/audit.js'
export type { CredentialSource } from './shared/credentials.js'
export type { AuthFetch } from './shared/fetch.js'

/**
 * Every policy of @gw/auth, for registries and the `gw` CLI (which finds policies through this export).
 *
 * @example
 * ```ts
 * import { policies } from '@gw/auth'
 * const registry = createPolicyRegistry(policies)
 * ```
 */
export const policies = [jwt, apiKey, introspection, basic, authorize, anyOf] as const
