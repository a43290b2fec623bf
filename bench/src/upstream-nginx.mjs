// The nginx upstream (the default when Debian's nginx is installed): one nginx process (no master, one worker
// loop) serving the two fixed files from a temporary directory, with access logs, ETags and the Server
// version off. This wrapper owns it: it writes the config, starts nginx, announces nginx's pid (the harness
// counts that process's CPU) once the port accepts connections, and stops nginx when the harness goes away
// (stdin closed) or the lifetime cap hits.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UPSTREAM_BODY, UPSTREAM_BODY_16K } from './lib/upstream-body.mjs'
import { announceReady, installWatchdog, serverEnv, startFailed } from './servers/common.mjs'

const { port, host } = serverEnv()
const dir = mkdtempSync(join(tmpdir(), 'gw-bench-nginx-'))
mkdirSync(join(dir, 'www', 'bench'), { recursive: true })
writeFileSync(join(dir, 'www', 'bench', 'hello'), UPSTREAM_BODY)
writeFileSync(join(dir, 'www', 'bench', '16k'), UPSTREAM_BODY_16K)
const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  etag off;
  keepalive_requests 100000000;
  keepalive_timeout 65s;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type application/json;
  server {
    listen ${host}:${port};
    root ${dir}/www;
    location / { }
  }
}
`
writeFileSync(join(dir, 'nginx.conf'), conf)

const nginx = spawn(process.env.BENCH_NGINX ?? 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], {
  stdio: ['ignore', 'inherit', 'inherit'],
})
const cleanup = () => {
  try {
    nginx.kill('SIGKILL')
  } catch {}
  rmSync(dir, { recursive: true, force: true })
}
process.on('exit', cleanup)
installWatchdog()
nginx.once('error', startFailed)
nginx.once('exit', (code, signal) => {
  process.stderr.write(`nginx exited (${code ?? signal})\n`)
  process.exit(4)
})

const deadline = Date.now() + 10_000
const probe = () => {
  const socket = net.connect(port, host)
  socket.once('connect', () => {
    socket.destroy()
    announceReady(port, { pid: nginx.pid, server: 'nginx' })
  })
  socket.once('error', () => {
    if (Date.now() > deadline) startFailed(new Error('nginx did not open its port within 10 s'))
    else setTimeout(probe, 50)
  })
}
probe()
