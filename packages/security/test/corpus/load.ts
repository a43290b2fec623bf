import { readFileSync } from 'node:fs'

/** One request of the attack or benign corpus (JSON Lines in this folder). */
export interface CorpusEntry {
  category?: string
  method: string
  url: string
  headers?: Record<string, string>
  body?: string
}

/** Reads a corpus file of this folder. */
export function loadCorpus(name: 'attacks' | 'benign' | 'holdout-attacks' | 'holdout-benign'): CorpusEntry[] {
  const text = readFileSync(new URL(`./${name}.jsonl`, import.meta.url), 'utf8')
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CorpusEntry)
}
