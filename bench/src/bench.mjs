// gw load benchmark harness: the Node floor (node:http + undici pool.stream) vs. gw vs. fastify vs. express
// proxies, plain (100 B and 16 KiB responses) and with a policy chain.
// Run with `pnpm bench` at the repository root; `--help` lists the options. See docs/benchmarks.md.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseOptions, USAGE } from './lib/args.mjs'
import {
  CLK_TCK,
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
import { BODY_PATHS } from './lib/upstream-body.mjs'

const SRC = dirname(fileURLToPath(import.meta.url))
const BENCH_DIR = dirname(SRC)
const REPO_ROOT = dirname(BENCH_DIR)
const RESULTS_DIR = join(BENCH_DIR, 'results')
const DOCS_PATH = join(REPO_ROOT, 'docs', 'benchmarks.md')

/** Core of the proxy under test; the load generator, the upstream and this harness share the other. */
const PROXY_CPU = 1
const LOAD_CPU = 0
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

const fastifyVersion = () =>
  `fastify ${pkgVersion('fastify')}, @fastify/http-proxy ${pkgVersion('@fastify/http-proxy')}`
const expressVersion = () =>
  `express ${pkgVersion('express')}, http-proxy-middleware ${pkgVersion('http-proxy-middleware')}`

const CONTENDERS = {
  direct: {
    id: 'direct',
    label: 'direct (no proxy)',
    script: null,
    version: () => 'the upstream itself',
  },
  floor: {
    id: 'floor',
    label: 'Node floor (undici pool.stream)',
    script: 'servers/floor.mjs',
    version: () => `node ${process.version}, undici ${pkgVersion('undici')}`,
  },
  'pipeline-floor': {
    id: 'pipeline-floor',
    label: 'pool.request + stream.pipeline (not the floor)',
    script: 'servers/pipeline-floor.mjs',
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
    version: fastifyVersion,
  },
  express: {
    id: 'express',
    label: 'express + http-proxy-middleware',
    script: 'servers/express.mjs',
    version: expressVersion,
  },
  'gw-chain': {
    id: 'gw-chain',
    label: 'gw chain (JWT cache on)',
    script: 'servers/gw-chain.mjs',
    version: gwVersion,
  },
  'gw-chain-nocache': {
    id: 'gw-chain-nocache',
    label: 'gw chain (JWT cache off)',
    script: 'servers/gw-chain-nocache.mjs',
    version: gwVersion,
  },
  'fastify-chain': {
    id: 'fastify-chain',
    label: 'fastify chain',
    script: 'servers/fastify-chain.mjs',
    version: () =>
      `${fastifyVersion()}, @fastify/jwt ${pkgVersion('@fastify/jwt')}, @fastify/rate-limit ${pkgVersion('@fastify/rate-limit')}, @fastify/helmet ${pkgVersion('@fastify/helmet')}, fastify-metrics ${pkgVersion('fastify-metrics')}`,
  },
  'express-chain': {
    id: 'express-chain',
    label: 'express chain',
    script: 'servers/express-chain.mjs',
    version: () =>
      `${expressVersion()}, express-jwt ${pkgVersion('express-jwt')}, express-rate-limit ${pkgVersion('express-rate-limit')}, helmet ${pkgVersion('helmet')}, prom-client ${pkgVersion('prom-client')}`,
  },
}

/** True when a command exists on PATH. */
function hasCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore', timeout: 5000 }).status === 0
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
function verify(baseUrl, scenario, headers = {}, exactBody = true) {
  const { path, body: expected } = BODY_PATHS[scenario.body]
  return new Promise((resolve, reject) => {
    // TLS cases use a throw-away self-signed certificate: nothing to verify it against.
    const client = baseUrl.startsWith('https:') ? https : http
    const options = { agent: false, timeout: VERIFY_TIMEOUT_MS, headers, rejectUnauthorized: false }
    const req = client.get(baseUrl + path, options, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => {
        body += c
      })
      res.on('end', () => {
        if (res.statusCode !== 200)
          reject(new Error(`verification GET returned ${res.statusCode}: ${body.slice(0, 200)}`))
        else if (exactBody && body !== expected)
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

/** One load-generator run (wrk or autocannon) in a separate process pinned to the load core. */
async function load(baseUrl, seconds, opts) {
  const child = spawnNode(join(SRC, 'load.mjs'), {
    args: [
      JSON.stringify({
        url: baseUrl + BODY_PATHS[opts.scenario.body].path,
        tool: opts.h2 ? 'h2' : opts.loadTool,
        clkTck: CLK_TCK,
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
      pid: typeof ready.pid === 'number' ? ready.pid : child.pid,
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
    cpuUsPerRequest:
      proxyCpu0 !== null && proxyCpu1 !== null && r.requestsTotal > 0
        ? ((proxyCpu1 - proxyCpu0) / r.requestsTotal) * 1e6
        : null,
    proxyRss: mem.rss,
    proxyHwm: mem.hwm,
    proxyCpuPct: pct(delta(proxyCpu0, proxyCpu1)),
    upstreamCpuPct: pct(delta(upCpu0, upCpu1)),
    otherLoadPct: foreignPct(sys0, sys1, ours, wall),
  }
}

/** Waits for a stdout line of `child` starting with `prefix` written after `fromLength` characters of output. */
async function waitLine(child, prefix, fromLength, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const fresh = child.stdoutTail.slice(
      Math.max(0, fromLength - (child.stdoutTotal - child.stdoutTail.length)),
    )
    const line = fresh.split('\n').find((l) => l.startsWith(prefix))
    if (line !== undefined) return JSON.parse(line)
    await sleep(50)
  }
  throw new Error(`no ${prefix} line within ${timeoutMs} ms`)
}

/**
 * Heap bytes allocated per request: the server process sums V8's used-heap growth between garbage
 * collections while `opts.allocSeconds` of the same load run (see servers/common.mjs), and that total is
 * divided by the requests the load generator completed in that window.
 */
async function measureAllocations(server, target, opts) {
  try {
    server.child.stdin.write('alloc-start\n')
    await sleep(200)
    const r = await load(target, opts.allocSeconds, opts)
    const mark = server.child.stdoutTotal
    server.child.stdin.write('alloc-stop\n')
    const { alloc } = await waitLine(server.child, '{"alloc"', mark, 5000)
    return {
      ...alloc,
      requests: r.requestsTotal,
      bytesPerRequest: r.requestsTotal > 0 ? alloc.bytes / r.requestsTotal : null,
      arrayBuffersPerRequest: r.requestsTotal > 0 ? alloc.arrayBuffers / r.requestsTotal : null,
    }
  } catch (err) {
    log(`allocation measurement failed: ${err.message}`)
    return null
  }
}

function describeAlloc(alloc) {
  return `${Math.round(alloc.bytesPerRequest)} heap bytes/request over ${alloc.requests} requests (${alloc.gcs} GCs)`
}

function describeRun(run) {
  const bad = run.errors + run.non2xx
  return (
    `${Math.round(run.rps)} req/s, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms` +
    (run.proxyRss ? `, RSS ${(run.proxyRss / 1048576).toFixed(1)} MB` : '') +
    (run.proxyCpuPct !== null ? `, CPU ${run.proxyCpuPct.toFixed(0)} %` : '') +
    (run.cpuUsPerRequest ? `, ${run.cpuUsPerRequest.toFixed(1)} CPU µs/req` : '') +
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
      await verify(target, opts.scenario, opts.headers, !isCase)
    } catch (err) {
      return { ...base, skipped: true, reason: err.message }
    }
    const pid = server?.pid ?? null
    const upstreamPid = upstream.pid
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
    // Peak RSS: the proxy's high-water mark after warm-up and every run, i.e. its peak under this load.
    const peakRss = pid ? memoryOf(pid).hwm : null
    const alloc = server && opts.allocSeconds > 0 ? await measureAllocations(server, target, opts) : null
    if (alloc) log(`${contender.id}: ${describeAlloc(alloc)}`)
    return { ...base, skipped: false, runs, discarded, discardedCount, peakRss, alloc }
  } finally {
    if (server) await kill(server.child)
  }
}

/** First line of a command's version output (stdout or stderr), or null. */
function commandVersion(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 })
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0]
  return r.error ? null : text || null
}

function environment(opts) {
  const wrk = commandVersion('wrk', ['-v'])?.match(/wrk\s+(\S+)/)?.[1]
  const nginx = commandVersion('nginx', ['-v'])?.match(/nginx\/(\S+)/)?.[1]
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    kernel: os.release(),
    node: process.version,
    loadTool:
      opts.loadTool === 'wrk' ? `wrk ${wrk ?? '?'} (1 thread)` : `autocannon ${pkgVersion('autocannon')}`,
    upstream: opts.upstreamKind === 'nginx' ? `nginx ${nginx ?? '?'} (static files)` : 'node:http',
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
  if (opts.loadTool === undefined)
    opts.loadTool = hasCommand('wrk') && opts.pipelining === 1 ? 'wrk' : 'autocannon'
  if (opts.loadTool === 'wrk' && !hasCommand('wrk'))
    throw new Error('--load wrk: wrk is not installed (apt-get install -y wrk)')
  if (opts.loadTool === 'wrk' && opts.pipelining !== 1)
    throw new Error('--load wrk: wrk has no pipelining option; use autocannon')
  if (opts.upstreamKind === undefined) opts.upstreamKind = hasCommand('nginx') ? 'nginx' : 'node'
  if (opts.upstreamKind === 'nginx' && !hasCommand('nginx'))
    throw new Error('--upstream nginx: nginx is not installed (apt-get install -y nginx-light)')

  // Per-contender worst case, doubled: the hard lifetime cap of every child and of this harness.
  const attempts = opts.retryNoisy ? opts.runs * MAX_ATTEMPTS_FACTOR : opts.runs
  const perContenderS =
    opts.warmup + attempts * (opts.duration + 5 + opts.quietWait) + opts.quietWait + opts.allocSeconds + 50
  const budgetMs = (perContenderS * opts.contenders.length + 60) * 2 * 1000
  setTimeout(() => {
    log(`overall time budget of ${Math.round(budgetMs / 1000)} s exceeded; stopping`)
    killAllSync()
    process.exit(1)
  }, budgetMs).unref()

  log(
    `${opts.jobs.map((j) => `${j.scenario.id}: ${j.contenders.join(', ')}`).join('; ')}; ` +
      `${opts.runs} × ${opts.duration} s (+${opts.warmup} s warm-up), ${opts.connections} connections, ` +
      `pipelining ${opts.pipelining}, load ${opts.loadTool}, upstream ${opts.upstreamKind}, ` +
      `${opts.pinned ? 'pinned' : 'not pinned'}`,
  )
  const upstreamScript = opts.upstreamKind === 'nginx' ? 'upstream-nginx.mjs' : 'upstream.mjs'
  const upstream = await startServer(upstreamScript, { cpu: LOAD_CPU, opts, maxLifetimeMs: budgetMs })
  log(`upstream (${opts.upstreamKind}) on ${upstream.url} (pid ${upstream.pid})`)
  for (const job of opts.jobs) await verify(upstream.url, job.scenario)

  const scenarios = []
  for (const job of opts.jobs) {
    const results = []
    for (const id of job.contenders) {
      const contender = CONTENDERS[id] ?? {
        id,
        label: `case: ${id}`,
        script: `servers/${id}.mjs`,
        version: gwVersion,
      }
      log(`${job.scenario.id} / ${id}: starting`)
      const result = await benchContender(contender, {
        upstream,
        opts: { ...opts, scenario: job.scenario },
        maxLifetimeMs: budgetMs,
      })
      if (result.skipped) log(`${id}: SKIPPED: ${result.reason}`)
      results.push(result)
    }
    scenarios.push({ scenario: job.scenario, summaries: results.map(summarise) })
  }
  await kill(upstream.child)

  const env = environment(opts)
  const markdown = renderMarkdown({ scenarios, opts, env })
  process.stdout.write('\n' + markdown)

  mkdirSync(RESULTS_DIR, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  writeFileSync(join(RESULTS_DIR, `${stamp}.md`), markdown)
  writeFileSync(join(RESULTS_DIR, 'latest.md'), markdown)
  const { jobs: _jobs, ...plainOpts } = opts
  writeFileSync(
    join(RESULTS_DIR, `${stamp}.json`),
    JSON.stringify({ env, opts: plainOpts, scenarios }, null, 2) + '\n',
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
