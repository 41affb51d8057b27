import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * The yardstick for bench/fanout.ts: a plain `ws` server that, when told to, writes the same
 * pre-encoded ~1 KB frame to every connected client (`socket.send(sameBuffer)`). No GraphQL, no
 * database, no audiences: what fan-out costs when there is nothing to decide.
 *
 *   PORT=4000 BASELINE_TEMPLATE=/path/to/frame.json tsx bench/baseline-ws.ts
 *
 * GET /stats → {clients}; POST /broadcast?seq=N → {t0, t1, sent}, where t0 is taken just before the
 * broadcast loop (epoch ms, performance.timeOrigin + performance.now()). The template's
 * `__SEQ__` is replaced by N so clients can tell broadcasts apart.
 */

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const template = process.env.BASELINE_TEMPLATE ? readFileSync(process.env.BASELINE_TEMPLATE, 'utf8') : `{"type":"next","payload":{"data":{"pageEvents":{"seq":__SEQ__,"pad":"${'x'.repeat(960)}"}}}}`;
const now = (): number => performance.timeOrigin + performance.now();

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ clients: wss.clients.size }));
    return;
  }
  if (url.pathname === '/broadcast' && req.method === 'POST') {
    const seq = Number(url.searchParams.get('seq') ?? '0');
    const frame = Buffer.from(template.replace('__SEQ__', String(seq)));
    const t0 = now();
    let sent = 0;
    for (const socket of wss.clients as Set<WebSocket>) {
      if (socket.readyState === socket.OPEN) {
        socket.send(frame);
        sent++;
      }
    }
    const t1 = now();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ t0, t1, sent, bytes: frame.length }));
    return;
  }
  if (url.pathname === '/healthz') return void res.writeHead(200).end('ok');
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on('connection', (socket) => {
  socket.on('error', () => {});
});

server.listen(port, host, () => {
  const address = server.address();
  console.log(`baseline ws listening on ${typeof address === 'object' && address ? address.port : port}`);
});

const shutdown = () => {
  for (const socket of wss.clients) socket.terminate();
  server.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
