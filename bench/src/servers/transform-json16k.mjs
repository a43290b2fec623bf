// The 16 KiB JSON body of the compression cases, shared by transform-compress.mjs and
// transform-fastify-compress.mjs so that both compress exactly the same bytes.
const items = []
for (let i = 0; JSON.stringify({ items }).length < 16 * 1024 - 80; i++)
  items.push({
    id: i,
    name: `product-${i}`,
    price: (i * 7.31) % 100,
    tags: ['bench', i % 2 ? 'odd' : 'even'],
  })

/** 16384 bytes of JSON (space-padded). */
export const JSON_16K = Buffer.from(JSON.stringify({ items }).padEnd(16 * 1024, ' '))
