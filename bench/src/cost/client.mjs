// A fixed number of GETs through a proxy, for the cost scripts: node client.mjs <url> <requests> <connections>
// [header]. Path from CG_PATH (default /bench/hello?x=1). Prints the count, failures and elapsed time.
import { Pool } from 'undici'

const [url, total, connections, header] = process.argv.slice(2)
const path = process.env.CG_PATH ?? '/bench/hello?x=1'
const headers = header
  ? { [header.slice(0, header.indexOf(':'))]: header.slice(header.indexOf(':') + 1).trim() }
  : {}
const pool = new Pool(url, { connections: Number(connections) })
let started = 0
let failed = 0
const t0 = performance.now()
async function loop() {
  while (started < Number(total)) {
    started++
    try {
      const res = await pool.request({ path, method: 'GET', headers })
      if (res.statusCode !== 200) failed++
      await res.body.dump()
    } catch {
      failed++
    }
  }
}
await Promise.all(Array.from({ length: Number(connections) }, loop))
process.stdout.write(
  `${total} requests (${failed} failed) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
)
await pool.close()
