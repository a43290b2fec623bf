// Shared plumbing for the contender servers and the upstream (each runs as its own child process).
//
// Protocol with the harness (src/bench.mjs):
// - config comes from the environment: BENCH_PORT, BENCH_UPSTREAM, BENCH_MAX_LIFETIME_MS;
// - once listening, the server prints one JSON line `{"ready":true,"port":N,"pid":P}` on stdout;
// - the harness never writes to our stdin: when it closes (harness exited, crashed or was killed), we exit.
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
  process.stdin.resume()
  const max = Number(process.env.BENCH_MAX_LIFETIME_MS ?? DEFAULT_MAX_LIFETIME_MS)
  const limit = Number.isFinite(max) && max > 0 ? max : DEFAULT_MAX_LIFETIME_MS
  setTimeout(() => {
    process.stderr.write(`lifetime cap of ${limit} ms reached, exiting\n`)
    process.exit(0)
  }, limit).unref()
}

/** Tells the harness we are listening (`extra` fields ride along in the ready line). */
export function announceReady(port, extra = {}) {
  process.stdout.write(JSON.stringify({ ...extra, ready: true, port, pid: process.pid }) + '\n')
}

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
