import { defineErrors } from '@gw/core'

/**
 * The error catalogue of @gw/security. Every denial is an RFC 9457 problem+json response with one of these codes
 * (request-validation also uses core's `GW_ERR_BODY_TOO_LARGE` 413, `GW_ERR_HEADERS_TOO_LARGE` 431 and
 * `GW_ERR_METHOD_NOT_ALLOWED` 405, the same codes the server and router use for the same conditions).
 *
 * @example
 * ```ts
 * throw securityErrors.ipDenied.create('Client 203.0.113.9 is not allowed')
 * ```
 */
export const securityErrors = defineErrors({
  corsRejected: { code: 'GW_ERR_CORS_REJECTED', status: 403, title: 'CORS request rejected' },
  badJson: { code: 'GW_ERR_MALFORMED_JSON', status: 400, title: 'Malformed JSON body' },
  invalidBody: { code: 'GW_ERR_INVALID_BODY', status: 400, title: 'Request body failed validation' },
  invalidRequest: {
    code: 'GW_ERR_INVALID_REQUEST',
    status: 400,
    title: 'Request does not match the API description',
  },
  unknownOperation: { code: 'GW_ERR_UNKNOWN_OPERATION', status: 404, title: 'Operation not described' },
  uriTooLong: { code: 'GW_ERR_URI_TOO_LONG', status: 414, title: 'URI too long' },
  unsupportedMediaType: {
    code: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    title: 'Unsupported media type',
  },
  ipDenied: { code: 'GW_ERR_IP_DENIED', status: 403, title: 'Client address not allowed' },
  attackDetected: { code: 'GW_ERR_ATTACK_DETECTED', status: 403, title: 'Request blocked' },
  unparsableBody: { code: 'GW_ERR_UNPARSABLE_BODY', status: 400, title: 'Request body could not be parsed' },
  responseBlocked: { code: 'GW_ERR_RESPONSE_BLOCKED', status: 403, title: 'Response blocked' },
  botDenied: { code: 'GW_ERR_BOT_DENIED', status: 403, title: 'User agent not allowed' },
})
