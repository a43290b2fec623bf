// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are gw config text with ${VAR} references
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = join(root, 'dist', 'cli.js')
const fixture = (name: string) => join(root, 'test', 'fixtures', name)
const plugin = './test/fixtures/test-policies.mjs'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function spawnGw(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [cli, ...args], {
    cwd: options.cwd ?? root,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

async function gw(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Run> {
  const child = spawnGw(args, options)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stdout, stderr }
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m)

describe('gw validate', () => {
  it('prints OK for a valid file', async () => {
    const run = await gw(['validate', fixture('good.yaml'), '--plugin', plugin])
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toBe(`OK ${fixture('good.yaml')}: 1 route, 1 upstream, 2 policy entries\n`)
  })

  it('prints every problem with its exact path and exits 1, without a stack trace', async () => {
    const run = await gw(['validate', 'test/fixtures/bad.yaml', '--plugin', plugin])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe(
      [
        'gw: invalid configuration in test/fixtures/bad.yaml:',
        "  - routes[1].upstream: unknown upstream 'orders' (defined: users)",
        '  - routes[2].policies[0].options.limit: expected number, received string',
        "  - routes[2].policies[1].policy: unknown policy 'rate-limt' (known: require-header, add-header)",
        '',
      ].join('\n'),
    )
    noStack(run.stderr)
  })

  it('reports YAML syntax errors and missing files as configuration errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-cli-'))
    try {
      writeFileSync(join(dir, 'broken.yaml'), 'routes:\n  - path: /a\n   upstream: x\n')
      const run = await gw(['validate', 'broken.yaml'], { cwd: dir })
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(
        /^gw: invalid configuration in broken\.yaml:\n {2}- \(yaml\): line 3, column \d+: \S/,
      )
      const missing = await gw(['validate', 'missing.json'], { cwd: dir })
      expect(missing.code).toBe(1)
      expect(missing.stderr).toBe(
        `gw: invalid configuration in missing.json:\n  - (file): cannot read ${join(dir, 'missing.json')}: file not found\n`,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('names unset environment variables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-cli-'))
    try {
      writeFileSync(join(dir, 'gw.yaml'), 'upstreams:\n  users:\n    url: ${USERS_SERVICE_URL}\nroutes: []\n')
      const run = await gw(['validate', 'gw.yaml'], { cwd: dir })
      expect(run.stderr).toBe(
        'gw: invalid configuration in gw.yaml:\n' +
          '  - upstreams.users.url: environment variable USERS_SERVICE_URL is not set and has no default (line 3)\n',
      )
      const ok = await gw(['validate', 'gw.yaml'], {
        cwd: dir,
        env: { USERS_SERVICE_URL: 'http://users:3001' },
      })
      expect(ok).toMatchObject({ code: 0, stdout: 'OK gw.yaml: 0 routes, 1 upstream, 0 policy entries\n' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('fails clearly on usage errors and bad plugins', async () => {
    expect(await gw(['validate'])).toMatchObject({
      code: 2,
      stderr: 'gw: validate needs a config file (see gw --help)\n',
    })
    expect(await gw(['deploy', 'x.yaml'])).toMatchObject({
      code: 2,
      stderr: "gw: unknown command 'deploy' (see gw --help)\n",
    })
    const missing = await gw(['validate', fixture('good.yaml'), '--plugin', './nope.mjs'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(`gw: cannot find plugin './nope.mjs' (${join(root, 'nope.mjs')})\n`)
    const twice = await gw([
      'validate',
      fixture('good.yaml'),
      '--plugin',
      plugin,
      '--plugin',
      fixture('dup.mjs'),
    ])
    expect(twice.code).toBe(1)
    expect(twice.stderr).toMatch(/^gw: policy 'add-header' is registered twice; loaded: /)
  })
})

describe('policy discovery', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-cli-project-'))
    const pkg = join(dir, 'node_modules', '@gw', 'ratelimit')
    mkdirSync(join(pkg, 'dist'), { recursive: true })
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: '@gw/ratelimit',
        type: 'module',
        exports: { '.': { types: './x.d.ts', import: './dist/index.js' } },
      }),
    )
    const core = pathToFileURL(join(root, '..', 'core', 'dist', 'index.js')).href
    writeFileSync(
      join(pkg, 'dist', 'index.js'),
      `import { definePolicy, z } from '${core}'\n` +
        `export const rateLimit = definePolicy({ name: 'rate-limit', stage: 'limit', description: 'Fake rate limit.',\n` +
        `  schema: z.object({ limit: z.number().describe('Requests per window.') }), create: () => ({}) })\n` +
        'export const policies = [rateLimit]\n',
    )
    writeFileSync(
      join(dir, 'gw.yaml'),
      'upstreams: { u: { url: "http://127.0.0.1:1" } }\nroutes:\n  - { path: /a, upstream: u, policies: [{ policy: rate-limit, options: { limit: "${LIMIT:-10}" } }] }\n',
    )
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('finds installed @gw/* policy packages from the working directory', async () => {
    expect(await gw(['validate', 'gw.yaml'], { cwd: dir })).toMatchObject({
      code: 0,
      stdout: 'OK gw.yaml: 1 route, 1 upstream, 1 policy entry\n',
    })
    const bad = await gw(['validate', 'gw.yaml'], { cwd: dir, env: { LIMIT: 'ten' } })
    expect(bad.stderr).toBe(
      'gw: invalid configuration in gw.yaml:\n  - routes[0].policies[0].options.limit: expected number, received string\n',
    )
  })

  it('puts the discovered policies and their option descriptions in the JSON Schema', async () => {
    const run = await gw(['schema', '--plugin', join(root, plugin)], { cwd: dir })
    expect(run.code).toBe(0)
    const schema = JSON.parse(run.stdout) as { $schema: string }
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(run.stdout).toContain('"description": "Fake rate limit."')
    expect(run.stdout).toContain('"description": "Requests per window."')
    expect(run.stdout).toContain('"description": "Header that must be present."')
    const out = await gw(['schema', '--out', 'gw.schema.json'], { cwd: dir })
    expect(out).toMatchObject({
      code: 0,
      stdout: '',
      stderr: 'gw: wrote gw.schema.json (policies: rate-limit)\n',
    })
    expect(JSON.parse(readFileSync(join(dir, 'gw.schema.json'), 'utf8'))).toMatchObject({
      type: 'object',
      required: ['routes'],
    })
  })
})

describe('gw start', () => {
  let upstream: Server
  let upstreamUrl: string
  const children: ChildProcess[] = []
  beforeAll(async () => {
    upstream = createServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ url: req.url, tenant: req.headers['x-tenant'] ?? null }))
    })
    upstream.listen(0, '127.0.0.1')
    await once(upstream, 'listening')
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  })
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  })
  afterAll(async () => {
    upstream.close()
    await once(upstream, 'close')
  })

  it('serves requests through the configured upstream and policies, and drains on SIGTERM', async () => {
    const child = spawnGw(['start', fixture('good.yaml'), '--plugin', plugin], {
      env: { UPSTREAM_URL: upstreamUrl, LOG_LEVEL: 'info' },
    })
    children.push(child)
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    const listening = new Promise<string>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
        const match = /gw: listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(stderr)
        if (match?.[1]) resolve(match[1])
      })
      child.on('exit', () => reject(new Error(`gw exited early:\n${stderr}`)))
    })
    const url = await listening
    expect(stderr).toContain('policies: require-header, add-header')

    const res = await fetch(`${url}/api/users/7?x=1`, { headers: { 'x-tenant': 'acme' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-gateway')).toBe('gw-cli')
    expect(await res.json()).toEqual({ url: '/users/7?x=1', tenant: 'acme' })
    const denied = await fetch(`${url}/api/users/7`)
    expect(denied.status).toBe(400)
    expect(await denied.text()).toBe('missing x-tenant')
    expect((await fetch(`${url}/health`)).status).toBe(200)

    child.kill('SIGTERM')
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
    expect(stdout).toMatch(/"msg":"shutting down gracefully"/)
    noStack(stderr)
  })

  it('prints the issues of an invalid file to stderr and exits 1 without a stack trace', async () => {
    const run = await gw(['start', 'test/fixtures/bad.yaml', '--plugin', plugin])
    expect(run.code).toBe(1)
    expect(run.stderr.split('\n')[0]).toBe('gw: invalid configuration in test/fixtures/bad.yaml:')
    expect(run.stderr).toContain(
      '  - routes[2].policies[0].options.limit: expected number, received string\n',
    )
    noStack(run.stderr)
  })

  it('reports a port in use as one line', async () => {
    const port = String((upstream.address() as AddressInfo).port)
    const run = await gw(['start', fixture('good.yaml'), '--plugin', plugin, '--port', port], {
      env: { UPSTREAM_URL: upstreamUrl, LOG_LEVEL: 'silent' },
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^gw: .*EADDRINUSE.*\n$/)
    noStack(run.stderr)
  })
})
