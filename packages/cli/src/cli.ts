#!/usr/bin/env node
import { runCli } from './run-cli.js'

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`gw: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
