const ABOVE_LATIN1 = /[\u0100-\uffff]/

/**
 * The bytes libinjection sees, as a string of one char per byte (0x00-0xff).
 *
 * ModSecurity and Coraza hand libinjection the transformed argument as raw bytes. gw's rule engine carries
 * such byte strings as JavaScript strings whose chars are all <= 0xff (Latin-1 / "binary" strings), which pass
 * through unchanged. A string that also holds chars above 0xff (ordinary decoded text) has those chars
 * replaced by their UTF-8 bytes, which is what the C library would see for the same text in UTF-8.
 */
export function toByteString(input: string): string {
  if (!ABOVE_LATIN1.test(input)) return input
  let out = ''
  for (let i = 0; i < input.length; i++) {
    let c = input.charCodeAt(i)
    if (c <= 0xff) {
      out += input[i]
      continue
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < input.length) {
      const lo = input.charCodeAt(i + 1)
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00)
        i++
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd
    if (c < 0x800) {
      out += String.fromCharCode(0xc0 | (c >> 6), 0x80 | (c & 0x3f))
    } else if (c < 0x10000) {
      out += String.fromCharCode(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f))
    } else {
      out += String.fromCharCode(
        0xf0 | (c >> 18),
        0x80 | ((c >> 12) & 0x3f),
        0x80 | ((c >> 6) & 0x3f),
        0x80 | (c & 0x3f),
      )
    }
  }
  return out
}
