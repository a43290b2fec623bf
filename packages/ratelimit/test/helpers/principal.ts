import { definePolicy, principalKey, z } from '@gw/core'

/** A stand-in authentication policy for tests: the `x-user` header becomes the principal. */
export const requirePrincipal = definePolicy({
  name: 'test-principal',
  stage: 'authn',
  schema: z.object({}).strict(),
  state: () => ({ provides: [principalKey] }),
  create: () => ({
    onRequest(ex) {
      const user = ex.request.headers['x-user']
      if (typeof user === 'string')
        ex.set(principalKey, { subject: user, scopes: [], claims: {}, method: 'test' })
    },
  }),
})
