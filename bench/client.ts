import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';
import type { ClientMessage, ConnectCommand, DriverMessage, ReportReply, SubscriberSpec } from './protocol.js';

/**
 * A benchmark client process: opens many lightweight subscribers (raw `ws` speaking
 * graphql-transport-ws, raw TCP reading a text/event-stream response) and records, per sequence number,
 * when each of them received it. Only the `"seq":N` of each message is looked at, so the
 * client's own work stays small next to the server's. Driven over IPC by bench/fanout.ts.
 */

const now = (): number => performance.timeOrigin + performance.now();
const SEQ = Buffer.from('"seq":');
const EVENT_END = Buffer.from('\n\n');

function send(message: ClientMessage): void {
  process.send?.(message);
}

/** Parse the decimal digits at `offset` (the bytes after `"seq":`). */
function digitsAt(buffer: Buffer, offset: number): number {
  let value = 0;
  for (let i = offset; i < buffer.length; i++) {
    const c = buffer[i]!;
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
  }
  return value;
}

interface Group {
  key: string;
  size: number;
  receipts: Map<number, number[]>;
  sample?: { bytes: number; text: string };
}

const groups = new Map<string, Group>();
/** Receipts per seq over all groups, to tell the driver when a seq has reached everyone. */
const receivedBySeq = new Map<number, number>();
const completed = new Set<number>();
const closers: Array<() => void> = [];
const errors: string[] = [];
let open = 0;
let closed = 0;

function note(error: string): void {
  if (errors.length < 20) errors.push(error);
}

function groupFor(key: string): Group {
  let group = groups.get(key);
  if (!group) groups.set(key, (group = { key, size: 0, receipts: new Map() }));
  return group;
}

function receive(group: Group, seq: number, at: number, frame: Buffer): void {
  let times = group.receipts.get(seq);
  if (!times) group.receipts.set(seq, (times = []));
  times.push(at);
  group.sample ??= { bytes: frame.length, text: frame.toString('utf8', 0, Math.min(frame.length, 4096)) };
  const count = (receivedBySeq.get(seq) ?? 0) + 1;
  receivedBySeq.set(seq, count);
  if (count >= open && !completed.has(seq)) {
    completed.add(seq);
    send({ type: 'complete', seq, at });
  }
}

function onClosed(): void {
  open--;
  closed++;
}

/** One graphql-transport-ws subscriber (hub) or a bare WebSocket (baseline). */
function openWebSocket(command: ConnectCommand, spec: SubscriberSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = `ws://${command.host}:${command.port}${command.path}`;
    const socket = command.mode === 'hub' ? new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false }) : new WebSocket(url, { perMessageDeflate: false });
    let group: Group = groupFor(`ws ${spec.audience} direct`);
    let subscribed = false;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('connect timeout'));
    }, command.connectTimeoutMs);
    const ready = () => {
      subscribed = true;
      clearTimeout(timer);
      open++;
      group.size++;
      closers.push(() => socket.terminate());
      resolve();
    };
    socket.on('upgrade', (response: IncomingMessage) => {
      const upstream = command.upstreamHeader ? response.headers[command.upstreamHeader] : undefined;
      if (typeof upstream === 'string') group = groupFor(`ws ${spec.audience} ${upstream}`);
    });
    socket.on('open', () => {
      if (command.mode === 'baseline') return ready();
      const payload: Record<string, string> = { audience: spec.audience };
      if (spec.audience === 'internal' && command.internalToken) payload.authorization = `Bearer ${command.internalToken}`;
      socket.send(JSON.stringify({ type: 'connection_init', payload }));
    });
    socket.on('message', (data: Buffer) => {
      const at = now();
      const i = data.indexOf(SEQ);
      if (i >= 0) return receive(group, digitsAt(data, i + SEQ.length), at, data);
      const text = data.toString();
      if (text.includes('"connection_ack"')) {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: command.query } }));
        ready();
      } else if (text.includes('"type":"ping"')) {
        socket.send('{"type":"pong"}');
      } else if (text.includes('"type":"error"') || text.includes('"type":"complete"')) {
        note(`ws ${spec.audience}: ${text.slice(0, 300)}`);
      }
    });
    socket.on('error', (error) => {
      if (!subscribed) {
        clearTimeout(timer);
        reject(error);
      } else note(`ws ${spec.audience}: ${String(error)}`);
    });
    socket.on('close', (code, reason) => {
      if (subscribed) {
        onClosed();
        note(`ws ${spec.audience} closed ${code} ${reason.toString()}`);
      } else {
        clearTimeout(timer);
        reject(new Error(`closed ${code} ${reason.toString()}`));
      }
    });
  });
}

/**
 * One graphql-sse "distinct connections" subscriber: a POST answered with an event stream, spoken
 * over a raw TCP socket. Node's HTTP client (parser, chunked decoding, stream events) costs several
 * times what a WebSocket message costs the client, and the clients share the machine's cores with
 * the server; so the response is not decoded at all: the headers are read once, then every
 * `"seq":N` in the raw bytes is one received event (chunk framing never contains that text).
 */
function openEventStream(command: ConnectCommand, spec: SubscriberSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query: command.query });
    const lines = [
      `POST ${command.path} HTTP/1.1`,
      `host: ${command.host}:${command.port}`,
      'accept: text/event-stream',
      'content-type: application/json',
      `content-length: ${Buffer.byteLength(body)}`,
      `x-statushub-audience: ${spec.audience}`,
    ];
    if (spec.audience === 'internal' && command.internalToken) lines.push(`authorization: Bearer ${command.internalToken}`);
    const socket = connect({ host: command.host, port: command.port, noDelay: true });
    let subscribed = false;
    let head: Buffer | null = Buffer.alloc(0);
    let carry: Buffer | null = null;
    let group: Group | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timeout'));
    }, command.connectTimeoutMs);
    socket.on('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`));

    const scan = (buffer: Buffer, at: number) => {
      let from = 0;
      for (;;) {
        const i = buffer.indexOf(SEQ, from);
        if (i < 0) {
          // Keep what could be the start of a `"seq":` cut by the read boundary.
          const keep = Math.min(SEQ.length - 1, buffer.length - from);
          carry = keep > 0 ? Buffer.from(buffer.subarray(buffer.length - keep)) : null;
          return;
        }
        let end = i + SEQ.length;
        while (end < buffer.length && buffer[end]! >= 48 && buffer[end]! <= 57) end++;
        if (end === buffer.length) {
          // The number may go on in the next read.
          carry = Buffer.from(buffer.subarray(i));
          return;
        }
        receive(group!, digitsAt(buffer, i + SEQ.length), at, sseEvent(buffer, i));
        from = end;
      }
    };

    socket.on('data', (chunk: Buffer) => {
      const at = now();
      if (head) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headers = head.toString('latin1', 0, end);
        const rest = head.subarray(end + 4);
        head = null;
        const status = /^HTTP\/1\.1 (\d+)/.exec(headers)?.[1];
        if (status !== '200') {
          clearTimeout(timer);
          socket.destroy();
          return reject(new Error(`sse status ${status}`));
        }
        const upstream = command.upstreamHeader ? new RegExp(`^${command.upstreamHeader}:\\s*(.+)$`, 'im').exec(headers)?.[1]?.trim() : undefined;
        group = groupFor(`sse ${spec.audience} ${upstream ?? 'direct'}`);
        subscribed = true;
        clearTimeout(timer);
        open++;
        group.size++;
        closers.push(() => socket.destroy());
        resolve();
        if (rest.length) scan(rest, at);
        return;
      }
      const text = chunk.indexOf('"errors"') >= 0 || chunk.indexOf('event: complete') >= 0 ? chunk.toString('utf8', 0, 300) : null;
      if (text) note(`sse ${spec.audience}: ${text}`);
      scan(carry ? Buffer.concat([carry, chunk]) : chunk, at);
    });
    socket.on('error', (error) => {
      if (!subscribed) {
        clearTimeout(timer);
        reject(error);
      } else note(`sse ${spec.audience}: ${String(error)}`);
    });
    socket.on('close', () => {
      if (subscribed) onClosed();
      else {
        clearTimeout(timer);
        reject(new Error('closed before the stream started'));
      }
    });
  });
}

/** The `event: …\n\n` around position `i`, for the byte count of a sample (best effort). */
function sseEvent(buffer: Buffer, i: number): Buffer {
  const start = buffer.lastIndexOf('event: ', i);
  const end = buffer.indexOf(EVENT_END, i);
  return buffer.subarray(start < 0 ? 0 : start, end < 0 ? buffer.length : end + EVENT_END.length);
}

async function connectAll(command: ConnectCommand): Promise<void> {
  const started = now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (next < command.subscribers.length) {
      const spec = command.subscribers[next++]!;
      try {
        await (spec.transport === 'ws' ? openWebSocket(command, spec) : openEventStream(command, spec));
        ok++;
      } catch (error) {
        failed++;
        note(`${spec.transport} ${spec.audience} connect: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, command.concurrency) }, worker));
  send({ type: 'connected', ok, failed, errors: errors.slice(0, 5), ms: now() - started });
}

function report(): ReportReply {
  const receipts: ReportReply['receipts'] = {};
  const sizes: ReportReply['groups'] = {};
  const samples: ReportReply['samples'] = {};
  for (const group of groups.values()) {
    sizes[group.key] = group.size;
    receipts[group.key] = Object.fromEntries([...group.receipts].map(([seq, times]) => [String(seq), times]));
    if (group.sample) samples[group.key] = group.sample;
  }
  return { type: 'report', receipts, groups: sizes, samples, open, closed, errors };
}

process.on('message', (message: DriverMessage) => {
  if (message.type === 'connect') void connectAll(message);
  else if (message.type === 'report') send(report());
  else if (message.type === 'close') {
    for (const close of closers) close();
    setTimeout(() => process.exit(0), 200).unref();
  }
});
// The driver is gone (crashed, killed): never outlive it.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
