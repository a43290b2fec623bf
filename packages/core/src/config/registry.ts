import { coreErrors } from '../errors.js'
import type { PolicyDefinition } from '../policy/types.js'

/** A policy definition, or anything carrying one (the factory `definePolicy` returns). */
export type PolicyLike = PolicyDefinition | { readonly definition: PolicyDefinition }

/** Policy definitions by name, in registration order: what config files can refer to. */
export type PolicyRegistry = ReadonlyMap<string, PolicyDefinition>

/**
 * Builds the name -> definition map config files are resolved against. Accepts definitions or the factories
 * `definePolicy` returns, in any mix. Two different definitions with the same name are a `GW_ERR_CONFIG`
 * error; registering the very same definition twice (say, from a package and a plugin re-exporting it) is not.
 *
 * @example
 * ```ts
 * import { policies as auth } from '@gw/auth'
 * const registry = createPolicyRegistry([...auth, requireHeader])
 * registry.get('jwt')?.stage // 'authn'
 * ```
 */
export function createPolicyRegistry(definitions: readonly PolicyLike[]): PolicyRegistry {
  const registry = new Map<string, PolicyDefinition>()
  for (const item of definitions) {
    const definition = toDefinition(item)
    const existing = registry.get(definition.name)
    if (existing !== undefined && existing !== definition) {
      throw coreErrors.config.create(`policy '${definition.name}' is registered twice`, {
        extensions: {
          issues: [{ path: '(registry)', message: `duplicate policy name '${definition.name}'` }],
        },
      })
    }
    registry.set(definition.name, definition)
  }
  return registry
}

/**
 * Type guard for values that can be registered: a definition (`name`, `stage`, `schema`, `create`) or a
 * factory carrying one. Used to check what a plugin module exports.
 *
 * @example
 * ```ts
 * const mod: { policies?: unknown } = await import('./my-policies.js')
 * const ok = Array.isArray(mod.policies) && mod.policies.every(isPolicyLike)
 * ```
 */
export function isPolicyLike(value: unknown): value is PolicyLike {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false
  if ('definition' in value) return isDefinition(value.definition)
  return isDefinition(value)
}

function isDefinition(value: unknown): value is PolicyDefinition {
  if (value === null || typeof value !== 'object') return false
  const candidate = value as Partial<Record<keyof PolicyDefinition, unknown>>
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.stage === 'string' &&
    typeof candidate.create === 'function' &&
    typeof candidate.schema === 'object' &&
    candidate.schema !== null
  )
}

function toDefinition(item: PolicyLike): PolicyDefinition {
  if (!isPolicyLike(item)) throw coreErrors.config.create('not a policy definition or factory')
  return 'definition' in item ? item.definition : item
}
