import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGateway, type DecisionRecord, type Gateway, type Telemetry } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attackFilter } from '../src/index.js'

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0'
const decisions: DecisionRecord[] = []
const logged: Record<string, unknown>[] = []
const telemetry: Telemetry = {
  enabled: true,
  decision: (_ex, d) => decisions.push(d),
  count: () => {},
  observe: () => {},
}
const logger = {
  level: 'debug',
  fatal: () => {},
  error: () => {},
  warn: (obj: unknown) => logged.push(obj as Record<string, unknown>),
  info: () => {},
  debug: () => {},
  trace: () => {},
  child: () => logger,
}

describe('attack-filter (CRS v4) through a real gateway', () => {
  let upstream: FakeUpstream
  let gw: Gateway
  let leak = false

  beforeAll(async () => {
    upstream = await startFakeUpstream((_req, res, recorded) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(
        leak
          ? 'Warning: mysql_fetch_array() expects parameter 1 to be resource, You have an error in your SQL syntax'
          : JSON.stringify({ bytes: recorded.body.length }),
      )
    })
    const rulesDir = mkdtempSync(join(tmpdir(), 'gw-rules-'))
    writeFileSync(
      join(rulesDir, 'custom.conf'),
      'SecRule REQUEST_HEADERS:X-Evil "@streq 1" "id:10001,phase:1,deny,status:403,msg:\'custom rule\'"\n',
    )
    gw = await createGateway({
      logger,
      telemetry,
      upstreams: { api: { url: upstream.url } },
      routes: [
        { path: '/api/*', upstream: 'api', policies: [attackFilter({})] },
        { path: '/report/*', upstream: 'api', policies: [attackFilter({}, { mode: 'report' })] },
        {
          path: '/cms/*',
          upstream: 'api',
          policies: [attackFilter({ exclusions: [{ tags: ['attack-xss'], target: 'ARGS:html' }] })],
        },
        {
          path: '/small/*',
          upstream: 'api',
          policies: [attackFilter({ body: { limit: 4096, overLimit: 'inspect-prefix' } })],
        },
        { path: '/strict/*', upstream: 'api', policies: [attackFilter({ body: { limit: 4096 } })] },
        { path: '/out/*', upstream: 'api', policies: [attackFilter({ response: { enabled: true } })] },
        { path: '/own/*', upstream: 'api', policies: [attackFilter({ rules: rulesDir })] },
      ],
    })
    await gw.listen({ port: 0, host: '127.0.0.1' })
  }, 60_000)

  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { headers: { 'user-agent': UA, accept: 'text/html', ...headers } })
  const post = (path: string, body: string, contentType?: string) =>
    fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { 'user-agent': UA, accept: '*/*', ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    })

  it('lets ordinary requests through', async () => {
    expect((await get('/api/products?page=2&sort=price&q=blue+shoes')).status).toBe(200)
    expect(
      (await post('/api/orders', '{"sku":"A-1","qty":2,"note":"leave at the door"}', 'application/json'))
        .status,
    ).toBe(200)
    expect(
      (await post('/api/search', 'q=running+shoes&size=42', 'application/x-www-form-urlencoded')).status,
    ).toBe(200)
  })

  it('refuses attacks in the query, JSON, form, XML, multipart and Content-Type-less bodies with 403 problem+json', async () => {
    const before = upstream.requests.length
    const attacks: Response[] = [
      await get("/api/items?id=1'%20or%20'1'='1"),
      await get('/api/items?cmd=;cat%20/etc/passwd'),
      await post('/api/c', '{"comment":"<script>alert(document.cookie)</script>"}', 'application/json'),
      await post(
        '/api/c',
        'q=1%20UNION%20SELECT%20password%20FROM%20users--',
        'application/x-www-form-urlencoded',
      ),
      await post('/api/c', '<a><b>../../../../etc/passwd</b></a>', 'application/xml'),
      await post(
        '/api/c',
        '--XX\r\nContent-Disposition: form-data; name="f"\r\n\r\n<script>alert(1)</script>\r\n--XX--\r\n',
        'multipart/form-data; boundary=XX',
      ),
      await post('/api/c', 'x=<script>alert(1)</script>'),
    ]
    for (const res of attacks) {
      expect(res.status).toBe(403)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(((await res.json()) as { code: string }).code).toBe('GW_ERR_ATTACK_DETECTED')
    }
    expect(upstream.requests.length).toBe(before)
  })

  it('records the blocking rule and the matched rules (ids, messages, matched data) in the decision log', async () => {
    decisions.length = 0
    logged.length = 0
    await get('/api/items?q=%3Cscript%3Ealert(1)%3C/script%3E')
    expect(decisions).toContainEqual(
      expect.objectContaining({ policy: 'attack-filter', rule: '949110', key: 'ARGS:q', outcome: 'deny' }),
    )
    const line = logged.find((l) => l.policy === 'attack-filter') as {
      matches: { rule: string; data?: string }[]
    }
    expect(line.matches.map((m) => m.rule)).toContain('941100')
    expect(line.matches.find((m) => m.rule === '941100')?.data).toContain('<script>')
  })

  it('report mode lets the attack through and still records it', async () => {
    decisions.length = 0
    const res = await get('/report/items?q=%3Cscript%3Ealert(1)%3C/script%3E')
    expect(res.status).toBe(200)
    expect(
      decisions.some((d) => d.policy === 'attack-filter' && d.outcome === 'report' && d.rule === '949110'),
    ).toBe(true)
  })

  it('per-route exclusions remove a target from tagged rules only for that route', async () => {
    expect((await get('/cms/page?html=%3Cscript%3Ealert(1)%3C/script%3E')).status).toBe(200)
    expect((await get('/cms/page?title=%3Cscript%3Ealert(1)%3C/script%3E')).status).toBe(403)
    expect((await get('/api/page?html=%3Cscript%3Ealert(1)%3C/script%3E')).status).toBe(403)
  })

  it('body limit: reject answers 413; inspect-prefix inspects the first bytes and forwards the whole body', async () => {
    const big = `a=${'x'.repeat(10_000)}`
    expect((await post('/strict/x', big, 'application/x-www-form-urlencoded')).status).toBe(413)
    const forwarded = await post('/small/x', big, 'application/x-www-form-urlencoded')
    expect(forwarded.status).toBe(200)
    expect(((await forwarded.json()) as { bytes: number }).bytes).toBe(big.length)
    const attackInPrefix = `q=%3Cscript%3Ealert(1)%3C/script%3E&${big}`
    expect((await post('/small/x', attackInPrefix, 'application/x-www-form-urlencoded')).status).toBe(403)
  })

  it('refuses a malformed JSON body with 400 (it cannot be inspected)', async () => {
    const res = await post('/api/x', '{"a":', 'application/json')
    expect(res.status).toBe(400)
    expect(((await res.json()) as { code: string }).code).toBe('GW_ERR_UNPARSABLE_BODY')
  })

  it('response inspection (opt-in) refuses a response that leaks SQL errors', async () => {
    leak = true
    try {
      const res = await get('/out/x')
      expect(res.status).toBe(403)
      expect(((await res.json()) as { code: string }).code).toBe('GW_ERR_RESPONSE_BLOCKED')
      expect((await get('/api/x')).status).toBe(200)
    } finally {
      leak = false
    }
  })

  it('runs a rules directory the user provides', async () => {
    expect((await get('/own/x', { 'x-evil': '1' })).status).toBe(403)
    expect((await get('/own/x?q=%3Cscript%3E')).status).toBe(200)
  })

  it('refuses to start on an unsupported directive, naming the file and line', async () => {
    await expect(
      createGateway({
        upstreams: { api: { url: upstream.url } },
        routes: [
          {
            path: '/*',
            upstream: 'api',
            policies: [attackFilter({ directives: { after: '\nSecFrobnicate On' } })],
          },
        ],
      }),
    ).rejects.toMatchObject({
      code: 'GW_ERR_CONFIG',
      message: expect.stringContaining('directives.after>:2: unsupported directive SecFrobnicate'),
    })
  })
})
