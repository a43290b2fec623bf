import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { docSamples, docsDir } from './samples.js'

const out = join(docsDir, '.samples')
const require = createRequire(import.meta.url)
const tsc = require.resolve('typescript/bin/tsc')
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs')

describe('TypeScript samples in docs/*.md', () => {
  const samples = docSamples().filter((s) => s.lang === 'ts' || s.lang === 'typescript')
  const compiled = samples.filter((s) => !s.flags.includes('fragment'))

  it('are few fragments and many compiled samples', () => {
    expect(compiled.length).toBeGreaterThanOrEqual(8)
    expect(samples.length - compiled.length).toBeLessThanOrEqual(3)
  })

  const where = new Map<string, string>()
  beforeAll(() => {
    rmSync(out, { recursive: true, force: true })
    compiled.forEach((sample, index) => {
      const dir = join(out, sample.doc.replace(/\.md$/, ''))
      mkdirSync(dir, { recursive: true })
      const name = sample.flags.find((f) => f.startsWith('file='))?.slice(5) ?? `sample-${index}.ts`
      writeFileSync(join(dir, name), `${sample.code}\nexport {}\n`)
      where.set(`${sample.doc.replace(/\.md$/, '')}/${name}`, `${sample.doc}:${sample.line}`)
    })
    writeFileSync(
      join(out, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.base.json',
        compilerOptions: { noEmit: true, rootDir: '.', types: ['node'] },
        include: ['**/*.ts'],
      }),
    )
  })

  it('compile with tsc --noEmit against the workspace packages', () => {
    let output = ''
    try {
      execFileSync(process.execPath, [tsc, '-p', join(out, 'tsconfig.json')], { encoding: 'utf8' })
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error)
    }
    const located = output.replace(
      /^(?:\.samples\/)?([\w-]+\/[\w.-]+\.ts)\((\d+),(\d+)\)/gm,
      (match, file: string, line: string) => {
        const origin = where.get(file)
        if (origin === undefined) return match
        const [doc, first] = origin.split(':')
        return `${doc}:${Number(first) + Number(line) - 1} (${match})`
      },
    )
    expect(located).toBe('')
  })

  it('that are tests (file=*.test.ts) pass when run with vitest', () => {
    const tests = compiled.filter((s) => s.flags.some((f) => /^file=.*\.test\.ts$/.test(f)))
    expect(tests.length).toBeGreaterThanOrEqual(1)
    const run = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.samples.config.ts'], {
      cwd: docsDir,
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    })
    const output = `${run.stdout}${run.stderr}`
    expect(output).toMatch(/Tests\s+\d+ passed/)
    expect(run.status, output).toBe(0)
  })
})
