import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

/**
 * The baselines of bench/read.ts, one per process: `yoga` — a bare graphql-yoga answering
 * `{ hello }` (defaults: parse/validate caches on, no plugins of ours); `node` — a bare node:http
 * server sending the bytes in BYTES_FILE (the hub's own public page answer) to every request.
 *
 *   tsx bench/read-servers.ts yoga|node <port>
 */
const [mode, port] = process.argv.slice(2);
let server;
if (mode === 'yoga') {
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String! }', resolvers: { Query: { hello: () => 'world' } } }),
    logging: false,
    landingPage: false,
  });
  server = createServer(yoga);
} else {
  const body = readFileSync(process.env.BYTES_FILE!);
  const contentType = process.env.BYTES_TYPE ?? 'application/json; charset=utf-8';
  server = createServer((req, res) => {
    // Drain the request body like any server must, then the same bytes every time.
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': contentType, 'content-length': body.byteLength }).end(body));
  });
}
server.listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
