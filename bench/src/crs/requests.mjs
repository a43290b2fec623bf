// The requests of the attack-filter benchmarks: a browser-like GET with 3 query arguments and 10 headers, and a
// 4 KiB URL-encoded form POST. `vary` makes every request's argument values and session cookie unique, so
// attack-filter's per-value result cache cannot help (the honest worst case for repeated traffic).
export const BROWSER_HEADERS = {
  host: 'shop.example.com',
  'user-agent':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'accept-language': 'en-US,en;q=0.9,de;q=0.8',
  'accept-encoding': 'gzip, deflate, br, zstd',
  referer: 'https://shop.example.com/catalog/shoes',
  'sec-fetch-dest': 'document',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'same-origin',
  'upgrade-insecure-requests': '1',
}

export function getPath(i, vary) {
  return vary
    ? `/api/products?page=${i % 97}&sort=price_${i % 7}&q=blue+running+shoes+${i.toString(36)}`
    : '/api/products?page=2&sort=price&q=blue+running+shoes'
}

export function cookie(i, vary) {
  return `session=${vary ? `s${i.toString(36)}x9f2` : 'b1c2d3e4f5'}; theme=dark; consent=1`
}

/** A 4 KiB form: 24 fields of realistic text (names, addresses, free-text comments). */
export function formBody(i, vary) {
  const fields = []
  const words = 'the quick brown fox jumps over the lazy dog while customers order running shoes online'.split(' ')
  for (let f = 0; f < 24; f++) {
    let text = ''
    for (let w = 0; text.length < 150; w++) text += `${words[(f * 7 + w + (vary ? i : 0)) % words.length]} `
    fields.push(`field_${f}=${encodeURIComponent(text.trim())}`)
  }
  let body = fields.join('&')
  body += `&pad=${'x'.repeat(Math.max(0, 4096 - body.length - 5))}`
  return body.slice(0, 4096)
}
