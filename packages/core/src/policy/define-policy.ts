import type { z } from 'zod'
import { coreErrors } from '../errors.js'
import { configErrorMap } from '../util/error-map.js'
import { collectIssues, formatIssues } from '../util/format-issues.js'
import type {
  EntrySettings,
  GwResponse,
  PolicyDefinition,
  PolicyEntry,
  ResponseBody,
  ResponseHeaders,
  Verdict,
} from './types.js'

/**
 * A policy factory: call it with options to get a chain entry; its `definition` is what config files use.
 */
export interface PolicyFactory<S extends z.ZodType> {
  (options?: z.input<S>, settings?: EntrySettings): PolicyEntry<S>
  readonly definition: PolicyDefinition<S>
}

/**
 * Defines a policy. The result is callable in code (`rateLimit({ limit: 100 })`) and is found by its `name`
 * from config files. Options are validated eagerly; a bad option fails with `GW_ERR_CONFIG` naming its path.
 *
 * @example
 * ```ts
 * export const requireHeader = definePolicy({
 *   name: 'require-header',
 *   stage: 'guard',
 *   schema: z.object({ header: z.string().describe('Header that must be present') }),
 *   create: ({ header }) => ({
 *     onRequest: (ex) => (ex.request.headers[header] ? undefined : respond(400, `missing ${header}`)),
 *   }),
 * })
 * ```
 */
export function definePolicy<S extends z.ZodType>(definition: PolicyDefinition<S>): PolicyFactory<S> {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(definition.name)) {
    throw coreErrors.config.create(`policy name '${definition.name}' must be kebab-case`)
  }
  const factory = (options?: z.input<S>, settings: EntrySettings = {}): PolicyEntry<S> =>
    createEntry(definition, options ?? {}, settings)
  return Object.assign(factory, { definition }) as PolicyFactory<S>
}

/**
 * Validates options against a definition's schema and builds a chain entry.
 *
 * @example
 * ```ts
 * const entry = createEntry(rateLimit.definition, { limit: 100 }, { mode: 'report' })
 * ```
 */
export function createEntry<S extends z.ZodType>(
  definition: PolicyDefinition<S>,
  options: unknown,
  settings: EntrySettings = {},
): PolicyEntry<S> {
  const parsed = definition.schema.safeParse(options, { error: configErrorMap })
  if (!parsed.success) {
    const issues = collectIssues(parsed.error, `${definition.name}.options`)
    throw coreErrors.config.create(
      `invalid options for policy '${definition.name}':\n${formatIssues(issues)}`,
      {
        extensions: { issues },
      },
    )
  }
  return {
    definition,
    options: parsed.data,
    mode: settings.mode ?? 'enforce',
    allowOutOfOrder: settings.allowOutOfOrder ?? false,
  }
}

/**
 * Builds a "respond" verdict: a local reply that stops the chain.
 * Objects are sent as JSON; strings as text/plain unless a content-type is given.
 *
 * @example
 * ```ts
 * onRequest: (ex) => ex.request.headers['x-api-key'] ? undefined : respond(401, { error: 'no key' })
 * ```
 */
export function respond(
  status: number,
  body?: unknown,
  headers: ResponseHeaders = {},
): { respond: GwResponse } {
  return { respond: localResponse(status, body, headers) }
}

/**
 * Builds a local {@link GwResponse} (bytes computed once, content-length set).
 *
 * @example
 * ```ts
 * const res = localResponse(200, { ok: true })
 * ```
 */
export function localResponse(status: number, body?: unknown, headers: ResponseHeaders = {}): GwResponse {
  let payload: ResponseBody = null
  if (body === undefined || body === null) payload = null
  else if (typeof body === 'string') {
    payload = body
    headers['content-type'] ??= 'text/plain; charset=utf-8'
  } else if (Buffer.isBuffer(body) || body instanceof Uint8Array) payload = body
  else {
    payload = JSON.stringify(body)
    headers['content-type'] ??= 'application/json'
  }
  if (payload !== null) headers['content-length'] = Buffer.byteLength(payload)
  else if (status !== 204 && status !== 304 && status >= 200) headers['content-length'] = 0
  return { status, headers, body: payload }
}

/** Type guard for respond verdicts. */
export function isRespond(verdict: Verdict): verdict is { respond: GwResponse } {
  return typeof verdict === 'object' && verdict !== null && 'respond' in verdict
}
