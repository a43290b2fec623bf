import {
  createEntry,
  definePolicy,
  type Exchange,
  GatewayError,
  type MaybePromise,
  noopTelemetry,
  type PolicyDefinition,
  type PolicyEntry,
  type PolicyHandlers,
  principalKey,
  type SetupContext,
  type Verdict,
} from '@gw/core'
import { apiKey } from '../api-key/index.js'
import { basic } from '../basic/index.js'
import { authErrors } from '../errors.js'
import { introspection } from '../introspection/index.js'
import { jwt } from '../jwt/index.js'
import { createAuditor, insideAnyOfKey } from '../shared/audit.js'
import { type ANY_OF_POLICY_NAMES, anyOfSchema } from './schema.js'

export { ANY_OF_POLICY_NAMES, type AnyOfOptions, anyOfChildSchema, anyOfSchema } from './schema.js'

const byName: Record<(typeof ANY_OF_POLICY_NAMES)[number], { readonly definition: PolicyDefinition }> = {
  jwt,
  'api-key': apiKey,
  basic,
  introspection,
}

interface Child {
  name: string
  onRequest: NonNullable<PolicyHandlers['onRequest']>
  close: PolicyHandlers['close']
}

/**
 * Accepts the first of several auth policies that authenticates the request, e.g. a JWT or an API key.
 * Alternatives are tried in order; one whose credential is absent is skipped. When none succeeds, the answer
 * is the first real failure (an invalid token beats a missing API key), or, if no credential of any kind was
 * sent, a 401 listing every alternative's challenge in `WWW-Authenticate`.
 *
 * @example
 * ```ts
 * anyOf({ policies: [jwt({ algorithms: ['HS256'], secret }), apiKey({ consumers })] })
 * ```
 */
export const anyOf = definePolicy({
  name: 'any-of',
  stage: 'authn',
  description:
    'Accepts the first of several auth policies (jwt, api-key, basic, introspection) that succeeds.',
  schema: anyOfSchema,
  state: () => ({ provides: [principalKey] }),
  async create(config, setup) {
    const entries: PolicyEntry[] = config.policies.map((child) =>
      'definition' in child ? child : createEntry(byName[child.policy].definition, child.options),
    )
    const children: Child[] = []
    for (const entry of entries) {
      const handlers = await entry.definition.create(entry.options, childSetup(setup, entry.definition.name))
      if (handlers.onRequest === undefined) continue
      children.push({ name: entry.definition.name, onRequest: handlers.onRequest, close: handlers.close })
    }

    const challenges: (string | undefined)[] = children.map(() => undefined)
    const allMissing = (ex: Exchange): GatewayError => {
      ex.set(insideAnyOfKey, false)
      return authErrors.missing.create('Send one of the accepted credentials', {
        headers: { 'www-authenticate': challenges.filter((c) => c !== undefined).join(', ') },
        decision: audit.failure(ex, 'missing', authErrors.missing.code),
      })
    }
    const audit = createAuditor(setup, 'any-of', 'failures')

    const settle = (ex: Exchange, index: number, error: unknown, first: unknown): unknown => {
      if (!(error instanceof GatewayError)) return first ?? error
      if (error.code === authErrors.missing.code) {
        challenges[index] ??= error.headers?.['www-authenticate']
        return first
      }
      ex.log.debug(
        { policy: 'any-of', alternative: children[index]!.name, code: error.code },
        'alternative failed',
      )
      return first ?? error
    }

    const giveUp = (ex: Exchange, first: unknown): never => {
      throw first ?? allMissing(ex)
    }

    const run = (ex: Exchange, from: number, first: unknown): MaybePromise<Verdict> => {
      for (let i = from; i < children.length; i++) {
        let result: MaybePromise<Verdict>
        try {
          result = children[i]!.onRequest(ex)
        } catch (error) {
          first = settle(ex, i, error, first)
          continue
        }
        if (result instanceof Promise) {
          return result.then(
            (verdict) => verdict,
            (error: unknown) => run(ex, i + 1, settle(ex, i, error, first)),
          )
        }
        return result
      }
      return giveUp(ex, first)
    }

    return {
      onRequest(ex) {
        ex.set(insideAnyOfKey, true)
        let result: MaybePromise<Verdict>
        try {
          result = run(ex, 0, undefined)
        } catch (error) {
          ex.set(insideAnyOfKey, false)
          throw error
        }
        if (result instanceof Promise) return result.finally(() => ex.set(insideAnyOfKey, false))
        ex.set(insideAnyOfKey, false)
        return result
      },
      async close() {
        for (const child of [...children].reverse()) await child.close?.()
      },
    }
  },
})

function childSetup(setup: SetupContext, name: string): SetupContext {
  return {
    policy: name,
    routeId: setup.routeId,
    mode: 'enforce',
    log: setup.log.child({ policy: name, parent: 'any-of' }),
    clock: setup.clock,
    telemetry: noopTelemetry,
    need: (key) => setup.need(key),
    has: (key) => setup.has(key),
  }
}
