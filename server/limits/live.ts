import type { IncomingMessage } from 'node:http';
import { GraphQLError, OperationTypeNode } from 'graphql';
import type { Viewer } from '../auth/viewer.js';
import { clientIp } from './client-ip.js';
import type { Limits } from './config.js';
import { limitTier, withoutHttp, type DocumentLimiter } from './graphql.js';
import { admitOperation } from './plugin.js';
import type { RateLimits } from './rate.js';

/**
 * The limits of the live transports (graphql-ws in server/realtime/ws.ts, SSE in
 * server/realtime/sse.ts): per-caller document limits, subscriptions per socket, SSE streams per
 * client IP, and the same rate limits as yoga. Each check answers the errors to send, or null.
 */
export class LiveLimits {
  private readonly sseStreams = new Map<string, number>();

  constructor(
    readonly limits: Limits,
    readonly documents: DocumentLimiter,
    private readonly rates: RateLimits,
  ) {}

  ip(req: IncomingMessage): string {
    const forwarded = req.headers['x-forwarded-for'];
    return clientIp(req.socket?.remoteAddress, Array.isArray(forwarded) ? forwarded.join(',') : forwarded, this.limits.trustProxy);
  }

  /** Rate limits for one operation on a graphql-ws connection. */
  admitWs(kind: OperationTypeNode, req: IncomingMessage, viewer: Viewer): Promise<GraphQLError[] | null> {
    return this.rate(kind, req, viewer);
  }

  /** A refusal when a graphql-ws connection holds `open` live subscriptions already (call it synchronously before adding one). */
  socketFull(open: number): GraphQLError[] | null {
    const max = this.limits.wsSubscriptionsPerSocket;
    if (open < max) return null;
    return [new GraphQLError(`Too many subscriptions on this connection: at most ${max}`, { extensions: { code: 'rate/too_many_subscriptions', max } })];
  }

  /**
   * One SSE stream: its document for this viewer, the streams its IP holds, the new-subscription
   * rate. On success, `release` must run when the stream ends.
   */
  async admitSse(req: IncomingMessage, viewer: Viewer, document: import('graphql').DocumentNode): Promise<{ errors: GraphQLError[] } | { release(): void }> {
    const refused = this.documents.check(document, limitTier(viewer));
    if (refused.length) return { errors: withoutHttp(refused) };
    const ip = this.ip(req);
    const held = this.sseStreams.get(ip) ?? 0;
    const max = this.limits.sseStreamsPerClient;
    if (held >= max) {
      return { errors: [new GraphQLError(`Too many open event streams from this client: at most ${max}`, { extensions: { code: 'rate/too_many_streams', max } })] };
    }
    const limited = await this.rate(OperationTypeNode.SUBSCRIPTION, req, viewer);
    if (limited) return { errors: limited };
    // Counted only now: nothing awaits between the check above and here but the rate limit,
    // so re-read the count rather than trust `held`.
    const now = this.sseStreams.get(ip) ?? 0;
    if (now >= max) return { errors: [new GraphQLError(`Too many open event streams from this client: at most ${max}`, { extensions: { code: 'rate/too_many_streams', max } })] };
    this.sseStreams.set(ip, now + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.sseStreams.get(ip) ?? 1) - 1;
        if (left > 0) this.sseStreams.set(ip, left);
        else this.sseStreams.delete(ip);
      },
    };
  }

  private async rate(kind: OperationTypeNode, req: IncomingMessage, viewer: Viewer): Promise<GraphQLError[] | null> {
    try {
      await admitOperation(this.rates, viewer, kind, this.ip(req));
      return null;
    } catch (error) {
      if (error instanceof GraphQLError) return withoutHttp([error]);
      throw error;
    }
  }
}
