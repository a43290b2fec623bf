import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import type { EnvSource } from '@gw/core/config'
import { runHashKey } from './commands/hash-key.js'
import { runRoutes } from './commands/routes.js'
import { runSchema } from './commands/schema.js'
import { runStart } from './commands/start.js'
import { runValidate } from './commands/validate.js'
import { POLICY_PACKAGES } from './discover-policies.js'
import { reportError } from './report-error.js'

/** Where the CLI reads and writes; the real process by default, replaceable in tests and embeddings. */
export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
  env: EnvSource
  cwd: string
  /** Where `gw hash-key` reads a key from when it is not an argument. Default `process.stdin`. */
  stdin?: AsyncIterable<unknown>
}

/** The parsed command line shared by the commands. */
export interface CliContext {
  io: CliIo
  plugins: string[]
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
}

const USAGE = `Usage: gw <command> [options]

Commands:
  validate <file>    Check a gateway file (.yaml, .yml, .json): prints OK, or every problem and exits 1
  start <file>       Start a gateway from a file; SIGTERM/SIGINT drain in-flight requests and stop it,
                     SIGHUP reloads the file (the running config keeps serving if the new one is invalid)
  schema             Print the JSON Schema of gateway files (for editors)
  routes <file>      Print the route table (id, methods, host, path, upstream, policies); --json for JSON
  hash-key [key]     Print the hash the api-key policy is configured with (@gw/auth); reads the key from
                     stdin when omitted, which keeps it out of the shell history: gw hash-key < key.txt

Options:
  --plugin <module>  Also load the policies a module exports as \`policies\` (path or package; repeatable)
  --out <file>       schema: write the JSON Schema to a file instead of stdout
  --json             routes: print JSON instead of a text table
  --port <port>      start: listen on this port instead of server.port
  --host <address>   start: listen on this address instead of server.host
  --workers <n|auto> start: run n node:cluster workers (auto: one per CPU) instead of the file's workers
  --watch            start: also reload when the file changes
  -h, --help         Show this help
  -v, --version      Show the version

Policies are found in the installed packages ${POLICY_PACKAGES.join(', ')}.
Environment: LOG_LEVEL (fatal, error, warn, info, debug, trace, silent; default info), and any \${VAR}
referenced by the file.
`

/**
 * Runs the `gw` command line and resolves with the process exit code: 0 on success, 1 for an invalid
 * configuration or a failed start, 2 for a usage error. `start` resolves only once the gateway stopped.
 * Errors are printed as `gw: ...` lines, never as stack traces.
 *
 * @example
 * ```ts
 * const code = await runCli(['validate', 'gateway.yaml'])
 * process.exitCode = code
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    io.stderr(`gw: ${error instanceof Error ? error.message : String(error)} (see gw --help)\n`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.version) {
    io.stdout(`${version()}\n`)
    return 0
  }
  const [command, ...rest] = positionals
  if (values.help || command === undefined || command === 'help') {
    ;(command === undefined && !values.help ? io.stderr : io.stdout)(USAGE)
    return command === undefined && !values.help ? 2 : 0
  }
  const ctx: CliContext = { io, plugins: values.plugin ?? [] }
  const usage = (message: string): number => {
    io.stderr(`gw: ${message} (see gw --help)\n`)
    return 2
  }
  try {
    switch (command) {
      case 'validate':
      case 'start': {
        const [file, extra] = rest
        if (file === undefined) return usage(`${command} needs a config file`)
        if (extra !== undefined) return usage(`unexpected argument '${extra}'`)
        if (command === 'validate') return await runValidate(file, ctx)
        const port = values.port === undefined ? undefined : Number(values.port)
        if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
          return usage(`--port must be an integer from 0 to 65535, got '${values.port}'`)
        }
        const workers = parseWorkers(values.workers)
        if (workers === null)
          return usage(`--workers must be a positive integer or 'auto', got '${values.workers}'`)
        return await runStart(file, ctx, { port, host: values.host, workers, watch: values.watch })
      }
      case 'schema':
        if (rest.length > 0) return usage(`unexpected argument '${rest[0]}'`)
        return await runSchema(ctx, values.out)
      case 'routes': {
        const [file, extra] = rest
        if (file === undefined) return usage('routes needs a config file')
        if (extra !== undefined) return usage(`unexpected argument '${extra}'`)
        return await runRoutes(file, ctx, { json: values.json === true })
      }
      case 'hash-key':
        if (rest.length > 1) return usage(`unexpected argument '${rest[1]}'`)
        return await runHashKey(rest[0], ctx, io.stdin ?? process.stdin)
      default:
        return usage(`unknown command '${command}'`)
    }
  } catch (error) {
    return reportError(error, io, rest[0])
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      plugin: { type: 'string', multiple: true },
      out: { type: 'string' },
      json: { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      watch: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
}

function parseWorkers(value: string | undefined): number | 'auto' | undefined | null {
  if (value === undefined) return undefined
  if (value === 'auto') return 'auto'
  const count = Number(value)
  return Number.isInteger(count) && count >= 1 && count <= 256 ? count : null
}

function version(): string {
  const pkg = createRequire(import.meta.url)('../package.json') as { version: string }
  return pkg.version
}
