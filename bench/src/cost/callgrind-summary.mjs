// Sums a callgrind run (one file per thread, from --separate-threads=yes) into instructions per request:
// total, V8's compilers and parsers (warm-up work: the code being optimised), garbage collection, and the rest
// (the cost of a request once the code is warm). Usage: node callgrind-summary.mjs <requests> <files...>
import { execFileSync } from 'node:child_process'

const [requests, ...files] = process.argv.slice(2)
const COMPILE =
  /compiler::|Compil|Parser|Scanner|Bytecode|interpreter::|Maglev|turboshaft|RegisterAllocat|InstructionSelector|CodeGenerator|Assembler|Zone/
const GC = /Marking|Sweep|Scaveng|Heap::|Evacuat|heap::|MemoryChunk|Page::|RememberedSet|SlotSet|Concurrent/
let total = 0
let compile = 0
let gc = 0
for (const file of files) {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line)
    if (m === null || line.includes('PROGRAM TOTALS')) continue
    const n = Number(m[1].replaceAll(',', ''))
    total += n
    if (COMPILE.test(m[2])) compile += n
    else if (GC.test(m[2])) gc += n
  }
}
const per = (n) => Math.round(n / Number(requests)).toLocaleString('en-US')
process.stdout.write(
  `${per(total - compile)} instructions/request without compilation (GC included: ${per(gc)}; total ${per(total)}, compiling ${per(compile)})\n`,
)
