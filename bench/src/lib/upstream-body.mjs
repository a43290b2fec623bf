/** The body the upstream sends for every request (about 100 bytes); proxies must return it unchanged. */
export const UPSTREAM_BODY = JSON.stringify({
  message: 'hello world',
  service: 'gw-bench-upstream',
  ok: true,
  padding: 'abcdefghijklmnopqrstuvwxyz0123',
})

/** The 16 KiB body (JSON, exactly 16,384 bytes) of the large-response scenario. */
export const UPSTREAM_BODY_16K = (() => {
  const head = '{"message":"hello world","service":"gw-bench-upstream","padding":"'
  const tail = '"}'
  return head + 'x'.repeat(16 * 1024 - head.length - tail.length) + tail
})()

/** Request paths the upstream answers, by body size. */
export const BODY_PATHS = {
  '100b': { path: '/bench/hello?x=1', body: UPSTREAM_BODY },
  '16k': { path: '/bench/16k?x=1', body: UPSTREAM_BODY_16K },
}
