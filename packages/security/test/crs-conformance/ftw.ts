import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

/** One go-ftw stage input (the fields CRS's tests use). */
export interface FtwInput {
  dest_addr?: string
  port?: number
  method?: string
  uri?: string
  version?: string
  headers?: Record<string, string | number>
  data?: string
  encoded_request?: string
  raw_request?: string
  autocomplete_headers?: boolean
  stop_magic?: boolean
}

/** One go-ftw stage output. */
export interface FtwOutput {
  status?: number | number[]
  log?: {
    expect_ids?: number[]
    no_expect_ids?: number[]
    match_regex?: string
    no_match_regex?: string
  }
  response_contains?: string
  expect_error?: boolean
  retry_once?: boolean
}

/** One test case. */
export interface FtwTest {
  file: string
  ruleId: number
  testId: number
  desc: string
  stages: { input: FtwInput; output: FtwOutput }[]
}

/** Finds `<repo>/../shared/crs` from this file (the repository is `/work/main` or a clone beside `shared`). */
export function sharedCrsDir(): string | undefined {
  let dir = new URL('.', import.meta.url).pathname
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, '..', 'shared', 'crs')
    if (existsSync(join(candidate, 'tests'))) return candidate
    dir = join(dir, '..')
  }
  return undefined
}

/** Loads every go-ftw YAML test under `dir` (one folder per rule file). */
export function loadTests(dir: string): FtwTest[] {
  const out: FtwTest[] = []
  for (const folder of readdirSync(dir).sort()) {
    const path = join(dir, folder)
    if (!existsSync(path) || !folder.match(/^(REQUEST|RESPONSE)-/)) continue
    for (const file of readdirSync(path).sort()) {
      if (!/\.ya?ml$/.test(file)) continue
      const doc = parse(readFileSync(join(path, file), 'utf8')) as {
        rule_id?: number
        tests?: { test_id: number; desc?: string; stages: { input: FtwInput; output: FtwOutput }[] }[]
      } | null
      if (!doc?.tests) continue
      for (const t of doc.tests)
        out.push({
          file: folder,
          ruleId: doc.rule_id ?? 0,
          testId: t.test_id,
          desc: t.desc ?? '',
          stages: t.stages,
        })
    }
  }
  return out
}

/**
 * Builds the request bytes go-ftw sends for a stage: `encoded_request` / `raw_request` as is; otherwise the
 * request line, the headers in order, and the data, with go-ftw's header autocompletion (Content-Length for
 * data, `Connection: close`) unless `autocomplete_headers: false`.
 */
export function requestBytes(input: FtwInput): Buffer {
  if (input.encoded_request !== undefined)
    return Buffer.from(input.encoded_request.replace(/\s+/g, ''), 'base64')
  if (input.raw_request !== undefined) return Buffer.from(input.raw_request, 'latin1')
  const method = input.method ?? 'GET'
  const uri = input.uri ?? '/'
  const version = input.version ?? 'HTTP/1.1'
  const headers: [string, string][] = Object.entries(input.headers ?? {}).map(([k, v]) => [k, String(v)])
  const data = input.data === undefined ? undefined : Buffer.from(expandTemplates(input.data), 'latin1')
  const auto = input.autocomplete_headers ?? true
  if (auto) {
    const has = (name: string) => headers.some(([k]) => k.toLowerCase() === name)
    if (data !== undefined && data.length > 0 && !has('content-type'))
      headers.push(['Content-Type', 'application/x-www-form-urlencoded'])
    if (
      !has('content-length') &&
      !has('transfer-encoding') &&
      (data !== undefined || !/^(?:GET|HEAD|OPTIONS|DELETE|TRACE|CONNECT)$/.test(method))
    )
      headers.push(['Content-Length', String(data?.length ?? 0)])
    if (!has('connection')) headers.push(['Connection', 'close'])
  }
  let head = `${method} ${uri} ${version}\r\n`
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`
  head += '\r\n'
  return data === undefined ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), data])
}

/** go-ftw data templates CRS uses: `{{ "1" | repeat 64200 }}`. */
export function expandTemplates(data: string): string {
  return data.replace(/\{\{\s*"([^"]*)"\s*\|\s*repeat\s+(\d+)\s*\}\}/g, (_m, s: string, n: string) =>
    s.repeat(Number(n)),
  )
}

/** A ModSecurity-style log line per matched rule, for `match_regex` / `no_match_regex`. */
export function logText(
  matches: readonly { id: number; message: string; data: string; target: string }[],
): string {
  return matches
    .map(
      (m) =>
        `ModSecurity: Warning. Matched "${m.target}" [id "${m.id}"] [msg "${m.message}"] [data "${m.data}"]`,
    )
    .join('\n')
}

/** Checks one stage's output against what happened; returns the reasons it failed (empty when it passed). */
export function checkOutput(
  output: FtwOutput,
  result: { status: number | undefined; ids: ReadonlySet<number>; log: string; body: string },
): string[] {
  const failures: string[] = []
  const log = output.log ?? {}
  for (const id of log.expect_ids ?? []) if (!result.ids.has(id)) failures.push(`expected rule ${id}`)
  for (const id of log.no_expect_ids ?? []) if (result.ids.has(id)) failures.push(`unexpected rule ${id}`)
  if (log.match_regex !== undefined && !new RegExp(log.match_regex).test(result.log))
    failures.push(`log does not match /${log.match_regex}/`)
  if (log.no_match_regex !== undefined && new RegExp(log.no_match_regex).test(result.log))
    failures.push(`log matches /${log.no_match_regex}/`)
  if (output.status !== undefined) {
    const allowed = Array.isArray(output.status) ? output.status : [output.status]
    if (result.status === undefined || !allowed.includes(result.status))
      failures.push(`status ${result.status ?? 'none'}, expected ${allowed.join(' or ')}`)
  }
  if (output.response_contains !== undefined && !result.body.includes(output.response_contains))
    failures.push(`response does not contain ${output.response_contains}`)
  return failures
}
