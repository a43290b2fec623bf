import { timingSafeEqual } from 'node:crypto'
import { definePolicy, readBody, respond } from '@gw/core'
import { cacheErrors } from '../errors.js'
import { purgeCache } from './purge.js'
import { cachePurgeSchema, purgeRequestSchema } from './schema.js'

/**
 * An admin endpoint on the gateway that purges cached responses: `POST <path>` with the API key in a header
 * and a JSON body `{ "url": ... }`, `{ "prefix": ... }` or `{ "tag": ... }`; answers `{ "purged": n }`.
 * It reaches every cache policy started with the same `name`. When the gateway has an admin listener, the same
 * purge is also mounted there as `POST <path>` (authenticated by the admin key instead of `apiKey`): the
 * place for operator actions.
 *
 * @example
 * ```ts
 * createGateway({
 *   policies: [cachePurge({ apiKey: process.env.CACHE_PURGE_KEY! })],
 *   routes: [{ path: '/api/products/*', upstream: 'products', policies: [cache()] }],
 * })
 * // curl -X POST -H 'x-api-key: …' -d '{"tag":"product-7"}' http://gw/_cache/purge
 * ```
 */
export const cachePurge = definePolicy({
  name: 'cache-purge',
  stage: 'guard',
  description: 'Admin endpoint purging cached responses by URL, prefix or tag.',
  schema: cachePurgeSchema,
  create(config, setup) {
    const expected = Buffer.from(config.apiKey)
    const purge = async (json: unknown): Promise<number> => {
      const parsed = purgeRequestSchema.safeParse(json)
      if (!parsed.success) throw cacheErrors.purgeBadRequest.create('Give exactly one of url, prefix or tag')
      const { url, prefix, tag } = parsed.data
      const purged = await purgeCache(
        config.name,
        url !== undefined ? { url } : prefix !== undefined ? { prefix } : { tag: tag! },
      )
      setup.log.info({ url, prefix, tag, purged }, 'cache purged')
      return purged
    }
    if (setup.admin !== undefined) {
      try {
        setup.admin.mount('POST', config.path, async (req) => ({
          body: { purged: await purge(await req.json()) },
        }))
      } catch (error) {
        setup.log.warn(
          { err: error, path: config.path },
          'cache purge not mounted on the admin listener: the path is taken (give each cache-purge its own path)',
        )
      }
    }
    return {
      onRequest(ex) {
        if (ex.request.path !== config.path) return
        return (async () => {
          const presented = ex.request.headers[config.header]
          const given = Buffer.from(typeof presented === 'string' ? presented : '')
          if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
            throw cacheErrors.purgeUnauthorized.create(
              `Send the purge API key in the ${config.header} header`,
              {
                decision: { reason: 'bad-api-key' },
              },
            )
          }
          if (ex.request.method !== 'POST') {
            throw cacheErrors.purgeBadRequest.create('Purge with POST and a JSON body', {
              headers: { allow: 'POST' },
            })
          }
          const raw = await readBody(ex, { limit: 64 * 1024 })
          let json: unknown
          try {
            json = JSON.parse(raw.toString('utf8'))
          } catch {
            throw cacheErrors.purgeBadRequest.create('Body must be JSON')
          }
          const purged = await purge(json)
          return respond(200, { purged }, { 'cache-control': 'no-store' })
        })()
      },
    }
  },
})
