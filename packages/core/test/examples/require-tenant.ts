import { createStateKey, defineErrors, definePolicy, z } from '../../src/index.js'

/** State other policies can read: the tenant of the request. */
export const tenantKey = createStateKey<string>('example.tenant')

/** The policy's error catalogue (one per package, in errors.ts). */
export const tenantErrors = defineErrors({
  missing: { code: 'GW_ERR_TENANT_MISSING', status: 400, title: 'Tenant required' },
  unknown: { code: 'GW_ERR_TENANT_UNKNOWN', status: 403, title: 'Unknown tenant' },
})

/** Options: every field described, defaults in the schema. */
export const requireTenantSchema = z
  .object({
    header: z.string().toLowerCase().default('x-tenant').describe('Request header that names the tenant.'),
    tenants: z.array(z.string().min(1)).nonempty().describe('Tenants allowed through.'),
  })
  .strict()

/**
 * Requires a known tenant in a header and publishes it as `tenantKey` state.
 *
 * @example
 * ```ts
 * createGateway({ policies: [requireTenant({ tenants: ['acme', 'globex'] })], routes })
 * ```
 */
export const requireTenant = definePolicy({
  name: 'require-tenant',
  stage: 'guard',
  schema: requireTenantSchema,
  state: () => ({ provides: [tenantKey] }),
  create({ header, tenants }) {
    const allowed = new Set(tenants)
    return {
      onRequest(ex) {
        const tenant = ex.request.headers[header]
        if (typeof tenant !== 'string' || tenant === '') {
          throw tenantErrors.missing.create(`Send the tenant in the ${header} header`, {
            decision: { reason: 'missing-tenant' },
          })
        }
        if (!allowed.has(tenant)) {
          throw tenantErrors.unknown.create(`Tenant '${tenant}' is not served here`, {
            decision: { rule: 'tenants', key: tenant, reason: 'unknown-tenant' },
          })
        }
        ex.set(tenantKey, tenant)
      },
      onResponse(ex, res) {
        const tenant = ex.get(tenantKey)
        if (tenant !== undefined) res.headers['x-served-tenant'] = tenant
      },
    }
  },
})
