import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

/**
 * The baselines of bench/read.ts, one per process:
 * - `yoga`: a bare graphql-yoga answering `{ hello }` (defaults: parse/validate caches on, no
 *   plugins of ours);
 * - `node`: a bare node:http server sending the bytes in BYTES_FILE to every request, with the
 *   headers in BYTES_HEADERS (JSON; the hub's own for that answer);
 * - `find-my-way`, `fastify`, `hono`: the candidate routers for the hub's HTTP edge (issue 10 §3),
 *   each with the hub's route table registered and the same bytes at `/api/v2/summary.json`, so
 *   what a router costs per request is measured beside the bare server in the same run.
 *
 *   tsx bench/read-servers.ts yoga|node|find-my-way|fastify|hono <port>
 */
const [mode, port] = process.argv.slice(2);
const host = '127.0.0.1';
const ready = () => process.send?.('ready');
const body = mode === 'yoga' ? Buffer.alloc(0) : readFileSync(process.env.BYTES_FILE!);
/** The hub's own response headers for these bytes (bench/read.ts passes them), so the same bytes go on the wire. */
const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...(process.env.BYTES_HEADERS ? (JSON.parse(process.env.BYTES_HEADERS) as Record<string, string>) : {}) };
const sent = { ...headers, 'content-length': String(body.byteLength) };
/** The paths the hub routes besides the measured one (server/http/server.ts). */
const otherRoutes = ['/graphql', '/graphql/*', '/healthz', '/readyz', '/metrics', '/api', '/d/:slug/api', '/d/:slug/api/*', '/badge.svg', '/history.atom', '/history.rss', '/embed.js'];
const measured = '/api/v2/*';

if (mode === 'yoga') {
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String! }', resolvers: { Query: { hello: () => 'world' } } }),
    logging: false,
    landingPage: false,
  });
  createServer(yoga).listen(Number(port), host, ready);
} else if (mode === 'node') {
  createServer((req, res) => {
    // Drain the request body like any server must, then the same bytes every time.
    req.resume();
    req.on('end', () => res.writeHead(200, sent).end(body));
  }).listen(Number(port), host, ready);
} else if (mode === 'find-my-way') {
  const { default: Router } = await import('find-my-way');
  const router = Router({ querystringParser: () => ({}), defaultRoute: (_req, res) => void res.writeHead(404).end() });
  for (const path of otherRoutes) router.all(path, (_req, res) => void res.writeHead(204).end());
  router.all(measured, (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => res.writeHead(200, sent).end(body));
  });
  createServer((req, res) => router.lookup(req, res)).listen(Number(port), host, ready);
} else if (mode === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  for (const path of otherRoutes) app.all(path, (_req, reply) => void reply.code(204).send());
  app.all(measured, (_req, reply) => void reply.headers(headers).send(body));
  await app.listen({ port: Number(port), host });
  ready();
} else if (mode === 'hono') {
  const [{ Hono }, { serve }] = await Promise.all([import('hono'), import('@hono/node-server')]);
  const app = new Hono();
  for (const path of otherRoutes) app.all(path, (c) => c.body(null, 204));
  app.all(measured, (c) => c.body(body, 200, headers));
  serve({ fetch: app.fetch, port: Number(port), hostname: host }, ready);
} else {
  throw new Error(`unknown mode ${mode}`);
}
