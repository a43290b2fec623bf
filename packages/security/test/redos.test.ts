import { describe, expect, it } from 'vitest'
import { loadRuleSet } from '../src/attack-filter/crs.js'
import { compileRuleSet, Transaction } from '../src/seclang/index.js'

/**
 * Bounded inspection: crafted inputs that make backtracking regular expressions run for hours finish in
 * milliseconds, because the engine switches V8 to its linear-time fallback (see `enableLinearRegexFallback`).
 * Without it the first case needs about 2^40 backtracking steps; the suite's timeout is the bound asserted.
 */
describe('ReDoS and cost safety', () => {
  it('a catastrophic pattern in a rule finishes on a crafted input (linear-time fallback)', () => {
    const rules = compileRuleSet(
      [
        {
          name: 'redos.conf',
          text: 'SecRule ARGS "@rx ^(a+)+$" "id:1,phase:2,deny"\nSecRule ARGS "@rx ^(?:a|a)*b" "id:2,phase:2,deny"',
        },
      ],
      { readFile: () => '' },
    )
    const tx = new Transaction(rules)
    tx.processRequestHeaders({
      method: 'GET',
      uri: `/?q=${'a'.repeat(40)}!&r=${'a'.repeat(40)}c`,
      protocol: 'HTTP/1.1',
      headers: [],
      remoteAddr: '127.0.0.1',
    })
    tx.processRequestBody(undefined)
    expect(tx.matched).toEqual([])
  })

  it('CRS at paranoia 4 inspects worst-case arguments, headers, cookies and a 64 KiB JSON body', () => {
    const rules = loadRuleSet({ rules: 'crs', before: '', after: '' })
    const nasty = [
      "'".repeat(4000),
      '('.repeat(4000),
      '/*'.repeat(2000),
      '<'.repeat(4000),
      ' \x0b'.repeat(2000),
      '%'.repeat(4000),
      '\\'.repeat(4000),
      `${'a'.repeat(3000)}=${'b'.repeat(900)}`,
      '${'.repeat(2000),
      `select${' '.repeat(3990)}`,
    ]
    const query = nasty.map((v, i) => `a${i}=${encodeURIComponent(v)}`).join('&')
    const body = JSON.stringify(
      Object.fromEntries(nasty.map((v, i) => [`k${i}${'('.repeat(50)}`, v.repeat(1.6)])),
    )
    const tx = new Transaction(rules)
    for (const [k, v] of [
      ['blocking_paranoia_level', '4'],
      ['detection_paranoia_level', '4'],
    ] as const)
      tx.tx.set(k, v)
    const started = process.cpuUsage()
    tx.processRequestHeaders({
      method: 'POST',
      uri: `/x?${query}`,
      protocol: 'HTTP/1.1',
      headers: [
        ['Host', 'example.com'],
        ['User-Agent', nasty[0]!],
        ['Referer', `http://x/${nasty[1]!}`],
        ['Cookie', nasty.map((v, i) => `c${i}=${v.replaceAll(';', '')}`).join('; ')],
        ['Content-Type', 'application/json'],
        ['Content-Length', String(body.length)],
      ],
      remoteAddr: '127.0.0.1',
    })
    tx.processRequestBody(body)
    const used = process.cpuUsage(started)
    console.log(
      `worst-case request: ${((used.user + used.system) / 1000).toFixed(0)} ms CPU, ${tx.matched.length} rules matched`,
    )
    expect(tx.interruption?.ruleId).toBe(949110)
  }, 120_000)
})
