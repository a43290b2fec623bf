import { defineErrors } from '@gw/core'

/**
 * The error catalogue of @gw/transform. Request-side problems are client errors (4xx); a response the
 * gateway was asked to transform but cannot (too large, not JSON, unknown coding) is a 502, never passed
 * through untransformed.
 *
 * @example
 * ```ts
 * throw transformErrors.invalidJson.create('Request body is not valid JSON')
 * ```
 */
export const transformErrors = defineErrors({
  invalidJson: { code: 'GW_ERR_TRANSFORM_INVALID_JSON', status: 400, title: 'Invalid JSON body' },
  unsupportedEncoding: {
    code: 'GW_ERR_TRANSFORM_UNSUPPORTED_ENCODING',
    status: 415,
    title: 'Unsupported content coding',
  },
  responseTooLarge: {
    code: 'GW_ERR_TRANSFORM_RESPONSE_TOO_LARGE',
    status: 502,
    title: 'Bad gateway',
  },
  invalidResponse: {
    code: 'GW_ERR_TRANSFORM_INVALID_RESPONSE',
    status: 502,
    title: 'Bad gateway',
  },
  template: { code: 'GW_ERR_TRANSFORM_TEMPLATE', status: 500, title: 'Invalid template' },
})
