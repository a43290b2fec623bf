import { definePolicy, respond, z } from '@gw/core'
import { runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { buildSecurityHeaders, securityHeaders, securityHeadersSchema } from './index.js'

const deny401 = definePolicy({
  name: 'deny-401',
  stage: 'authn',
  schema: z.object({}),
  create: () => ({ onRequest: () => respond(401, { error: 'no' }) }),
})

describe('security-headers', () => {
  it('sends the seed helmet settings with current-guidance defaults', async () => {
    const res = await runPipeline([securityHeaders()], { url: '/' })
    expect(res.headers).toMatchObject({
      'content-security-policy':
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
      'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-xss-protection': '0',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
      'x-dns-prefetch-control': 'off',
      'x-permitted-cross-domain-policies': 'none',
    })
    expect(res.headers['cross-origin-embedder-policy']).toBeUndefined()
  })

  it('removes implementation-revealing upstream headers', async () => {
    const res = await runPipeline([securityHeaders()], undefined, {
      upstream: {
        status: 200,
        headers: { server: 'nginx/1.25.3', 'x-powered-by': 'Express', etag: '"1"' },
        body: 'ok',
      },
    })
    expect(res.headers.server).toBeUndefined()
    expect(res.headers['x-powered-by']).toBeUndefined()
    expect(res.headers.etag).toBe('"1"')
  })

  it('decorates local error replies of later policies (401)', async () => {
    const res = await runPipeline([securityHeaders(), deny401()])
    expect(res.status).toBe(401)
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['strict-transport-security']).toContain('max-age=')
  })

  it('keeps upstream values when overwrite is false, replaces them otherwise', async () => {
    const upstream = { status: 200, headers: { 'x-frame-options': 'SAMEORIGIN' }, body: 'x' }
    const kept = await runPipeline([securityHeaders({ overwrite: false })], undefined, { upstream })
    expect(kept.headers['x-frame-options']).toBe('SAMEORIGIN')
    const replaced = await runPipeline([securityHeaders()], undefined, {
      upstream: { ...upstream, headers: { ...upstream.headers } },
    })
    expect(replaced.headers['x-frame-options']).toBe('DENY')
  })

  it('builds configured directives (camelCase names, valueless directives, report-only) and omits disabled ones', () => {
    const headers = new Map(
      buildSecurityHeaders(
        securityHeadersSchema.parse({
          contentSecurityPolicy: {
            directives: { defaultSrc: ["'none'"], upgradeInsecureRequests: true, scriptSrc: false },
            reportOnly: true,
          },
          hsts: { maxAge: 600, includeSubDomains: false, preload: false },
          frameguard: false,
          xssProtection: false,
          referrerPolicy: ['no-referrer', 'strict-origin-when-cross-origin'],
          permissionsPolicy: { geolocation: ['self', 'https://maps.example.com'], fullscreen: ['*'] },
          crossOriginEmbedderPolicy: 'require-corp',
        }),
      ),
    )
    expect(headers.get('content-security-policy-report-only')).toBe(
      "default-src 'none'; upgrade-insecure-requests",
    )
    expect(headers.has('content-security-policy')).toBe(false)
    expect(headers.get('strict-transport-security')).toBe('max-age=600')
    expect(headers.has('x-frame-options')).toBe(false)
    expect(headers.has('x-xss-protection')).toBe(false)
    expect(headers.get('referrer-policy')).toBe('no-referrer, strict-origin-when-cross-origin')
    expect(headers.get('permissions-policy')).toBe(
      'geolocation=(self "https://maps.example.com"), fullscreen=(*)',
    )
    expect(headers.get('cross-origin-embedder-policy')).toBe('require-corp')
  })

  it('rejects invalid options at start-up', () => {
    expect(() => securityHeaders({ hsts: { maxAge: 600, preload: true } })).toThrow(/preload requires/)
    expect(() => securityHeaders({ frameguard: 'allow-from' as never })).toThrow(
      /GW_ERR_CONFIG|invalid options/,
    )
    expect(() =>
      buildSecurityHeaders(
        securityHeadersSchema.parse({
          contentSecurityPolicy: { directives: { 'script-src': ["'self'; x"] } },
        }),
      ),
    ).toThrow(/invalid CSP source/)
  })
})
