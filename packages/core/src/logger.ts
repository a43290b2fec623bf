/**
 * The logger gw talks to: a pino-compatible subset, so an app can pass a pino instance as is.
 *
 * @example
 * ```ts
 * import pino from 'pino'
 * createGateway({ logger: pino({ level: process.env.LOG_LEVEL ?? 'info' }), routes: [] })
 * ```
 */
export interface Logger {
  level?: string
  fatal(obj: unknown, msg?: string): void
  error(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  debug(obj: unknown, msg?: string): void
  trace(obj: unknown, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
}

const noop = (): void => {}

/**
 * A logger that drops everything; the default when an app injects none.
 *
 * @example
 * ```ts
 * noopLogger.info('dropped')
 * ```
 */
export const noopLogger: Logger = {
  level: 'silent',
  fatal: noop,
  error: noop,
  warn: noop,
  info: noop,
  debug: noop,
  trace: noop,
  child: () => noopLogger,
}

/** The log levels gw understands, from `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * A dependency-free JSON-lines logger for scripts and tests; apps should prefer pino.
 *
 * @example
 * ```ts
 * const log = createConsoleLogger('debug')
 * log.info({ port: 8080 }, 'listening')
 * ```
 */
export function createConsoleLogger(
  level: LogLevel = 'info',
  bindings: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  const threshold = LOG_LEVELS.indexOf(level)
  const make =
    (name: LogLevel, num: number) =>
    (obj: unknown, msg?: string): void => {
      if (LOG_LEVELS.indexOf(name) > threshold || level === 'silent') return
      const fields = typeof obj === 'object' && obj !== null ? serialiseFields(obj) : { msg: String(obj) }
      const record = { level: num, time: Date.now(), ...bindings, ...fields, ...(msg ? { msg } : {}) }
      write(JSON.stringify(record) + '\n')
    }
  return {
    level,
    fatal: make('fatal', 60),
    error: make('error', 50),
    warn: make('warn', 40),
    info: make('info', 30),
    debug: make('debug', 20),
    trace: make('trace', 10),
    child: (more) => createConsoleLogger(level, { ...bindings, ...more }, write),
  }
}

function serialiseFields(obj: object): Record<string, unknown> {
  if (obj instanceof Error) return { err: { type: obj.name, message: obj.message } }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(obj)) {
    out[key] =
      value instanceof Error ? { type: value.name, message: value.message, code: codeOf(value) } : value
  }
  return out
}

function codeOf(error: Error): unknown {
  return (error as { code?: unknown }).code
}
