import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { docSamples, docsDir } from './samples.js'

const out = join(docsDir, '.samples')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

describe('TypeScript samples in docs/*.md', () => {
  const samples = docSamples().filter((s) => s.lang === 'ts' || s.lang === 'typescript')
  const compiled = samples.filter((s) => !s.flags.includes('fragment'))

  it('are few fragments and many compiled samples', () => {
    expect(compiled.length).toBeGreaterThanOrEqual(8)
    expect(samples.length - compiled.length).toBeLessThanOrEqual(3)
  })

  it('compile with tsc --noEmit against the workspace packages', () => {
    rmSync(out, { recursive: true, force: true })
    const where = new Map<string, string>()
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
})
