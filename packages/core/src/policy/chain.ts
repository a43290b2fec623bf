import type { Clock } from '../clock.js'
import { coreErrors } from '../errors.js'
import type { Exchange } from '../exchange/exchange.js'
import type { Logger } from '../logger.js'
import type { StateKey } from '../state.js'
import type { Telemetry } from '../telemetry.js'
import type { AdminMounts } from './admin.js'
import {
  type GwResponse,
  type MaybePromise,
  type PolicyEntry,
  type PolicyHandlers,
  type PolicyMode,
  type Resources,
  type SetupContext,
  STAGES,
} from './types.js'

/** A policy instance ready to run: its handlers, bound once at start-up. */
export interface PolicyInstance {
  readonly name: string
  readonly mode: PolicyMode
  readonly log: Logger
  readonly handlers: PolicyHandlers
}

/** The terminal of a chain: forwards upstream or answers locally. */
export type Terminal = (ex: Exchange) => MaybePromise<GwResponse>

/** A route's compiled chain: gateway-level then route-level policies, then the terminal. */
export interface CompiledChain {
  readonly routeId: string
  readonly policies: readonly PolicyInstance[]
  readonly terminal: Terminal
  readonly telemetry: Telemetry
}

/** Start-up services for instantiating policies. */
export interface InstantiateContext {
  log: Logger
  clock: Clock
  telemetry: Telemetry
  resources: Partial<Resources>
  /** The pipeline's admin mount table, when the gateway has an admin listener. */
  admin?: AdminMounts | undefined
}

/**
 * Runs each entry's `create()` once and returns the instances, in order.
 *
 * @example
 * ```ts
 * const instances = await instantiatePolicies([cors({ origin: '*' })], undefined, ctx)
 * ```
 */
export async function instantiatePolicies(
  entries: readonly PolicyEntry[],
  routeId: string | undefined,
  ctx: InstantiateContext,
): Promise<PolicyInstance[]> {
  const out: PolicyInstance[] = []
  for (const entry of entries) {
    const name = entry.definition.name
    const log = ctx.log.child(routeId === undefined ? { policy: name } : { policy: name, route: routeId })
    const setup: SetupContext = {
      policy: name,
      routeId,
      mode: entry.mode,
      log,
      clock: ctx.clock,
      telemetry: ctx.telemetry,
      need(key) {
        const value = ctx.resources[key]
        if (value === undefined || value === null) {
          throw coreErrors.missingResource.create(
            `policy '${name}'${routeId ? ` on route '${routeId}'` : ''} needs the resource '${String(key)}'; pass it in createGateway({ resources: { ${String(key)}: ... } })`,
          )
        }
        return value as NonNullable<Resources[typeof key]>
      },
      has: (key) => ctx.resources[key] !== undefined && ctx.resources[key] !== null,
      admin: ctx.admin,
    }
    const handlers = await entry.definition.create(entry.options, setup)
    out.push({ name, mode: entry.mode, log, handlers })
  }
  return out
}

/** Where an entry sits, for error messages: `policies[1] (jwt)` or `routes[2].policies[0] (cache)`. */
export interface LocatedEntry {
  entry: PolicyEntry
  where: string
}

/**
 * Checks a chain's order at start-up: every required state key has an earlier provider, and no policy runs
 * before one of the stages its definition must follow. Entries with `allowOutOfOrder` are skipped (logged).
 * Throws `GW_ERR_POLICY_ORDER` naming both policies.
 *
 * @example
 * ```ts
 * validateChainOrder([{ entry: rateLimitByUser, where: 'policies[0]' }, { entry: jwtEntry, where: 'policies[1]' }], log)
 * // throws: policies[0] (rate-limit) requires state 'principal', provided only later by policies[1] (jwt)
 * ```
 */
export function validateChainOrder(chain: readonly LocatedEntry[], log: Logger): void {
  const label = (l: LocatedEntry): string => `${l.where} (${l.entry.definition.name})`
  const provided = new Map<StateKey<unknown>, LocatedEntry>()
  for (const located of chain) {
    const contract = located.entry.definition.state?.(located.entry.options)
    for (const key of contract?.provides ?? []) if (!provided.has(key)) provided.set(key, located)
  }
  const seen = new Set<StateKey<unknown>>()
  chain.forEach((located, index) => {
    const { entry } = located
    const contract = entry.definition.state?.(entry.options)
    if (entry.allowOutOfOrder) {
      if (contract?.requires?.length || entry.definition.mustFollow?.length) {
        log.warn(
          { policy: entry.definition.name, where: located.where },
          'order checks skipped (allowOutOfOrder)',
        )
      }
    } else {
      for (const key of contract?.requires ?? []) {
        if (seen.has(key)) continue
        const later = provided.get(key)
        throw coreErrors.policyOrder.create(
          later
            ? `${label(located)} requires state '${key.name}', which is provided only later by ${label(later)}; move it after that policy`
            : `${label(located)} requires state '${key.name}', but no policy in the chain provides it`,
        )
      }
      for (const stage of entry.definition.mustFollow ?? []) {
        const offender = chain.slice(index + 1).find((l) => l.entry.definition.stage === stage)
        if (offender) {
          throw coreErrors.policyOrder.create(
            `${label(located)} must come after '${stage}' policies, but ${label(offender)} comes later; reorder them or set allowOutOfOrder`,
          )
        }
      }
    }
    for (const key of contract?.provides ?? []) seen.add(key)
  })
}

/**
 * Sorts entries by their definitions' stages (stable): the default order when an operator wants it.
 *
 * @example
 * ```ts
 * sortByStage([cache(), jwt(), cors()]) // [cors, jwt, cache]
 * ```
 */
export function sortByStage(entries: readonly PolicyEntry[]): PolicyEntry[] {
  return [...entries].sort((a, b) => STAGES.indexOf(a.definition.stage) - STAGES.indexOf(b.definition.stage))
}
