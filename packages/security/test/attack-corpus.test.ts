import type { PolicyEntry } from '@gw/core'
import { createTestPipeline } from '@gw/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attackFilter } from '../src/attack-filter/index.js'
import { type CorpusEntry, loadCorpus } from './corpus/load.js'

const attacks = loadCorpus('attacks')
const benign = loadCorpus('benign')

async function blockedBy(policy: PolicyEntry, entries: CorpusEntry[]): Promise<CorpusEntry[]> {
  const pipeline = await createTestPipeline([policy])
  const blocked: CorpusEntry[] = []
  try {
    for (const entry of entries) {
      const request: Parameters<typeof pipeline.run>[0] = { method: entry.method, url: entry.url }
      if (entry.headers) request.headers = { ...entry.headers }
      if (entry.body !== undefined) request.body = entry.body
      const res = await pipeline.run(request)
      if (res.status === 403) blocked.push(entry)
      else expect(res.status).toBe(200)
    }
  } finally {
    await pipeline.close()
  }
  return blocked
}

const rates: Record<string, { detection: number; falsePositives: number }> = {}

describe('attack-filter against the bundled corpus', () => {
  beforeAll(() => {
    expect(attacks.length).toBeGreaterThan(150)
    expect(benign.length).toBeGreaterThan(300)
  })

  for (const paranoia of [1, 2, 3] as const) {
    it(`paranoia ${paranoia}: detection and false-positive rates`, async () => {
      const policy = attackFilter({ paranoia, body: { enabled: true } })
      const caught = await blockedBy(policy, attacks)
      const misfired = await blockedBy(attackFilter({ paranoia, body: { enabled: true } }), benign)
      const detection = caught.length / attacks.length
      const falsePositives = misfired.length / benign.length
      rates[`paranoia ${paranoia}`] = { detection, falsePositives }
      if (process.env.CORPUS_REPORT === '1') {
        const missed = attacks.filter((a) => !caught.includes(a))
        console.log(
          `paranoia ${paranoia} missed:`,
          missed.map((m) => `${m.category} ${m.url} ${JSON.stringify(m.headers ?? {})}`),
        )
        console.log(
          `paranoia ${paranoia} false positives:`,
          misfired.map((m) => `${m.url} ${JSON.stringify(m.headers ?? {})} ${m.body ?? ''}`),
        )
      }
      if (paranoia === 1) {
        expect(detection).toBeGreaterThanOrEqual(0.9)
        expect(falsePositives).toBeLessThanOrEqual(0.01)
      }
      expect(detection).toBeGreaterThanOrEqual(rates['paranoia 1']!.detection)
    })
  }

  it('detects every attack category at paranoia 1', async () => {
    const caught = await blockedBy(attackFilter({ body: { enabled: true } }), attacks)
    const byCategory = new Map<string, [number, number]>()
    for (const a of attacks) {
      const c = byCategory.get(a.category!) ?? [0, 0]
      c[1]++
      if (caught.includes(a)) c[0]++
      byCategory.set(a.category!, c)
    }
    for (const [category, [hit, total]] of byCategory) {
      if (process.env.CORPUS_REPORT === '1') console.log(`${category}: ${hit}/${total}`)
      expect(hit / total, category).toBeGreaterThanOrEqual(0.8)
    }
  })

  it('held-out corpus (never used to tune the rules): paranoia 1 rates as documented in the README', async () => {
    const heldAttacks = loadCorpus('holdout-attacks')
    const heldBenign = loadCorpus('holdout-benign')
    const caught = await blockedBy(attackFilter({ body: { enabled: true } }), heldAttacks)
    const misfired = await blockedBy(attackFilter({ body: { enabled: true } }), heldBenign)
    if (process.env.CORPUS_REPORT === '1')
      console.log(
        'held-out',
        caught.length,
        heldAttacks.length,
        misfired.map((m) => m.url),
      )
    expect(caught.length / heldAttacks.length).toBeGreaterThanOrEqual(0.95)
    expect(misfired.length / heldBenign.length).toBeLessThanOrEqual(0.05)
    for (const m of misfired) expect(m.url.startsWith('/api/search?q=')).toBe(true)
  })

  afterAll(() => {
    if (process.env.CORPUS_REPORT === '1') console.log(JSON.stringify(rates, null, 2))
  })
})
