/** Messages between the benchmark driver (bench/fanout.ts) and its client processes (bench/client.ts). */

export type Transport = 'ws' | 'sse';

/** One subscriber a client process opens. */
export interface SubscriberSpec {
  transport: Transport;
  /** `public`, `internal` or `deployment:<slug>`; unused against the plain ws baseline. */
  audience: string;
}

export interface ConnectCommand {
  type: 'connect';
  /** `hub`: graphql-transport-ws / graphql-sse against statushub; `baseline`: a bare WebSocket. */
  mode: 'hub' | 'baseline';
  host: string;
  port: number;
  path: string;
  query: string;
  /** Bearer token for the `internal` audience. */
  internalToken?: string;
  subscribers: SubscriberSpec[];
  /** Connections being opened at once by this process. */
  concurrency: number;
  /** Per connection: from socket open to subscribed. */
  connectTimeoutMs: number;
  /** Response header naming the upstream node (set by the benchmark's nginx config). */
  upstreamHeader?: string;
}

export type DriverMessage = ConnectCommand | { type: 'report' } | { type: 'close' };

export interface ConnectedReply {
  type: 'connected';
  ok: number;
  failed: number;
  errors: string[];
  ms: number;
}

/** Sent once per sequence number, when every open subscriber of this process has received it. */
export interface CompleteReply {
  type: 'complete';
  seq: number;
  at: number;
}

export interface ReportReply {
  type: 'report';
  /** Receipt times (epoch ms) by subscriber group (`transport audience upstream`) and seq. */
  receipts: Record<string, Record<string, number[]>>;
  /** Subscribers per group. */
  groups: Record<string, number>;
  /** First frame received per group: its bytes on the wire and (truncated) text. */
  samples: Record<string, { bytes: number; text: string }>;
  open: number;
  closed: number;
  errors: string[];
}

export type ClientMessage = ConnectedReply | CompleteReply | ReportReply | { type: 'ready' };
