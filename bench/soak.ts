/**
 * `npm run bench:soak`: a hub process under mixed traffic for a bounded time, and whether its
 * memory comes back. Reads (the public components query), writes (a status change every
 * `SOAK_WRITE_MS`) and `SOAK_SUBSCRIBERS` live WebSocket subscribers (raw `ws` speaking
 * graphql-transport-ws, each counting its events) for `SOAK_MINUTES` after `SOAK_WARMUP_S` of
 * warm-up. Memory (RSS of the hub process, median of 5 samples) after warm-up and after the soak
 * must be within 10 %. PostgreSQL: a fresh database on DATABASE_URL's server (default
 * postgres://postgres@127.0.0.1:5432/postgres), dropped at the end.
 *
 *   npm run bench:soak                                            # 10 minutes, 2,000 subscribers
 *   SOAK_MINUTES=1 SOAK_WARMUP_S=20 SOAK_SUBSCRIBERS=500 npm run bench:soak
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { ensureDefaultPage } from '../server/bootstrap.js';
import { createTestDatabase } from '../tests/helpers/database.js';
import { mintApiToken, seedCatalog, setStatus, spawnServer, systemContext } from '../tests/helpers/live.js';
import { settledRss, sleep } from './lib.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const warmupS = Number(process.env.SOAK_WARMUP_S ?? 60);
const subscriberCount = Number(process.env.SOAK_SUBSCRIBERS ?? 2_000);
const writeMs = Number(process.env.SOAK_WRITE_MS ?? 1_000);
const readers = Number(process.env.SOAK_READERS ?? 4);
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';

const database = await createTestDatabase();
const { page } = await ensureDefaultPage(database.db);
const ids = await seedCatalog(systemContext(database, page));
const admin = await mintApiToken(database.db, page, ['admin']);
const off = '0/60';
const hub = await spawnServer({
  DATABASE_URL: database.url!,
  RATE_LIMIT_READS: off,
  RATE_LIMIT_TOKEN: off,
  RATE_LIMIT_WRITES: off,
  RATE_LIMIT_SUBSCRIPTIONS: off,
  SSE_MAX_STREAMS_PER_CLIENT: '100000',
});
const pid = hub.child.pid!;
const wsUrl = `${hub.url.replace('http', 'ws')}/graphql`;

let events = 0;
let closedEarly = 0;
const sockets: WebSocket[] = [];
function subscribe(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    sockets.push(socket);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { pageEvents { seq action component { id status } } }' } }));
        resolve();
      } else if (message.type === 'next') events++;
      else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
    });
    socket.on('close', () => closedEarly++);
    socket.on('error', reject);
  });
}

let running = true;
let reads = 0;
let readErrors = 0;
let writes = 0;
let writeErrors = 0;
async function reader() {
  while (running) {
    try {
      const response = await fetch(`${hub.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ components { id name status } }' }) });
      if (response.ok) reads++;
      else readErrors++;
      await response.arrayBuffer();
    } catch {
      readErrors++;
    }
  }
}
async function writer() {
  const cycle = ['degraded_performance', 'operational', 'partial_outage', 'operational'];
  for (let i = 0; running; i++) {
    const started = Date.now();
    try {
      await setStatus(hub.url, admin, [ids.api, ids.web, ids.euApi][i % 3]!, cycle[i % cycle.length]!);
      writes++;
    } catch {
      writeErrors++;
    }
    await sleep(Math.max(0, writeMs - (Date.now() - started)));
  }
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const idle = await settledRss(pid);
for (let i = 0; i < subscriberCount; i += 100) await Promise.all(Array.from({ length: Math.min(100, subscriberCount - i) }, subscribe));
const traffic = Promise.all([writer(), ...Array.from({ length: readers }, reader)]);
console.log(`soak: ${subscriberCount} subscribers connected; warming up ${warmupS} s (idle RSS ${mb(idle)} MB)`);
await sleep(warmupS * 1_000);
const warm = await settledRss(pid);
console.log(`soak: RSS after warm-up ${mb(warm)} MB; soaking ${minutes} min`);
const samples: { s: number; rssMb: number }[] = [];
const start = Date.now();
while (Date.now() - start < minutes * 60_000) {
  await sleep(Math.min(10_000, minutes * 60_000 - (Date.now() - start)));
  samples.push({ s: Math.round((Date.now() - start) / 1000), rssMb: mb(await settledRss(pid, 3)) });
}
const end = await settledRss(pid);
running = false;
await traffic;
const growth = (end - warm) / warm;
const result = {
  at: new Date().toISOString(),
  minutes,
  warmupS,
  subscribers: subscriberCount,
  writes,
  writeErrors,
  reads,
  readErrors,
  events,
  subscribersClosedEarly: closedEarly,
  rssMb: { idle: mb(idle), afterWarmup: mb(warm), afterSoak: mb(end) },
  growthPct: Math.round(growth * 1000) / 10,
  withinTenPct: growth <= 0.1,
  samples,
};
console.log(JSON.stringify({ ...result, samples: undefined }, null, 2));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/soak-${result.at.replace(/[:.]/g, '-')}.json`, import.meta.url), JSON.stringify(result, null, 2));

for (const socket of sockets) socket.terminate();
await hub.stop();
await database.destroy();
process.exit(result.withinTenPct && closedEarly === 0 ? 0 : 1);
