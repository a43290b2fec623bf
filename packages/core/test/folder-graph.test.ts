import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * Core's folders (and its top-level files, each its own node) must import each other without a cycle, so
 * that each layer can be read, tested and changed on its own: leaves (`util/`, `errors.ts`, `clock.ts`, ...)
 * at the bottom, the contract (`policy/`) above `exchange/`, upstreams and the server above the contract,
 * `config/` and `gateway.ts` at the top.
 */

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src')
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g

type Graph = Map<string, Map<string, string[]>>

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/** A folder directly under `src/`, or a top-level file (`pipeline.ts` -> `pipeline`). */
function nodeOf(file: string): string {
  const parts = relative(SRC, file).split('/')
  return parts.length > 1 ? `${parts[0]}/` : parts[0]!.replace(/\.ts$/, '')
}

/** Edges between nodes, each with the imports that make it (`file -> specifier`). */
function folderGraph(files: ReadonlyMap<string, string>): Graph {
  const graph: Graph = new Map()
  for (const [file, text] of files) {
    const from = nodeOf(file)
    if (!graph.has(from)) graph.set(from, new Map())
    for (const match of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1]!).replace(/\.js$/, '.ts')
      const to = nodeOf(target)
      if (to === from) continue
      const edges = graph.get(from)!
      edges.set(to, [...(edges.get(to) ?? []), `${relative(SRC, file)} -> ${match[1]}`])
    }
  }
  return graph
}

/** Strongly connected components with more than one node (Tarjan): each is at least one cycle. */
function cycles(graph: Graph): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  let next = 0
  const visit = (node: string): void => {
    index.set(node, next)
    low.set(node, next)
    next++
    stack.push(node)
    onStack.add(node)
    for (const to of graph.get(node)?.keys() ?? []) {
      if (!index.has(to)) {
        visit(to)
        low.set(node, Math.min(low.get(node)!, low.get(to)!))
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!))
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1) found.push(component.sort())
    }
  }
  for (const node of graph.keys()) if (!index.has(node)) visit(node)
  return found
}

function describeCycle(graph: Graph, component: readonly string[]): string {
  const inside = new Set(component)
  const lines: string[] = []
  for (const from of component)
    for (const [to, evidence] of graph.get(from) ?? [])
      if (inside.has(to)) lines.push(`  ${from} -> ${to}: ${evidence.join(', ')}`)
  return `cycle between ${component.join(', ')}:\n${lines.join('\n')}`
}

function read(files: readonly string[]): Map<string, string> {
  return new Map(files.map((file) => [file, readFileSync(file, 'utf8')]))
}

describe("core's folder graph", () => {
  it('has no cycle between folders (or top-level files) of packages/core/src', () => {
    const graph = folderGraph(read(sourceFiles(SRC)))
    expect(graph.get('policy/')?.has('exchange/')).toBe(true)
    expect(graph.get('gateway')?.has('pipeline')).toBe(true)
    expect(cycles(graph).map((component) => describeCycle(graph, component))).toEqual([])
  })

  it('detects a cycle, naming the imports that make it', () => {
    const file = (path: string) => join(SRC, path)
    const graph = folderGraph(
      new Map([
        [file('a/one.ts'), "import { b } from '../b/two.js'\nimport { own } from './own.js'"],
        [file('b/two.ts'), "import type { C } from '../c.js'"],
        [file('c.ts'), "export { one } from './a/one.js'"],
        [file('d.ts'), "import { c } from './c.js'"],
      ]),
    )
    const found = cycles(graph)
    expect(found).toEqual([['a/', 'b/', 'c']])
    expect(describeCycle(graph, found[0]!)).toContain('c -> a/: c.ts -> ./a/one.js')
  })
})
