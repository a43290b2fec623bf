import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const docsDir = fileURLToPath(new URL('..', import.meta.url))

/** A fenced code block of a docs/*.md page. */
export interface Sample {
  doc: string
  /** 1-based line of the first code line in the page. */
  line: number
  lang: string
  /** Words after the language: `fragment` (not compiled / validated), `file=name.ts` (written under that name). */
  flags: string[]
  code: string
}

/** Every fenced block of every docs/*.md page, in page order. */
export function docSamples(): Sample[] {
  const samples: Sample[] = []
  for (const doc of readdirSync(docsDir)
    .filter((name) => name.endsWith('.md'))
    .sort()) {
    const lines = readFileSync(`${docsDir}/${doc}`, 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(\w+)(.*)$/.exec(lines[i]!)
      if (!open) continue
      const start = i + 1
      let end = start
      while (end < lines.length && lines[end] !== '```') end++
      samples.push({
        doc,
        line: start + 1,
        lang: open[1]!,
        flags: open[2]!.trim().split(/\s+/).filter(Boolean),
        code: lines.slice(start, end).join('\n'),
      })
      i = end
    }
  }
  return samples
}
