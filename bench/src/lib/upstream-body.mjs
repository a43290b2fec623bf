/** The body the upstream sends for every request (about 100 bytes); proxies must return it unchanged. */
export const UPSTREAM_BODY = JSON.stringify({
  message: 'hello world',
  service: 'gw-bench-upstream',
  ok: true,
  padding: 'abcdefghijklmnopqrstuvwxyz0123',
})
