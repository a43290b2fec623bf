// Shared plumbing for the contender servers and the upstream (each runs as its own child process).
//
// Protocol with the harness (src/bench.mjs):
// - config comes from the environment: BENCH_PORT, BENCH_UPSTREAM, BENCH_MAX_LIFETIME_MS;
// - once listening, the server prints one JSON line `{"ready":true,"port":N,"pid":P}` on stdout;
// - stdin: when it closes (harness exited, crashed or was killed), we exit. The harness writes two commands
//   there: `alloc-start` and `alloc-stop` bracket an allocation measurement (see measureAllocations below).
// - a hard lifetime cap ends the process even if everything else fails.

/** Exit code of a server whose proxy module could not be imported (the harness skips it). */
export const EXIT_IMPORT_FAILED = 3
/** Exit code of a server that failed to start for any other reason. */
export const EXIT_START_FAILED = 4

const DEFAULT_MAX_LIFETIME_MS = 30 * 60 * 1000

/** Reads the harness-provided settings. */
export function serverEnv() {
  const port = Number(process.env.BENCH_PORT ?? '0')
  const upstream = process.env.BENCH_UPSTREAM ?? ''
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`bad BENCH_PORT: ${process.env.BENCH_PORT}`)
  return { port, host: '127.0.0.1', upstream }
}

/** Exits when the harness goes away, and after a hard lifetime cap at the latest. */
export function installWatchdog() {
  const exit = () => process.exit(0)
  process.stdin.on('end', exit)
  process.stdin.on('close', exit)
  process.stdin.on('error', exit)
  process.stdin.setEncoding('utf8')
  let pending = ''
  process.stdin.on('data', (chunk) => {
    pending = (pending + chunk).slice(-4096)
    let nl = pending.indexOf('\n')
    while (nl !== -1) {
      const line = pending.slice(0, nl).trim()
      pending = pending.slice(nl + 1)
      if (line === 'alloc-start') allocations.start()
      else if (line === 'alloc-stop') allocations.stop()
      nl = pending.indexOf('\n')
    }
  })
  const max = Number(process.env.BENCH_MAX_LIFETIME_MS ?? DEFAULT_MAX_LIFETIME_MS)
  const limit = Number.isFinite(max) && max > 0 ? max : DEFAULT_MAX_LIFETIME_MS
  setTimeout(() => {
    process.stderr.write(`lifetime cap of ${limit} ms reached, exiting\n`)
    process.exit(0)
  }, limit).unref()
}

/** Tells the harness we are listening (`extra` fields ride along in the ready line; `pid` may name a child). */
export function announceReady(port, extra = {}) {
  process.stdout.write(JSON.stringify({ pid: process.pid, ...extra, ready: true, port }) + '\n')
}

/**
 * Bytes allocated on the V8 heap between `alloc-start` and `alloc-stop`, without changing how the process
 * runs: V8's GCProfiler reports the used heap size before and after every collection, so the bytes allocated
 * in the window are the growth of the used heap between collections, summed: (used before GC 1 - used at
 * start) + (used before GC 2 - used after GC 1) + ... + (used at stop - used after the last GC). Objects that
 * survive are counted once, when allocated; nothing is counted twice. Buffers' backing stores live outside the
 * V8 heap: their growth shows as `arrayBuffers` (net, at the two ends) instead. The result goes to stdout as
 * `{"alloc":{...}}`; the harness divides by the requests the load generator completed in the window.
 */
const allocations = (() => {
  let profiler
  let startUsed = 0
  let startArrayBuffers = 0
  return {
    async start() {
      const v8 = await import('node:v8')
      profiler = new v8.GCProfiler()
      startUsed = v8.getHeapStatistics().used_heap_size
      startArrayBuffers = process.memoryUsage().arrayBuffers
      profiler.start()
    },
    async stop() {
      if (profiler === undefined) return
      const v8 = await import('node:v8')
      const endUsed = v8.getHeapStatistics().used_heap_size
      const arrayBuffers = process.memoryUsage().arrayBuffers - startArrayBuffers
      const stats = profiler.stop()?.statistics ?? []
      profiler = undefined
      let bytes = 0
      let previousAfter = startUsed
      for (const gc of stats) {
        bytes += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - previousAfter)
        previousAfter = gc.afterGC.heapStatistics.usedHeapSize
      }
      bytes += Math.max(0, endUsed - previousAfter)
      process.stdout.write(JSON.stringify({ alloc: { bytes, gcs: stats.length, arrayBuffers } }) + '\n')
    },
  }
})()

/** Imports a module, or exits with EXIT_IMPORT_FAILED and the reason on stderr. */
export async function importOrExit(specifier) {
  try {
    return await import(specifier)
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    process.stderr.write(`cannot import ${specifier}: ${msg.split('\n')[0]}\n`)
    process.exit(EXIT_IMPORT_FAILED)
  }
}

/** Reports a start-up failure and exits with EXIT_START_FAILED. */
export function startFailed(err) {
  const msg = err instanceof Error ? (err.stack ?? err.message) : String(err)
  process.stderr.write(`start failed: ${msg}\n`)
  process.exit(EXIT_START_FAILED)
}
