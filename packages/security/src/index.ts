import { attackFilter } from './attack-filter/index.js'
import { botFilter } from './bot-filter/index.js'
import { cors } from './cors/index.js'
import { ipFilter } from './ip-filter/index.js'
import { openapiValidation } from './openapi-validation/index.js'
import { requestValidation } from './request-validation/index.js'
import { securityHeaders } from './security-headers/index.js'

export * from './attack-filter/index.js'
export * from './bot-filter/index.js'
export * from './cors/index.js'
export { securityErrors } from './errors.js'
export * from './ip-filter/index.js'
export * from './openapi-validation/index.js'
export * from './request-validation/index.js'
export * from './security-headers/index.js'
export { bytes, parseBytes } from './shared/bytes.js'
export { appendVary } from './shared/vary.js'

/**
 * Every policy of @gw/security, for config-file discovery (`gw start` finds them by name).
 *
 * @example
 * ```ts
 * import { policies } from '@gw/security'
 * policies.map((p) => p.definition.name) // ['security-headers', 'cors', 'request-validation', ...]
 * ```
 */
export const policies = [
  securityHeaders,
  cors,
  requestValidation,
  openapiValidation,
  ipFilter,
  attackFilter,
  botFilter,
]
