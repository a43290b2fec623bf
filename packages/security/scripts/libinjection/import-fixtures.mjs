#!/usr/bin/env node
// Copies libinjection's own test material (BSD-3-Clause, see packages/security/NOTICE) into
// src/libinjection/testdata/:
//   - vectors.json: every tests/test-*.txt case (tokenizer, folding, SQLi and HTML5 expectations), as the
//     C test driver reads them (sections --TEST--, --INPUT--, --EXPECTED--, right-trimmed);
//   - corpus/*.txt: the sample inputs of data/ (URL-encoded attacks and false positives), except the four
//     multi-megabyte files (run them from the fetched tree: LIBINJECTION_FULL_CORPUS, see reference.test.ts).
// Files are read and written as bytes (latin1), so non-ASCII inputs keep their exact bytes.
//
// Usage: node scripts/libinjection/import-fixtures.mjs [path/to/libinjection]
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const pkg = resolve(here, '../..')
const root =
  process.argv[2] ??
  execFileSync('bash', [join(here, 'fetch-reference.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1)
const out = join(pkg, 'src/libinjection/testdata')

export const LARGE_CORPUS_FILES = [
  'sqli-forums.txt',
  'sqli-sqlmap.txt',
  'sqli-sqlmap-20130419.txt',
  'xss-shazzer.txt',
]

function rtrim(s) {
  return s.replace(/[ \n\t\r]+$/, '')
}

const vectors = []
for (const name of readdirSync(join(root, 'tests')).sort()) {
  if (!/^test-.*\.txt$/.test(name)) continue
  const text = readFileSync(join(root, 'tests', name), 'latin1')
  const lines = text.split(/(?<=\n)/)
  const parts = { test: '', input: '', expected: '' }
  let section
  let seen = 0
  for (const line of lines) {
    if (seen === 0 && line === '--TEST--\n') {
      section = 'test'
      seen = 1
    } else if (seen === 1 && line === '--INPUT--\n') {
      section = 'input'
      seen = 2
    } else if (seen === 2 && line === '--EXPECTED--\n') {
      section = 'expected'
      seen = 3
    } else if (section) {
      parts[section] += line
    }
  }
  if (seen !== 3) throw new Error(`${name}: not a libinjection test file`)
  vectors.push({ name, title: rtrim(parts.test), input: rtrim(parts.input), expected: rtrim(parts.expected) })
}

rmSync(join(out, 'corpus'), { recursive: true, force: true })
mkdirSync(join(out, 'corpus'), { recursive: true })
writeFileSync(join(out, 'vectors.json'), `${JSON.stringify(vectors, null, 1)}\n`, 'utf8')
const copied = []
for (const name of readdirSync(join(root, 'data')).sort()) {
  if (!name.endsWith('.txt') || LARGE_CORPUS_FILES.includes(name)) continue
  copyFileSync(join(root, 'data', name), join(out, 'corpus', name))
  copied.push(name)
}
copyFileSync(join(root, 'COPYING'), join(out, 'COPYING'))
console.log(`wrote ${vectors.length} vectors and ${copied.length} corpus files to ${out}`)
