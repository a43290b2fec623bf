import { coreErrors, definePolicy } from '@gw/core'
import { securityErrors } from '../errors.js'
import { botFilterSchema } from './schema.js'

export { type BotFilterOptions, botFilterSchema } from './schema.js'

function combine(patterns: ReadonlyArray<string | RegExp>): RegExp | undefined {
  if (patterns.length === 0) return undefined
  const sources = patterns.map((p) => {
    const source = typeof p === 'string' ? p : p.source
    try {
      new RegExp(source)
    } catch (error) {
      throw coreErrors.config.create(`bot-filter: invalid pattern ${source}`, { cause: error })
    }
    return `(?:${source})`
  })
  return new RegExp(sources.join('|'), 'i')
}

/**
 * Refuses (403) user agents matching deny patterns unless an allow pattern matches, and optionally requests
 * without a User-Agent. Patterns are combined into one case-insensitive expression at start-up.
 *
 * @example
 * ```ts
 * botFilter({ deny: ['python-requests', 'curl/'], allow: ['^kube-probe/'], missingUserAgent: 'deny' })
 * ```
 */
export const botFilter = definePolicy({
  name: 'bot-filter',
  stage: 'guard',
  description: 'User-agent allow/deny rules and missing User-Agent handling.',
  schema: botFilterSchema,
  create(options) {
    const deny = combine(options.deny)
    const allow = combine(options.allow)
    const denyMissing = options.missingUserAgent === 'deny'
    return {
      onRequest(ex) {
        const ua = ex.request.headers['user-agent']
        if (ua === undefined || ua === '') {
          if (!denyMissing) return
          throw securityErrors.botDenied.create('A User-Agent header is required', {
            decision: { rule: 'missing-user-agent', reason: 'missing-user-agent' },
          })
        }
        if (deny === undefined || !deny.test(ua) || allow?.test(ua)) return
        throw securityErrors.botDenied.create('This user agent is not allowed', {
          decision: { rule: 'deny', key: ua.slice(0, 200), reason: 'user-agent-denied' },
        })
      },
    }
  },
})
