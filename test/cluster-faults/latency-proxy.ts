// A TCP proxy that delays every chunk, both ways, by a fixed time (this kernel has no netem).
// `node latency-proxy.ts --delay-ms 200 <listen port>=<host>:<port> ...`: one listener on
// 127.0.0.1 per destination. The latency fault (faults.ts) runs it inside a broker's namespace
// as an unprivileged user, and nftables redirects that broker's (root's) new connections to the
// destinations here; the proxy's own connections onwards are not redirected (another user).
// Equal delays keep the order: Node runs timers of the same duration in the order they were set.

import { connect, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { 'delay-ms': { type: 'string', default: '100' } }, allowPositionals: true });
const delayMs = Number(values['delay-ms']);

function pipeDelayed(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
  from.on('error', () => to.destroy());
}

let listening = 0;
for (const route of positionals) {
  const m = /^(\d+)=([^:]+):(\d+)$/.exec(route);
  if (m === null) throw new Error(`bad route ${route}: <listen port>=<host>:<port>`);
  const [, listenPort, host, port] = m;
  const server = createServer((client) => {
    const upstream = connect({ host, port: Number(port) });
    pipeDelayed(client, upstream);
    pipeDelayed(upstream, client);
  });
  server.listen(Number(listenPort), '127.0.0.1', () => {
    if (++listening === positionals.length) process.stdout.write('latency proxy ready\n');
  });
}
