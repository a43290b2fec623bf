#!/usr/bin/env node
import { runAuthCli } from './run-cli.js'

process.exitCode = await runAuthCli(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`))
