import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notifyConfigFromEnv, type NotifyConfig } from '../../server/notify/config.js';
import { webhookChannel } from '../../server/notify/channels/webhook.js';
import { emailChannel } from '../../server/notify/channels/email.js';
import { chatSmsChannels } from '../../server/notify/channels/chat-sms.js';
import { createNotifyWorker, type NotifyWorker } from '../../server/notify/worker.js';
import type { Db } from '../../server/db/client.js';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status: number;
}

/** A real local HTTP receiver: records every request; `respond` chooses each answer's status. */
export interface Receiver {
  url: string;
  requests: Received[];
  respond: (request: { path: string; headers: IncomingHttpHeaders; body: string }) => number;
  /** Answer each request this much later (a slow receiver). */
  delayMs: number;
  /** Wait until `predicate` holds over the requests (or throw after `timeoutMs`). */
  waitFor(predicate: (requests: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    requests: [],
    respond: () => 200,
    delayMs: 0,
    async waitFor(predicate, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(receiver.requests)) {
        if (Date.now() > until) throw new Error(`receiver: condition not met after ${timeoutMs} ms (${receiver.requests.length} requests)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = receiver.respond({ path: req.url ?? '/', headers: req.headers, body });
      receiver.requests.push({ path: req.url ?? '/', headers: req.headers, body, status });
      if (receiver.delayMs) setTimeout(() => res.writeHead(status).end(), receiver.delayMs);
      else res.writeHead(status).end();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = receiver.close;
  receiver.close = () => {
    server.closeAllConnections();
    return close();
  };
  return receiver;
}

/** Settings for tests: local receivers allowed, no consolidation wait, quick retries. */
export function testNotifyConfig(overrides: Record<string, string> = {}): NotifyConfig {
  return notifyConfigFromEnv({
    NOTIFY_ALLOW_PRIVATE_TARGETS: 'true',
    NOTIFY_CONSOLIDATE_MS: '0',
    NOTIFY_RETRY_BASE_MS: '20',
    NOTIFY_POLL_MS: '20',
    NOTIFY_TIMEOUT_MS: '5000',
    NOTIFY_MAX_PER_HOUR: '1000',
    ...overrides,
  });
}

export function testWorker(db: Db, config: NotifyConfig = testNotifyConfig()): NotifyWorker & { close(): Promise<void> } {
  const webhook = webhookChannel({ timeoutMs: config.timeoutMs, allowPrivateTargets: config.allowPrivateTargets });
  const worker = createNotifyWorker({ db, config, origin: 'https://status.test', channels: [webhook] });
  return {
    ...worker,
    async close() {
      await worker.stop();
      webhook.close();
    },
  };
}

/** Run the worker until nothing is left to do now. */
export async function drain(worker: NotifyWorker, rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) if ((await worker.runOnce()) === 0) return;
}

export const createSubscriberMutation = /* GraphQL */ `
  mutation ($input: SubscriberInput!) {
    createSubscriber(input: $input) {
      signingSecret
      manageToken
      subscriber { id audience channel target state signingSecretCount }
    }
  }
`;

/** Run the worker (retries included) until `done` holds. */
export async function runUntil(worker: NotifyWorker, done: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`worker: condition not met after ${timeoutMs} ms`);
    if ((await worker.runOnce()) === 0) await new Promise((r) => setTimeout(r, 20));
  }
}

/** A local fake of Twilio's Messages API: checks Basic auth and the form, records each message, answers per `respond`. */
export interface FakeSms {
  url: string;
  messages: { to: string; from: string; body: string; key: string; at: number }[];
  /** Refused requests (bad auth, path or form), which must stay empty. */
  refused: string[];
  respond: (to: string, attempt: number) => { status: number; body?: unknown; headers?: Record<string, string> };
  close(): Promise<void>;
}

export async function startFakeSms(sid: string, token: string): Promise<FakeSms> {
  const fake: FakeSms = { url: '', messages: [], refused: [], respond: () => ({ status: 201 }), close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${sid}/Messages.json`) return fake.refused.push(`path ${req.url}`), reply(404, { code: 20404 });
      if (req.headers.authorization !== `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`) return fake.refused.push('auth'), reply(401, { code: 20003 });
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded' || !form.get('To') || !form.get('From') || !form.get('Body')) return fake.refused.push('form'), reply(400, { code: 21602 });
      const to = form.get('To')!;
      const key = String(req.headers['i-twilio-idempotency-token'] ?? '');
      fake.messages.push({ to, from: form.get('From')!, body: form.get('Body')!, key, at: Date.now() });
      const answer = fake.respond(to, fake.messages.filter((m) => m.to === to).length);
      reply(answer.status, answer.body ?? { sid: `SM${fake.messages.length}`, status: 'queued', to }, answer.headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return fake;
}

/** The fake SMS account's settings, for `testNotifyConfig` (with SMS_PROVIDER_URL, the fake's url). */
export const fakeSmsAccount = { SMS_ACCOUNT_SID: 'AC0123', SMS_AUTH_TOKEN: 'secret-token', SMS_FROM: '+15550000000' };

/** A worker with every channel: webhook, email over `smtpUrl`, Slack, Teams, and SMS through the fake at `smsUrl`. */
export function everyChannelWorker(db: Db, sinks: { smtpUrl: string; smsUrl: string }, overrides: Record<string, string> = {}): NotifyWorker & { close(): Promise<void> } {
  const config = testNotifyConfig({ SMS_PROVIDER_URL: sinks.smsUrl, ...fakeSmsAccount, ...overrides });
  const channels = [
    webhookChannel({ timeoutMs: config.timeoutMs, allowPrivateTargets: config.allowPrivateTargets }),
    emailChannel({ smtpUrl: sinks.smtpUrl, from: 'Status <status@status.test>', timeoutMs: config.timeoutMs }),
    ...chatSmsChannels(config),
  ];
  const worker = createNotifyWorker({ db, config, origin: 'https://status.test', channels });
  return {
    ...worker,
    async close() {
      await worker.stop();
      channels.forEach((c) => c.close());
    },
  };
}
