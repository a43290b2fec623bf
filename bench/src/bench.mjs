// gw load benchmark harness: direct vs. bare node:http+undici vs. gw vs. fastify vs. express proxies.
// Run with `pnpm bench` at the repository root; `--help` lists the options. See docs/benchmarks.md.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseOptions, USAGE } from './lib/args.mjs'
import {
  canPin,
  cpuSecondsOf,
  firstLines,
  kill,
  killAll,
  killAllSync,
  memoryOf,
  pinSelf,
  runToCompletion,
  spawnNode,
  systemCpuSeconds,
  waitReady,
} from './lib/procs.mjs'
import { renderMarkdown, summarise, writeDocsSection } from './lib/report.mjs'
import { UPSTREAM_BODY } from './lib/upstream-body.mjs'

const SRC = dirname(fileURLToPath(import.meta.url))
const BENCH_DIR = dirname(SRC)
const REPO_ROOT = dirname(BENCH_DIR)
const RESULTS_DIR = join(BENCH_DIR, 'results')
const DOCS_PATH = join(REPO_ROOT, 'docs', 'benchmarks.md')

/** Core of the proxy under test; the load generator, the upstream and this harness share the other. */
const PROXY_CPU = 1
const LOAD_CPU = 0
const REQUEST_PATH = '/bench/hello?x=1'
const READY_TIMEOUT_MS = 20_000
const VERIFY_TIMEOUT_MS = 5_000
/** Below this much CPU (% of one core) used by processes other than ours, the machine counts as quiet. */
const QUIET_PCT = 15
/** Consecutive quiet 1 s samples needed before a run starts. */
const QUIET_SAMPLES = 2
/** A run during which other processes used this much CPU (% of one core) or more counts as disturbed. */
const NOISY_PCT = 25
/** A contender gets at most runs × this many attempts to collect undisturbed runs. */
const MAX_ATTEMPTS_FACTOR = 3

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`)

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(join(BENCH_DIR, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return '?'
  }
}

/** Where the gw under test comes from: a workspace build, so say which commit and whether the tree was clean. */
function gwVersion() {
  const version = `@gw/core ${pkgVersion('@gw/core')}`
  try {
    const git = (...args) =>
      execFileSync('git', ['-C', REPO_ROOT, ...args], {
        encoding: 'utf8',
        timeout: 5000,
        stdio: 'pipe',
      }).trim()
    const commit = git('rev-parse', '--short', 'HEAD')
    const dirty = git('status', '--porcelain', '--', 'packages/core').length > 0
    return `${version} (${commit}${dirty ? ' + uncommitted changes' : ''})`
  } catch {
    return version
  }
}

const CONTENDERS = {
  direct: {
    id: 'direct',
    label: 'direct (no proxy)',
    script: null,
    version: () => `node:http ${process.version}`,
  },
  bare: {
    id: 'bare',
    label: 'bare node:http + undici',
    script: 'servers/bare.mjs',
    version: () => `undici ${pkgVersion('undici')}`,
  },
  gw: {
    id: 'gw',
    label: 'gw (no policies)',
    script: 'servers/gw.mjs',
    version: gwVersion,
  },
  fastify: {
    id: 'fastify',
    label: 'fastify + @fastify/http-proxy',
    script: 'servers/fastify.mjs',
    version: () =>
      `fastify ${pkgVersion('fastify')}, @fastify/http-proxy ${pkgVersion('@fastify/http-proxy')}`,
  },
  express: {
    id: 'express',
    label: 'express + http-proxy-middleware',
    script: 'servers/express.mjs',
    version: () =>
      `express ${pkgVersion('express')}, http-proxy-middleware ${pkgVersion('http-proxy-middleware')}`,
  },
}

/** A free loopback port (the server binds it right after; fine on a quiet machine). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/**
 * One GET through the target: must be 200, with the upstream's exact body for the proxy contenders (extra cases
 * may change the body: compression, a local handler).
 */
function verify(baseUrl, headers = {}, exactBody = true) {
  return new Promise((resolve, reject) => {
    // TLS cases use a throw-away self-signed certificate: nothing to verify it against.
    const client = baseUrl.startsWith('https:') ? https : http
    const options = { agent: false, timeout: VERIFY_TIMEOUT_MS, headers, rejectUnauthorized: false }
    const req = client.get(baseUrl + REQUEST_PATH, options, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => {
        body += c
      })
      res.on('end', () => {
        if (res.statusCode !== 200)
          reject(new Error(`verification GET returned ${res.statusCode}: ${body.slice(0, 200)}`))
        else if (exactBody && body !== UPSTREAM_BODY)
          reject(new Error(`verification GET returned another body: ${body.slice(0, 200)}`))
        else resolve()
      })
      res.on('error', reject)
    })
    req.on('timeout', () =>
      req.destroy(new Error(`verification GET timed out after ${VERIFY_TIMEOUT_MS} ms`)),
    )
    req.on('error', reject)
  })
}

/** One autocannon run in a separate process pinned to the load core. */
async function load(baseUrl, seconds, opts) {
  const child = spawnNode(join(SRC, 'load.mjs'), {
    args: [
      JSON.stringify({
        url: baseUrl + REQUEST_PATH,
        connections: opts.connections,
        pipelining: opts.pipelining,
        duration: seconds,
        headers: opts.headers,
        h2: opts.h2 === true,
      }),
    ],
    cpu: LOAD_CPU,
    pin: opts.pinned,
  })
  const out = await runToCompletion(child, (seconds + 30) * 1000)
  const last = out.trim().split('\n').pop()
  return JSON.parse(last)
}

/** Starts a server script pinned to `cpu`; resolves with the child and its URL. */
async function startServer(script, { cpu, opts, upstream = '', maxLifetimeMs }) {
  const port = await freePort()
  const child = spawnNode(join(SRC, script), {
    env: { BENCH_PORT: String(port), BENCH_UPSTREAM: upstream, BENCH_MAX_LIFETIME_MS: String(maxLifetimeMs) },
    cpu,
    pin: opts.pinned,
  })
  try {
    const ready = await waitReady(child, READY_TIMEOUT_MS)
    const scheme = ready.scheme === 'https' ? 'https' : 'http'
    return {
      child,
      url: `${scheme}://127.0.0.1:${ready.port}`,
      headers: ready.headers ?? {},
      h2: ready.h2 === true,
    }
  } catch (err) {
    await kill(child)
    throw err
  }
}

/** CPU seconds used so far by the given pids (skipping unreadable ones). */
function cpuOfPids(pids) {
  return pids.reduce((sum, pid) => sum + (cpuSecondsOf(pid) ?? 0), 0)
}

/** CPU used by everything but our processes between two samples, in % of one core. */
function foreignPct(sys0, sys1, oursSeconds, wallSeconds) {
  if (!sys0 || !sys1 || wallSeconds <= 0) return null
  return Math.max(0, ((sys1.busy - sys0.busy - oursSeconds) / wallSeconds) * 100)
}

/**
 * Waits (at most `maxSeconds`, in 1 s samples) until processes other than ours have used less than
 * QUIET_PCT of a core for QUIET_SAMPLES samples in a row: other work on a 2-core machine (builds,
 * tests) skews a load test badly.
 */
async function waitForQuiet(label, maxSeconds, pids, cores) {
  const ours = () => {
    const self = process.cpuUsage()
    return cpuOfPids(pids) + (self.user + self.system) / 1e6
  }
  let last = null
  let quiet = 0
  for (let i = 0; i < maxSeconds; i++) {
    const sys0 = systemCpuSeconds(cores)
    const ours0 = ours()
    await sleep(1000)
    last = foreignPct(sys0, systemCpuSeconds(cores), ours() - ours0, 1)
    if (last === null) return
    quiet = last < QUIET_PCT ? quiet + 1 : 0
    if (quiet >= QUIET_SAMPLES) return
    if (i === 0 && quiet === 0) {
      log(`${label}: other processes use ${last.toFixed(0)} % of a core; waiting up to ${maxSeconds} s`)
    }
  }
  if (last !== null && maxSeconds > 0 && quiet < QUIET_SAMPLES) {
    log(`${label}: machine still busy (${last.toFixed(0)} % of a core); measuring anyway`)
  }
}

/** One measured load run against `target`, with the proxy's memory and CPU and the machine's other load. */
async function measureRun(target, { pid, upstreamPid, opts, cores }) {
  const sys0 = systemCpuSeconds(cores)
  const self0 = process.cpuUsage()
  const t0 = performance.now()
  const proxyCpu0 = pid ? cpuSecondsOf(pid) : null
  const upCpu0 = cpuSecondsOf(upstreamPid)
  const r = await load(target, opts.duration, opts)
  const proxyCpu1 = pid ? cpuSecondsOf(pid) : null
  const upCpu1 = cpuSecondsOf(upstreamPid)
  const self = process.cpuUsage(self0)
  const wall = (performance.now() - t0) / 1000
  const sys1 = systemCpuSeconds(cores)
  const mem = pid ? memoryOf(pid) : { rss: null, hwm: null }
  const delta = (a, b) => (a === null || b === null ? null : b - a)
  const pct = (seconds) => (seconds === null || !r.duration ? null : (seconds / r.duration) * 100)
  const ours =
    (delta(proxyCpu0, proxyCpu1) ?? 0) +
    (delta(upCpu0, upCpu1) ?? 0) +
    r.cpuSeconds +
    (self.user + self.system) / 1e6
  return {
    ...r,
    proxyRss: mem.rss,
    proxyHwm: mem.hwm,
    proxyCpuPct: pct(delta(proxyCpu0, proxyCpu1)),
    upstreamCpuPct: pct(delta(upCpu0, upCpu1)),
    otherLoadPct: foreignPct(sys0, sys1, ours, wall),
  }
}

function describeRun(run) {
  const bad = run.errors + run.non2xx
  return (
    `${Math.round(run.rps)} req/s, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms` +
    (run.proxyRss ? `, RSS ${(run.proxyRss / 1048576).toFixed(1)} MB` : '') +
    (run.proxyCpuPct !== null ? `, CPU ${run.proxyCpuPct.toFixed(0)} %` : '') +
    (run.otherLoadPct !== null ? `, other load ${run.otherLoadPct.toFixed(0)} %` : '') +
    (bad > 0 ? `, ${bad} errors/non-2xx` : '')
  )
}

async function benchContender(contender, { upstream, opts, maxLifetimeMs }) {
  const base = { id: contender.id, label: contender.label, version: contender.version() }
  let server = null
  try {
    let target = upstream.url
    if (contender.script) {
      try {
        server = await startServer(contender.script, {
          cpu: PROXY_CPU,
          opts,
          upstream: upstream.url,
          maxLifetimeMs,
        })
      } catch (err) {
        const hint = /@gw\/core|dist/.test(err.message)
          ? ' (build it first: pnpm --filter @gw/core build)'
          : ''
        return { ...base, skipped: true, reason: `failed to start: ${err.message}${hint}` }
      }
      target = server.url
    }
    const isCase = !(contender.id in CONTENDERS)
    opts = { ...opts, headers: server?.headers ?? {}, h2: server?.h2 === true }
    try {
      await verify(target, opts.headers, !isCase)
    } catch (err) {
      return { ...base, skipped: true, reason: err.message }
    }
    const pid = server?.child.pid ?? null
    const upstreamPid = upstream.child.pid
    const ourPids = pid ? [pid, upstreamPid] : [upstreamPid]
    // Pinned, only the cores in use count: without a proxy (direct), core 1 is idle and may stay busy.
    const cores = opts.pinned ? (pid ? [LOAD_CPU, PROXY_CPU] : [LOAD_CPU]) : undefined
    if (opts.warmup > 0) {
      await waitForQuiet(contender.id, opts.quietWait, ourPids, cores)
      log(`${contender.id}: warm-up ${opts.warmup} s`)
      await load(target, opts.warmup, opts)
    }
    // A run disturbed by other processes is discarded and done again, within a bounded number of attempts.
    const runs = []
    const discarded = []
    const maxAttempts = opts.retryNoisy ? opts.runs * MAX_ATTEMPTS_FACTOR : opts.runs
    for (let attempt = 1; attempt <= maxAttempts && runs.length < opts.runs; attempt++) {
      await waitForQuiet(contender.id, opts.quietWait, ourPids, cores)
      const run = { attempt, ...(await measureRun(target, { pid, upstreamPid, opts, cores })) }
      const noisy = opts.retryNoisy && run.otherLoadPct !== null && run.otherLoadPct >= NOISY_PCT
      log(
        `${contender.id}: run ${runs.length + 1}/${opts.runs} (attempt ${attempt}/${maxAttempts}): ${describeRun(run)}` +
          (noisy ? ' -> disturbed, discarded' : ''),
      )
      if (noisy) discarded.push(run)
      else runs.push(run)
      if (server && (server.child.exitCode !== null || server.child.signalCode !== null)) {
        throw new Error(`${contender.id} server died: ${firstLines(server.child.stderrTail)}`)
      }
    }
    // Out of attempts: fill up with the least disturbed of the discarded runs (they show in Other load %).
    const discardedCount = discarded.length
    discarded.sort((a, b) => a.otherLoadPct - b.otherLoadPct)
    while (runs.length < opts.runs && discarded.length > 0)
      runs.push({ ...discarded.shift(), disturbed: true })
    return { ...base, skipped: false, runs, discarded, discardedCount }
  } finally {
    if (server) await kill(server.child)
  }
}

function environment(opts) {
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    kernel: os.release(),
    node: process.version,
    autocannon: pkgVersion('autocannon'),
    pinned: opts.pinned,
  }
}

async function main() {
  const opts = parseOptions(process.argv.slice(2))
  if (opts.help) {
    process.stdout.write(USAGE)
    return
  }
  opts.pinned = opts.pin && canPin()
  if (opts.pin && !opts.pinned) log('taskset unavailable (or fewer than 2 cores): processes are not pinned')
  if (opts.pinned) pinSelf(LOAD_CPU)

  // Per-contender worst case, doubled: the hard lifetime cap of every child and of this harness.
  const attempts = opts.retryNoisy ? opts.runs * MAX_ATTEMPTS_FACTOR : opts.runs
  const perContenderS = opts.warmup + attempts * (opts.duration + 5 + opts.quietWait) + opts.quietWait + 45
  const budgetMs = (perContenderS * opts.contenders.length + 60) * 2 * 1000
  setTimeout(() => {
    log(`overall time budget of ${Math.round(budgetMs / 1000)} s exceeded; stopping`)
    killAllSync()
    process.exit(1)
  }, budgetMs).unref()

  log(
    `contenders: ${opts.contenders.join(', ')}; ${opts.runs} × ${opts.duration} s (+${opts.warmup} s warm-up), ` +
      `${opts.connections} connections, pipelining ${opts.pipelining}, ${opts.pinned ? 'pinned' : 'not pinned'}`,
  )
  const upstream = await startServer('upstream.mjs', { cpu: LOAD_CPU, opts, maxLifetimeMs: budgetMs })
  log(`upstream on ${upstream.url} (pid ${upstream.child.pid})`)
  await verify(upstream.url)

  const results = []
  for (const id of opts.contenders) {
    const contender = CONTENDERS[id] ?? {
      id,
      label: `case: ${id}`,
      script: `servers/${id}.mjs`,
      version: gwVersion,
    }
    log(`${id}: starting`)
    const result = await benchContender(contender, { upstream, opts, maxLifetimeMs: budgetMs })
    if (result.skipped) log(`${id}: SKIPPED: ${result.reason}`)
    results.push(result)
  }
  await kill(upstream.child)

  const summaries = results.map(summarise)
  const env = environment(opts)
  const markdown = renderMarkdown({ summaries, opts, env })
  process.stdout.write('\n' + markdown)

  mkdirSync(RESULTS_DIR, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  writeFileSync(join(RESULTS_DIR, `${stamp}.md`), markdown)
  writeFileSync(join(RESULTS_DIR, 'latest.md'), markdown)
  writeFileSync(
    join(RESULTS_DIR, `${stamp}.json`),
    JSON.stringify({ env, opts, results: summaries }, null, 2) + '\n',
  )
  log(`wrote bench/results/${stamp}.md (+ .json, latest.md)`)
  if (opts.writeDocs) {
    writeDocsSection(DOCS_PATH, markdown)
    log('updated the results section of docs/benchmarks.md')
  }
}

process.on('exit', killAllSync)
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.once(signal, () => {
    log(`${signal}: stopping child processes`)
    killAll().finally(() => process.exit(code))
  })
}

main().then(
  () => killAll(),
  async (err) => {
    log(`failed: ${err instanceof Error ? err.message : String(err)}`)
    await killAll()
    process.exitCode = 1
  },
)
