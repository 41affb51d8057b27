import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Request body limit for /graphql. server/http/server.ts answers a declared Content-Length over the
 * limit before yoga sees the request; this plugin counts the bytes of a body without one
 * (chunked) as yoga reads it and stops at the limit, so nothing past it is buffered or parsed.
 */

export function bodyTooLarge(limit: number): GraphQLError {
  return new GraphQLError(`Request body too large: at most ${limit} bytes`, { extensions: { code: 'input/too_large', max: limit, http: { status: 413 } } });
}

export function bodyTooLargeJson(limit: number): string {
  return JSON.stringify({ errors: [{ message: `Request body too large: at most ${limit} bytes`, extensions: { code: 'input/too_large', max: limit } }] });
}

/** True when the request declares a body over the limit (then the 413 has been sent). */
export function refuseDeclaredBody(req: IncomingMessage, res: ServerResponse, limit: number): boolean {
  const declared = req.headers['content-length'];
  if (declared === undefined || !/^\d+$/.test(declared) || Number(declared) <= limit) return false;
  // `connection: close`: the body is never read, so the socket cannot carry another request.
  res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' }).end(bodyTooLargeJson(limit));
  req.resume();
  return true;
}

export function useBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      const declared = request.headers.get('content-length');
      if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) throw bodyTooLarge(limit);
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser(async (req) => {
        const body = req.body;
        if (!body) return parse(req);
        const chunks: Uint8Array[] = [];
        let size = 0;
        const reader = body.getReader();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          size += chunk.value.byteLength;
          if (size > limit) {
            await reader.cancel().catch(() => {});
            throw bodyTooLarge(limit);
          }
          chunks.push(chunk.value);
        }
        const bytes = new Uint8Array(size);
        let at = 0;
        for (const c of chunks) {
          bytes.set(c, at);
          at += c.byteLength;
        }
        return parse(new Request(req.url, { method: req.method, headers: req.headers, body: bytes }));
      });
    },
  };
}
