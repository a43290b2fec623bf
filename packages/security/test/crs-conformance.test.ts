import { readFileSync, writeFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { createGateway, definePolicy, type Gateway, z } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { attackFilter, attackMatchesKey } from '../src/index.js'
import type { MatchedRule } from '../src/seclang/index.js'
import {
  checkOutput,
  type FtwOutput,
  type FtwTest,
  loadTests,
  logText,
  requestBytes,
  sharedCrsDir,
} from './crs-conformance/ftw.js'

/**
 * CRS's own regression tests (go-ftw YAML, `../shared/crs/tests`) sent as raw bytes over real sockets through a
 * real gateway running `attack-filter` with the CRS test set-up (paranoia 4, DetectionOnly, the 900005 action of
 * CRS's regression README, response inspection on). A test passes when the logged rule ids, the log text and
 * the status match its expectations. Skips are listed with reasons in `crs-conformance/overrides.yaml`.
 */

const crs = sharedCrsDir()
if (!crs && process.env.CI === 'true')
  throw new Error('../shared/crs is missing: the CRS conformance suite cannot run')

const SETUP = `SecAction "id:900005,phase:1,nolog,pass,ctl:ruleEngine=DetectionOnly,ctl:ruleRemoveById=910000,\\
setvar:tx.blocking_paranoia_level=4,setvar:tx.crs_validate_utf8_encoding=1,setvar:tx.arg_name_length=100,\\
setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,setvar:tx.max_num_args=255,setvar:tx.max_file_size=64100,\\
setvar:tx.combined_file_sizes=65535"`

interface Override {
  rule_id: number
  test_ids: number[]
  reason: string
  output?: FtwOutput
}

const { skips, overrides } = parse(
  readFileSync(new URL('./crs-conformance/overrides.yaml', import.meta.url), 'utf8'),
) as { skips: Override[]; overrides: Override[] }

const find = (list: Override[], t: FtwTest) =>
  list.find((o) => o.rule_id === t.ruleId && o.test_ids.includes(t.testId))

const byPort = new Map<number, readonly MatchedRule[]>()
const recorder = definePolicy({
  name: 'crs-test-recorder',
  stage: 'observe',
  schema: z.object({}),
  create: () => ({
    onComplete(ex) {
      const port = (ex.request.body as IncomingMessage).socket?.remotePort
      if (port !== undefined) byPort.set(port, ex.get(attackMatchesKey) ?? [])
    },
  }),
})

interface Sent {
  status: number | undefined
  body: string
  port: number | undefined
}

function send(port: number, bytes: Buffer, timeoutMs = 5000): Promise<Sent> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let data = Buffer.alloc(0)
    let localPort: number | undefined
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      const text = data.toString('latin1')
      const m = /^HTTP\/\d\.\d (\d{3})/.exec(text)
      const sep = text.indexOf('\r\n\r\n')
      resolve({
        status: m ? Number(m[1]) : undefined,
        body: sep === -1 ? '' : text.slice(sep + 4),
        port: localPort,
      })
    }
    socket.on('connect', () => {
      localPort = socket.localPort
      socket.write(bytes)
    })
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk])
      if (complete(data)) finish()
    })
    socket.on('end', finish)
    socket.on('close', finish)
    socket.on('error', finish)
    const timer = setTimeout(finish, timeoutMs)
  })
}

function complete(data: Buffer): boolean {
  const text = data.toString('latin1')
  const sep = text.indexOf('\r\n\r\n')
  if (sep === -1) return false
  const head = text.slice(0, sep).toLowerCase()
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head)
  if (length) return data.length - (sep + 4) >= Number(length[1])
  if (/\r\ntransfer-encoding:\s*chunked/.test(head)) return text.endsWith('0\r\n\r\n')
  return /^http\/1\.1 (?:1\d\d|204|304)/.test(head)
}

async function waitForRecord(port: number | undefined): Promise<readonly MatchedRule[] | undefined> {
  if (port === undefined) return undefined
  for (let i = 0; i < 40; i++) {
    const hit = byPort.get(port)
    if (hit) {
      byPort.delete(port)
      return hit
    }
    await new Promise((r) => setTimeout(r, i < 10 ? 1 : 10))
  }
  return undefined
}

describe.skipIf(!crs)('CRS regression tests (go-ftw) through a real gateway', () => {
  let upstream: FakeUpstream
  let gw: Gateway
  let port: number

  beforeAll(async () => {
    upstream = await startFakeUpstream((req, res, recorded) => {
      if (req.url?.startsWith('/reflect')) {
        let spec: { status?: number; headers?: Record<string, string>; body?: string; encodedBody?: string } =
          {}
        try {
          spec = JSON.parse(recorded.body.toString('utf8'))
        } catch {}
        const body =
          spec.encodedBody !== undefined
            ? Buffer.from(spec.encodedBody, 'base64')
            : Buffer.from(spec.body ?? '', 'utf8')
        res.writeHead(spec.status ?? 200, {
          'content-type': 'text/plain; charset=utf-8',
          ...(spec.headers ?? {}),
        })
        res.end(body)
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
    gw = await createGateway({
      upstreams: { albedo: { url: upstream.url } },
      policies: [
        recorder({}),
        attackFilter({ paranoia: 4, directives: { before: SETUP }, response: { enabled: true } }),
      ],
      routes: [{ path: '/*', upstream: 'albedo' }],
    })
    port = (await gw.listen({ port: 0, host: '127.0.0.1' })).port
  }, 60_000)

  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('passes at least 98 % of the tests (per-file report; skips listed with reasons)', async () => {
    const only = process.env.CRS_ONLY?.split(',')
    const all = loadTests(`${crs}/tests`)
    expect(all.length).toBeGreaterThan(2000)
    const tests = only
      ? all.filter((t) => only.includes(`${t.ruleId}-${t.testId}`) || only.includes(String(t.ruleId)))
      : all
    const perFile = new Map<string, { pass: number; fail: number; skip: number }>()
    const failures: string[] = []
    const skipped: string[] = []
    const overridden: string[] = []
    const queue = tests.slice()
    const worker = async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const stat = perFile.get(t.file) ?? { pass: 0, fail: 0, skip: 0 }
        perFile.set(t.file, stat)
        const skip = find(skips, t)
        if (skip) {
          stat.skip++
          skipped.push(`${t.ruleId}-${t.testId}: ${skip.reason}`)
          continue
        }
        const override = find(overrides, t)
        if (override) overridden.push(`${t.ruleId}-${t.testId}: ${override.reason}`)
        let problems: string[] = []
        for (const stage of t.stages) {
          for (let attempt = 0; attempt < (stage.output.retry_once ? 2 : 1); attempt++) {
            const sent = await send(port, requestBytes(stage.input))
            const matches = (await waitForRecord(sent.port)) ?? []
            const ids = new Set(matches.map((m) => m.id))
            problems = checkOutput(override?.output ?? stage.output, {
              status: sent.status,
              ids,
              log: logText(matches),
              body: sent.body,
            })
            if (only && problems.length > 0)
              console.log(
                t.ruleId,
                t.testId,
                sent.status,
                JSON.stringify(requestBytes(stage.input).toString('latin1').slice(0, 600)),
                matches.map((m) => `${m.id} ${m.target} ${m.data}`),
              )
            if (problems.length === 0) break
          }
          if (problems.length > 0) break
        }
        if (problems.length === 0) stat.pass++
        else {
          stat.fail++
          failures.push(
            `${t.ruleId}-${t.testId} (${t.desc.slice(0, 80).replace(/\n/g, ' ')}): ${problems.join('; ')}`,
          )
        }
      }
    }
    await Promise.all([worker(), worker(), worker(), worker()])
    let pass = 0
    let fail = 0
    let skip = 0
    const lines = ['| file | passed | failed | skipped | pass rate |', '| --- | --- | --- | --- | --- |']
    for (const [file, s] of [...perFile].sort()) {
      pass += s.pass
      fail += s.fail
      skip += s.skip
      lines.push(
        `| ${file} | ${s.pass} | ${s.fail} | ${s.skip} | ${((100 * s.pass) / Math.max(1, s.pass + s.fail)).toFixed(1)} % |`,
      )
    }
    const rate = (100 * pass) / (pass + fail)
    lines.push(`| **total** | ${pass} | ${fail} | ${skip} | ${rate.toFixed(2)} % |`)
    const report = [
      lines.join('\n'),
      '',
      `Failed (${failures.length}):`,
      ...failures.sort().map((f) => `- ${f}`),
      '',
      `Skipped (${skipped.length}):`,
      ...skipped.sort().map((s) => `- ${s}`),
      '',
      `Expected output replaced (${overridden.length}):`,
      ...overridden.sort().map((s) => `- ${s}`),
    ].join('\n')
    console.log(report)
    if (process.env.CRS_REPORT) writeFileSync(process.env.CRS_REPORT, `${report}\n`)
    if (!only) expect(rate).toBeGreaterThanOrEqual(98)
  }, 600_000)
})
