import { errors } from 'jose'

/**
 * The reason a jose verification failed, as the `jwt` policy logs and records it (`expired`, `claim-aud`,
 * `bad-signature`, ...). The HMAC fast path returns the same reasons.
 *
 * @example
 * ```ts
 * failureReason(new errors.JWTExpired('expired', {})) // 'expired'
 * ```
 */
export function failureReason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired'
  if (error instanceof errors.JWTClaimValidationFailed) return `claim-${error.claim}`
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad-signature'
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg-not-allowed'
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown-kid'
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'ambiguous-kid'
  if (error instanceof errors.JOSENotSupported) return 'unsupported'
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed'
  return 'invalid'
}
