import type { DecisionRecord, Telemetry } from '@gw/core'
import { runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import {
  ATTACK_RULES,
  attackFilter,
  createAttackEngine,
  normalize,
  percentDecode,
  scanBody,
} from './index.js'

function telemetry(): Telemetry & { records: DecisionRecord[]; counts: string[] } {
  const records: DecisionRecord[] = []
  const counts: string[] = []
  return {
    enabled: true,
    records,
    counts,
    decision: (_e, r) => records.push(r),
    count: (name, _v, labels) => counts.push(`${name}:${labels?.rule}`),
    observe() {},
  }
}

describe('normalize', () => {
  it('decodes repeated percent-encoding, %u, overlong slashes, entities, full-width forms, comments', () => {
    expect(percentDecode('%252e%252e%252f', 3)).toBe('../')
    expect(percentDecode('%252e', 1)).toBe('%2e')
    expect(normalize('%u003cscript%u003e', false)).toBe('<script>')
    expect(normalize('..%c0%af..%c0%afetc', false)).toBe('../../etc')
    expect(normalize('&#x3c;img&#62; &lt;b&gt; &colon;', false)).toBe('<img> <b> :')
    expect(normalize('ＳＥＬＥＣＴ', false)).toBe('select')
    expect(normalize('UNION/**/SELECT /*!50000UNION*/', false)).toBe('union select union ')
    expect(normalize('a+b%2Bc', true)).toBe('a b+c')
    expect(normalize('a\\b\0c   d', false)).toBe('a/bc d')
  })
})

describe('attack engine', () => {
  const engine = createAttackEngine({ paranoia: 1 })

  it('every rule has a unique id, and level 1 has rules for every category', () => {
    const ids = ATTACK_RULES.map((r) => r.id)
    expect(new Set(ids).size).toBe(ids.length)
    const categories = new Set(ATTACK_RULES.filter((r) => r.paranoia === 1).map((r) => r.category))
    expect([...categories].sort()).toEqual(
      [
        'command-injection',
        'path-traversal',
        'protocol',
        'remote-file-inclusion',
        'scanner',
        'sqli',
        'xss',
      ].sort(),
    )
  })

  it.each([
    ["' OR '1'='1", 'sqli-tautology'],
    ['1 UNION SELECT password FROM users', 'sqli-union-select'],
    ['<svg onload=alert(1)>', 'xss-event-handler'],
    ['%253Cscript%253E', 'xss-script-tag'],
    ['....//....//etc/passwd', 'lfi-dot-dot-slash'],
    ['; cat /etc/passwd', 'cmdi-separator-command'],
    [`$${'{'}jndi:ldap://x/a}`, 'cmdi-jndi-lookup'],
    ['php://filter/resource=index.php', 'rfi-wrapper'],
    ['x%0d%0aSet-Cookie: a=1', 'protocol-crlf-injection'],
    ['file%00.jpg', 'protocol-control-bytes'],
  ])('detects %s as %s', (payload, rule) => {
    expect(engine.scanArg(payload, 'query:q', true)?.rule.id).toBe(rule)
  })

  it.each([
    "O'Reilly",
    'Tom & Jerry',
    'select the best laptop',
    'rock; and roll',
    'a < b',
    'https://example.com/x?y=1',
    'javascript: the good parts',
  ])('lets %s through', (value) => {
    expect(engine.scanArg(value, 'query:q', true)).toBeUndefined()
  })

  it('caches only clean results: a repeated value is still caught after a clean one', () => {
    const e = createAttackEngine({ paranoia: 1 })
    expect(e.scanArg('/api/items', 'path', false)).toBeUndefined()
    expect(e.scanArg('/api/items', 'path', false)).toBeUndefined()
    expect(e.scanArg("' or 1=1--", 'query:q', true)?.rule.id).toBe('sqli-tautology')
    expect(e.scanArg("' or 1=1--", 'query:q', true)?.rule.id).toBe('sqli-tautology')
    expect(e.scanArg('a+b', 'query:q', false)).toBeUndefined()
    expect(e.scanArg('%27+or+1%3D1--', 'query:q', true)?.rule.id).toBe('sqli-tautology')
    expect(e.scanUserAgent('sqlmap/1.7')?.rule.id).toBe('scanner-user-agent')
    expect(e.scanUserAgent('sqlmap/1.7')?.rule.id).toBe('scanner-user-agent')
  })

  it('skips rules listed in disabledRules and rejects unknown ids', () => {
    const relaxed = createAttackEngine({
      paranoia: 1,
      disabledRules: ['sqli-tautology', 'sqli-comment-terminator'],
    })
    expect(relaxed.scanArg("' or 'a'='a", 'q', true)).toBeUndefined()
    expect(() => createAttackEngine({ paranoia: 1, disabledRules: ['nope'] })).toThrow(/unknown rule id/)
  })

  it('higher paranoia levels add rules', () => {
    expect(engine.scanArg('select name from users', 'q', true)).toBeUndefined()
    expect(createAttackEngine({ paranoia: 2 }).scanArg('select name from users', 'q', true)?.rule.id).toBe(
      'sqli-keyword-chain',
    )
  })

  it('scans JSON bodies field by field with JSON Pointer locations, and form bodies by field', () => {
    const hit = scanBody(engine, Buffer.from('{"items":[{"note":"<script>x</script>"}]}'), 'application/json')
    expect(hit?.location).toBe('body:/items/0/note')
    expect(
      scanBody(engine, Buffer.from('a=1&b=%27+or+1%3D1--'), 'application/x-www-form-urlencoded')?.location,
    ).toBe('form:b')
    expect(scanBody(engine, Buffer.from('{"ok":"fine"}'), 'application/json')).toBeUndefined()
  })
})

describe('attack-filter policy', () => {
  it('blocks with 403 and records rule id and location', async () => {
    const t = telemetry()
    const res = await runPipeline(
      [attackFilter()],
      { url: '/api/items?id=1%27%20OR%201%3D1--' },
      { telemetry: t },
    )
    expect(res.status).toBe(403)
    expect(res.json<{ code: string; detail: string }>()).toMatchObject({ code: 'GW_ERR_ATTACK_DETECTED' })
    expect(res.text).not.toContain('sqli')
    expect(res.upstreamCalls).toBe(0)
    expect(t.records[0]).toEqual({
      policy: 'attack-filter',
      rule: 'sqli-tautology',
      key: 'query:id',
      outcome: 'deny',
      reason: 'sqli',
    })
    expect(t.counts).toEqual(['gw_security_attack_matches_total:sqli-tautology'])
  })

  it('inspects the path, configured headers, cookies and the scanner list', async () => {
    expect((await runPipeline([attackFilter()], { url: '/static/..%252f..%252fetc/passwd' })).status).toBe(
      403,
    )
    expect((await runPipeline([attackFilter()], { headers: { 'user-agent': 'sqlmap/1.7' } })).status).toBe(
      403,
    )
    expect(
      (await runPipeline([attackFilter()], { headers: { cookie: 'a=1; b=<script>x</script>' } })).status,
    ).toBe(403)
    expect((await runPipeline([attackFilter()], { headers: { 'x-custom': '<script>' } })).status).toBe(200)
    expect(
      (await runPipeline([attackFilter({ headers: ['x-custom'] })], { headers: { 'x-custom': '<script>' } }))
        .status,
    ).toBe(403)
    expect((await runPipeline([attackFilter({ inspectQuery: false })], { url: '/?q=<script>' })).status).toBe(
      200,
    )
  })

  it('inspects bodies only when enabled, within the size cap', async () => {
    const post = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"q":"\' or 1=1--"}',
    }
    expect((await runPipeline([attackFilter()], post)).status).toBe(200)
    const enabled = await runPipeline([attackFilter({ body: { enabled: true } })], post, {
      upstream: (ex) => ({ status: 200, headers: {}, body: ex.bufferedBody ?? null }),
    })
    expect(enabled.status).toBe(403)
    const clean = await runPipeline(
      [attackFilter({ body: { enabled: true } })],
      { ...post, body: '{"q":"hello"}' },
      {
        upstream: (ex) => ({ status: 200, headers: {}, body: ex.bufferedBody ?? null }),
      },
    )
    expect(clean.text).toBe('{"q":"hello"}')
    const big = { ...post, body: JSON.stringify({ q: 'x'.repeat(200) }) }
    expect((await runPipeline([attackFilter({ body: { enabled: true, maxBytes: 100 } })], big)).status).toBe(
      413,
    )
    expect(
      (await runPipeline([attackFilter({ body: { enabled: true, maxBytes: 100, oversize: 'skip' } })], big))
        .status,
    ).toBe(200)
    expect(
      (
        await runPipeline([attackFilter({ body: { enabled: true } })], {
          ...post,
          headers: { 'content-type': 'image/png' },
        })
      ).status,
    ).toBe(200)
  })

  it('report mode lets the request through and records a report decision', async () => {
    const t = telemetry()
    const res = await runPipeline(
      [attackFilter({}, { mode: 'report' })],
      { url: '/?q=<script>alert(1)</script>' },
      {
        telemetry: t,
      },
    )
    expect(res.status).toBe(200)
    expect(res.upstreamCalls).toBe(1)
    expect(t.records[0]).toMatchObject({ rule: 'xss-script-tag', outcome: 'report', key: 'query:q' })
  })
})
