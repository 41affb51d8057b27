import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, parse, print } from 'graphql';
import { credentialsFrom } from '../auth/resolve-viewer.js';
import type { Yoga } from './yoga-app.js';
import { csrfHeader } from './csrf-plugin.js';
import { bodyTooLargeJson } from '../limits/body.js';
import { clientIp } from '../limits/client-ip.js';
import type { Limits } from '../limits/config.js';
import { RateLimitedError, type RateLimits } from '../limits/rate.js';
import { etagOf, sendAnswer, type Answer, type AnswerCache, type CacheViewer } from './answer-cache.js';
import { headerReader, nodeRequestUrl, readBody } from './request.js';

/**
 * GraphQL queries from anonymous and audience-token callers, answered from the AnswerCache
 * before yoga parses or validates anything: read the body (same limit as yoga's), resolve the
 * caller to its audience (remembered between events), build the key, send the bytes. The rate
 * limit an anonymous read (per IP) or a token (per token) would meet in yoga is counted here too;
 * a caller over it goes on to yoga, which refuses it.
 *
 * The key: page, audience, actor kind, response format (the media type yoga would choose from
 * Accept, not the header's text), operationName, variables, and the document text. A document
 * that differs only in spelling (spaces, commas, key order of the variables) is parsed once and
 * found under its printed form, so a client cannot force an execution by respelling a query.
 * Nothing else a client sends (Cache-Control, Pragma, extra parameters) is read.
 *
 * Everything else — mutations, subscriptions, staff, errors, non-JSON bodies — is answered by
 * yoga as before; only a query's error-free 200 answer is stored.
 */
export interface GraphqlAnswerOptions {
  cache: AnswerCache;
  yoga: Yoga;
  maxBodyBytes: number;
  rates?: RateLimits;
  trustProxy: Limits['trustProxy'];
}

type Params = { query: string; variables: unknown; operationName: string | null };

export function cachedGraphql({ cache, yoga, maxBodyBytes, rates, trustProxy }: GraphqlAnswerOptions) {
  const aliases = new Map<string, string>();
  const formats = new Map<string, string | null>();

  function formatOf(accept: string | undefined): string | null {
    const raw = accept ?? '';
    let format = formats.get(raw);
    if (format === undefined) {
      format = chooseMediaType(raw);
      if (formats.size > 1000) formats.clear();
      formats.set(raw, format);
    }
    return format;
  }

  /** The rate limit yoga's plugin would apply (server/limits/plugin.ts admitOperation, for a query). */
  async function admit(viewer: CacheViewer, req: IncomingMessage): Promise<RateLimitedError | null> {
    if (!rates) return null;
    try {
      if (viewer.actorType === 'anonymous') await rates.read(clientIp(req.socket.remoteAddress, headerReader(req)('x-forwarded-for'), trustProxy));
      else if (viewer.tokenId) await rates.tokenUse(viewer.tokenId);
      return null;
    } catch (error) {
      if (error instanceof RateLimitedError) return error;
      throw error;
    }
  }

  /** A hit, once admitted: the bytes, or the 429 yoga would have sent (never a yoga round trip). */
  async function serve(req: IncomingMessage, res: ServerResponse, viewer: CacheViewer, answer: Answer): Promise<void> {
    const refused = await admit(viewer, req);
    if (!refused) return sendAnswer(req, res, answer, cache, viewer.public, cache.metrics);
    const { retryAfter } = refused;
    const headers: Record<string, string> = { 'content-type': answer.headers['content-type'] ?? 'application/json; charset=utf-8', 'retry-after': String(retryAfter) };
    if (req.headers.origin) Object.assign(headers, { 'access-control-allow-origin': req.headers.origin, vary: 'Origin' });
    res.writeHead(429, headers).end(JSON.stringify({ errors: [{ message: refused.message, extensions: { code: 'rate/limited', retryAfter } }] }));
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method;
    const url = nodeRequestUrl(req);
    const contentType = req.headers['content-type'] ?? '';
    if (!url || (method !== 'GET' && method !== 'POST') || (method === 'POST' && !contentType.toLowerCase().startsWith('application/json'))) return void yoga(req, res);
    const credentials = credentialsFrom(url, headerReader(req));
    // yoga's CSRF check for a GET with the session cookie: let yoga refuse it.
    if (method === 'GET' && credentials.sessionToken && !req.headers[csrfHeader] && !req.headers['x-graphql-yoga-csrf']) return void yoga(req, res);

    let body: Buffer | undefined;
    let params: Params | null = null;
    if (method === 'POST') {
      body = await readBody(req, maxBodyBytes);
      if (!body) {
        res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' }).end(bodyTooLargeJson(maxBodyBytes));
        return;
      }
      params = postParams(body);
    } else {
      params = getParams(url);
    }
    const format = formatOf(req.headers.accept);

    let viewer: CacheViewer | null = null;
    let key: string | null = null;
    if (params && format) {
      try {
        viewer = await cache.viewer(credentials);
        key = cache.keyOf(viewer, `${format}\n${params.operationName ?? ''}\n${JSON.stringify(params.variables ?? null)}\n${params.query}`);
      } catch {
        viewer = null; // refused: yoga answers the refusal
      }
    }
    let canonical: string | null = null;
    if (viewer && key && params) {
      const hit = cache.get(viewer.pageId, aliases.get(key) ?? key);
      if (hit) return serve(req, res, viewer, hit);
      canonical = canonicalKey(cache, viewer, format!, params);
      if (canonical && canonical !== key) {
        if (aliases.size > 10_000) aliases.clear();
        aliases.set(key, canonical);
        const found = cache.get(viewer.pageId, canonical);
        if (found) return serve(req, res, viewer, found);
      }
      cache.metrics.misses++;
    }

    // A miss (or not ours): yoga answers, with the body already read.
    const generation = viewer ? cache.generation(viewer.pageId) : 0;
    const runYoga = async (): Promise<YogaAnswer> => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else headers.set(name, value);
      }
      const response = await yoga.fetch(new Request(url, { method, headers, body: body as unknown as BodyInit | undefined }), { req, res });
      return { response, bytes: Buffer.from(await response.arrayBuffer()) };
    };
    const sendYoga = ({ response, bytes }: YogaAnswer) => {
      const out: Record<string, string | string[]> = {};
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie' && name !== 'content-length') out[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) out['set-cookie'] = cookies;
      res.writeHead(response.status, out).end(bytes);
    };
    if (!viewer || !canonical) return sendYoga(await runYoga());

    // Requests that miss together (a rush right after an event) wait for one execution.
    const pageId = viewer.pageId;
    let own: YogaAnswer | undefined;
    const { answer, leader } = await cache.once(pageId, canonical, generation, async () => {
      own = await runYoga();
      const { response, bytes } = own;
      if (response.status !== 200 || !isCleanJson(response, bytes)) return null;
      const kept: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'vary' && name !== 'cache-control' && name !== 'set-cookie' && !name.startsWith('access-control-')) kept[name] = value;
      });
      const made: Answer = { status: 200, headers: kept, body: bytes, etag: etagOf(bytes) };
      cache.store(pageId, canonical, generation, made);
      return made;
    });
    // The leader was admitted by yoga's own limits; a request that waited is counted like a hit.
    if (answer) return leader ? sendAnswer(req, res, answer, cache, viewer.public, cache.metrics) : serve(req, res, viewer, answer);
    return sendYoga(own ?? (await runYoga()));
  };
}

type YogaAnswer = { response: Response; bytes: Buffer };

/** The printed document and sorted variables: null unless it is a query (never stored otherwise). */
function canonicalKey(cache: AnswerCache, viewer: CacheViewer, format: string, params: Params): string | null {
  try {
    const document = parse(params.query, { noLocation: true, maxTokens: 10_000 });
    const operation = getOperationAST(document, params.operationName ?? undefined);
    if (!operation || operation.operation !== 'query') return null;
    return cache.keyOf(viewer, `${format}\n${params.operationName ?? ''}\n${sortedJson(params.variables ?? null)}\n${print(document)}`);
  } catch {
    return null;
  }
}

function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

function isCleanJson(response: Response, bytes: Buffer): boolean {
  if (!response.headers.get('content-type')?.includes('json')) return false;
  try {
    const result = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    return !!result && typeof result === 'object' && !('errors' in result) && 'data' in result;
  } catch {
    return false;
  }
}

function postParams(body: Buffer): Params | null {
  try {
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (!json || typeof json !== 'object' || Array.isArray(json) || typeof json.query !== 'string') return null;
    const { variables, operationName } = json;
    if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
    if (operationName != null && typeof operationName !== 'string') return null;
    return { query: json.query, variables: variables ?? null, operationName: (operationName as string | null | undefined) ?? null };
  } catch {
    return null;
  }
}

function getParams(url: URL): Params | null {
  const query = url.searchParams.get('query');
  if (!query) return null;
  const raw = url.searchParams.get('variables');
  let variables: unknown = null;
  if (raw) {
    try {
      variables = JSON.parse(raw);
    } catch {
      return null;
    }
    if (variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  }
  return { query, variables, operationName: url.searchParams.get('operationName') || null };
}

/**
 * The media type yoga's result processors would answer a query with, from Accept (the same walk
 * as graphql-yoga's use-result-processor: the last match wins); null unless it is JSON.
 */
export function chooseMediaType(accept: string): string | null {
  const wanted = (accept || '*/*')
    .replace(/\s/g, '')
    .toLowerCase()
    .split(',')
    .flatMap((entry) => {
      const [type, ...params] = entry.split(';');
      const charset = params.find((p) => p.includes('charset=')) ?? 'charset=utf-8';
      return type !== undefined && charset === 'charset=utf-8' ? [type] : [];
    })
    .reverse();
  const processors = [['text/event-stream'], ['multipart/mixed'], ['application/graphql-response+json', 'application/json']];
  let chosen: string | null = null;
  for (const types of processors)
    for (const asked of wanted)
      for (const type of types) {
        // yoga's isMatchingMediaType(processor, asked): the wildcard is the asker's.
        const [ap, as] = asked.split('/');
        const [p, s] = type.split('/');
        if ((ap === '*' || ap === p) && (as === '*' || as === s)) chosen = type;
      }
  return chosen === 'application/json' || chosen === 'application/graphql-response+json' ? chosen : null;
}
