import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { docsDir } from './samples.js'

function anchors(markdown: string): Set<string> {
  const out = new Set<string>()
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line)
    if (!heading) continue
    const slug = heading[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    out.add(slug)
  }
  return out
}

describe('relative links in docs/*.md and the root README', () => {
  const pages = [
    ...readdirSync(docsDir)
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(docsDir, name)),
    join(docsDir, '..', 'README.md'),
  ]

  it('point at files (and headings) that exist', () => {
    const broken: string[] = []
    for (const page of pages) {
      const text = readFileSync(page, 'utf8').replace(/^```[\s\S]*?^```/gm, '')
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue
        const [path, anchor] = target!.split('#')
        const file = resolve(dirname(page), path!)
        if (!existsSync(file)) broken.push(`${page}: ${target}`)
        else if (anchor && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor))
          broken.push(`${page}: ${target} (no heading '${anchor}')`)
      }
    }
    expect(broken).toEqual([])
  })
})
