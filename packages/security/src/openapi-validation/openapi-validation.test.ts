import { runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { openapiValidation } from './index.js'

const document = {
  openapi: '3.0.3',
  info: { title: 'orders', version: '1' },
  paths: {
    '/orders': {
      get: {
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
          { name: 'status', in: 'query', schema: { type: 'array', items: { enum: ['open', 'paid'] } } },
          { name: 'X-Tenant', in: 'header', required: true, schema: { type: 'string', pattern: '^[a-z]+$' } },
        ],
      },
      post: {
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/NewOrder' } } },
        },
      },
    },
    '/orders/{id}': {
      parameters: [{ $ref: '#/components/parameters/OrderId' }],
      get: {},
      delete: {},
    },
  },
  components: {
    parameters: {
      OrderId: { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
    },
    schemas: {
      NewOrder: {
        type: 'object',
        required: ['sku', 'qty'],
        properties: {
          sku: { type: 'string' },
          qty: { type: 'integer', minimum: 1 },
          note: { type: 'string', nullable: true },
        },
      },
    },
  },
}

type Problem = { code: string; errors?: Array<{ path: string; message: string }> }
const policy = (extra: Record<string, unknown> = {}) => [
  openapiValidation({ document, pathPrefix: '/api', ...extra }),
]

describe('openapi-validation', () => {
  it('accepts requests that match the document, coercing parameter strings to their types', async () => {
    const res = await runPipeline(policy(), {
      url: '/api/orders?limit=10&status=open&status=paid',
      headers: { 'x-tenant': 'acme' },
    })
    expect(res.status).toBe(200)
    expect((await runPipeline(policy(), { url: '/api/orders/42' })).status).toBe(200)
  })

  it('rejects invalid parameters with 400 and lists each failing location', async () => {
    const res = await runPipeline(policy(), { url: '/api/orders?limit=500&status=lost' })
    expect(res.status).toBe(400)
    const problem = res.json<Problem>()
    expect(problem.code).toBe('GW_ERR_INVALID_REQUEST')
    expect(problem.errors?.map((e) => e.path).sort()).toEqual([
      'header/x-tenant',
      'query/limit',
      'query/status/0',
    ])
    expect((await runPipeline(policy(), { url: '/api/orders/abc' })).json<Problem>().errors?.[0]?.path).toBe(
      'path/id',
    )
    expect((await runPipeline(policy(), { url: '/api/orders/0' })).status).toBe(400)
  })

  it('validates JSON bodies through $refs; malformed JSON is 400, a missing required body 400, non-JSON 415', async () => {
    const post = (body: string | undefined, type = 'application/json') =>
      runPipeline(policy(), {
        method: 'POST',
        url: '/api/orders',
        ...(body === undefined ? {} : { body, headers: { 'content-type': type } }),
      })
    expect((await post('{"sku":"A","qty":1,"note":null}')).status).toBe(200)
    const invalid = await post('{"qty":0}')
    expect(invalid.status).toBe(400)
    expect(
      invalid
        .json<Problem>()
        .errors?.map((e) => e.path)
        .sort(),
    ).toEqual(['body/qty', 'body/sku'])
    expect((await post('{"sku":')).json<Problem>().code).toBe('GW_ERR_MALFORMED_JSON')
    expect((await post(undefined)).status).toBe(400)
    expect((await post('sku=A', 'application/x-www-form-urlencoded')).status).toBe(415)
  })

  it('answers undescribed operations with 404, or 405 with Allow for a known path; allow mode passes them', async () => {
    const unknown = await runPipeline(policy(), { url: '/api/customers' })
    expect(unknown.status).toBe(404)
    expect(unknown.json<Problem>().code).toBe('GW_ERR_UNKNOWN_OPERATION')
    const method = await runPipeline(policy(), { method: 'PUT', url: '/api/orders/1' })
    expect(method.status).toBe(405)
    expect(method.headers.allow).toBe('GET, DELETE')
    expect(
      (await runPipeline(policy({ unknownOperations: 'allow' }), { url: '/api/customers' })).status,
    ).toBe(200)
  })

  it('rejects documents that are not OpenAPI 3 and unresolvable refs at start-up', async () => {
    expect(() => openapiValidation({ document: { swagger: '2.0' } })).toThrow(/OpenAPI 3/)
    await expect(
      runPipeline([
        openapiValidation({ document: { openapi: '3.1.0', paths: { '/x': { $ref: '#/nope' } } } }),
      ]),
    ).rejects.toThrow(/unresolved \$ref/)
  })
})
