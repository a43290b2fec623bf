// Child-process plumbing: pinned spawning, readiness, /proc sampling and guaranteed clean-up.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

/** Every child we started and have not seen exit yet. */
const live = new Set()

let tasksetChecked = false
let tasksetOk = false

/** True when `taskset` exists and works here (and the machine has at least 2 cores to split). */
export function canPin() {
  if (!tasksetChecked) {
    tasksetChecked = true
    const r = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore', timeout: 5000 })
    tasksetOk = r.status === 0 && os.cpus().length >= 2
  }
  return tasksetOk
}

/** Pins the current process (the harness itself) to `cpu`; best effort. */
export function pinSelf(cpu) {
  if (!canPin()) return false
  const r = spawnSync('taskset', ['-cp', String(cpu), String(process.pid)], {
    stdio: 'ignore',
    timeout: 5000,
  })
  return r.status === 0
}

/** Linux clock ticks per second, for /proc/<pid>/stat CPU times. */
export const CLK_TCK = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim())
    return Number.isFinite(n) && n > 0 ? n : 100
  } catch {
    return 100
  }
})()

/**
 * Starts `node <script>` (under `taskset -c <cpu>` when pinning), stdin piped so the child exits
 * when we go away. taskset execs node, so the child's pid is node's pid.
 */
export function spawnNode(script, { args = [], env = {}, cpu, pin }) {
  const nodeArgs = [script, ...args]
  const [cmd, argv] =
    pin && cpu !== undefined
      ? ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs]
  const child = spawn(cmd, argv, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production', ...env },
  })
  live.add(child)
  child.once('exit', () => live.delete(child))
  child.once('error', () => live.delete(child))
  // Always drain both streams (a chatty child must never block on a full pipe); keep a tail for errors.
  child.stdoutTail = ''
  child.stdoutTotal = 0
  child.stderrTail = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    child.stdoutTotal += chunk.length
    child.stdoutTail = (child.stdoutTail + chunk).slice(-64 * 1024)
  })
  child.stderr.on('data', (chunk) => {
    child.stderrTail = (child.stderrTail + chunk).slice(-16 * 1024)
  })
  child.stdin.on('error', () => {})
  return child
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve())
  })
}

/**
 * Waits for the `{"ready":true,"port":N}` line of a server child. Rejects with the child's stderr
 * if it exits first or does not get ready within `timeoutMs`.
 */
export function waitReady(child, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buf = ''
    const done = (fn, value) => {
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.off('exit', onExit)
      fn(value)
    }
    const onData = (chunk) => {
      buf += chunk
      let nl = buf.indexOf('\n')
      // Bounded: each pass consumes one line of what has been received.
      while (nl !== -1) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (line.startsWith('{')) {
          try {
            const msg = JSON.parse(line)
            if (msg.ready === true) return done(resolve, msg)
          } catch {
            // Not our line: a log line of the server. Ignore.
          }
        }
        nl = buf.indexOf('\n')
      }
      if (buf.length > 64 * 1024) buf = ''
    }
    const onExit = (code, signal) => {
      // Let the stderr stream flush before reporting.
      setTimeout(() => {
        const err = new Error(
          firstLines(child.stderrTail) || `exited with ${code ?? signal} before getting ready`,
        )
        err.exitCode = code
        done(reject, err)
      }, 50)
    }
    const timer = setTimeout(() => {
      done(reject, new Error(`not ready after ${timeoutMs} ms. ${firstLines(child.stderrTail)}`.trim()))
    }, timeoutMs)
    child.stdout.on('data', onData)
    child.once('exit', onExit)
  })
}

/** Runs a child to completion and returns its stdout, killing it after `timeoutMs`. */
export async function runToCompletion(child, timeoutMs) {
  let out = ''
  child.stdout.on('data', (chunk) => {
    out += chunk
  })
  const timer = setTimeout(() => kill(child), timeoutMs)
  await exited(child)
  clearTimeout(timer)
  if (child.exitCode !== 0) {
    throw new Error(`exited with ${child.exitCode ?? child.signalCode}: ${firstLines(child.stderrTail)}`)
  }
  return out
}

/** Stops a child: closes its stdin, SIGTERM, then SIGKILL after `graceMs`. Resolves once it is gone. */
export async function kill(child, graceMs = 2000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.stdin.end()
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited(child)
  clearTimeout(timer)
}

/** Stops every child still alive. */
export async function killAll() {
  await Promise.all([...live].map((c) => kill(c)))
}

/** Last-resort synchronous clean-up, for process 'exit'. */
export function killAllSync() {
  for (const c of live) {
    try {
      c.kill('SIGKILL')
    } catch {
      // Already gone.
    }
  }
}

/** VmRSS and VmHWM of a process in bytes (null when /proc is not readable). */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key) => {
      const m = status.match(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm'))
      return m ? Number(m[1]) * 1024 : null
    }
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return { rss: null, hwm: null }
  }
}

/** User + system CPU time of a process in seconds (null when /proc is not readable). */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name (which may contain spaces).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the whole line, i.e. 11 and 12 after the name.
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK
  } catch {
    return null
  }
}

/**
 * CPU time from /proc/stat in seconds: `busy` (user, nice, system, irq, softirq, steal) and `total`
 * (busy plus idle and iowait), summed over the given cores, or over the whole machine without `cores`.
 * Null when /proc is not readable.
 */
export function systemCpuSeconds(cores) {
  try {
    const wanted = cores ? new Set(cores.map((c) => `cpu${c}`)) : new Set(['cpu'])
    let busy = 0
    let total = 0
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const fields = line.trim().split(/\s+/)
      if (!wanted.has(fields[0])) continue
      const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.slice(1).map(Number)
      const b = user + nice + system + irq + softirq + (steal ?? 0)
      busy += b
      total += b + idle + iowait
    }
    return total > 0 ? { busy: busy / CLK_TCK, total: total / CLK_TCK } : null
  } catch {
    return null
  }
}

/** The first few lines of a child's output, for error messages. */
export function firstLines(text, n = 3) {
  return text.trim().split('\n').slice(0, n).join(' | ')
}
