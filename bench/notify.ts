import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http, { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { and, eq, sql } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import postgres from 'postgres';
import { SMTPServer } from 'smtp-server';

/**
 * `npm run bench:notify`: one incident update to BENCH_EMAILS (10,000) email subscribers and
 * BENCH_WEBHOOKS (1,000) webhook subscribers, received by a local SMTP server (`smtp-server`,
 * accepts everything) and a local HTTP server, both in a child process of their own (so what the
 * notifier costs is not mixed with what receiving costs). It reports, per channel and in all:
 * the time from the write's commit to the first and to the last delivery, and deliveries per
 * second; and the write's latency (postIncidentUpdate, median of BENCH_WRITES, 20) with 0 and with
 * every subscriber, which must not grow: the write adds one outbox row whatever their number. Each
 * of those writes alternates with one on a second page that never has subscribers, the
 * same-moment reference: the ratio is (with ÷ its reference) ÷ (without ÷ its reference).
 *
 * The machine is shared, so the delivery figures are also given as ratios to a bare baseline
 * measured in the same run, on the same sinks, with the same message bytes and the same number
 * of sends in flight (the worker's NOTIFY_CONCURRENCY): nodemailer with the channel's own
 * transport settings (`smtpTransportOptions`, the email channel's ceiling) and plain keep-alive
 * HTTP POSTs (the webhook's), each alone and both at once (what the worker does).
 *
 * Every delivery is verified: the sinks count unique `webhook-id`s and `Message-ID`s (and the
 * recipients), each must be exactly one subscriber's idempotency key `msg_<seq>_<subscriber>`,
 * no duplicates, and every delivery row must be `sent`; otherwise, or after BENCH_TIMEOUT_S (300),
 * it fails (exit 1). A fresh database on DATABASE_URL's server (dropped afterwards; BENCH_POOL
 * connections, 10 as the hub's), in-memory PGlite without it. The worker runs in this process with NOTIFY_* from the environment over
 * bench defaults (no consolidation wait); SMTP settings from NOTIFY_SMTP_* (email-config.ts).
 * BENCH_PG_SAMPLE=1 adds what PostgreSQL was busy with during the run (pg_stat_activity samples).
 * Writes bench/results/notify-<time>.json.
 */

type SinkCommand = { type: 'reset' } | { type: 'stats'; ids: boolean };
interface ChannelStats {
  received: number;
  unique: number;
  duplicates: number;
  /** performance.timeOrigin + performance.now() (one clock for every process on this host). */
  firstAt: number;
  lastAt: number;
  bytes: number;
  ids?: string[];
  recipients?: string[];
}
interface SinkStats {
  webhook: ChannelStats;
  email: ChannelStats;
  cpuMs: number;
}

const now = () => performance.timeOrigin + performance.now();

if (process.argv[2] === 'sinks') runSinks();
else await main();

/** The child process: an HTTP and an SMTP receiver that count what arrives. */
function runSinks(): void {
  const fresh = () => ({ received: 0, duplicates: 0, firstAt: 0, lastAt: 0, bytes: 0, ids: new Set<string>(), recipients: new Set<string>() });
  let webhook = fresh();
  let email = fresh();
  const arrived = (c: ReturnType<typeof fresh>, id: string, bytes: number) => {
    c.lastAt = now();
    if (!c.firstAt) c.firstAt = c.lastAt;
    c.received++;
    c.bytes += bytes;
    if (c.ids.has(id)) c.duplicates++;
    else c.ids.add(id);
  };
  const httpServer = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const id = String(req.headers['webhook-id'] ?? '');
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      arrived(webhook, id, bytes);
      res.writeHead(204).end();
    });
  });
  httpServer.maxRequestsPerSocket = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    maxClients: 1000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const head = raw.subarray(0, Math.min(raw.length, 16_384)).toString('latin1');
        const headers = head.slice(0, head.search(/\r?\n\r?\n/) >>> 0);
        const id = /^Message-ID:\s*(<[^>\r\n]*>)/im.exec(headers)?.[1] ?? '';
        for (const r of session.envelope.rcptTo) email.recipients.add(r.address);
        arrived(email, id, raw.length);
        callback();
      });
    },
  });
  const out = (c: ReturnType<typeof fresh>, ids: boolean): ChannelStats => ({
    received: c.received,
    unique: c.ids.size,
    duplicates: c.duplicates,
    firstAt: c.firstAt,
    lastAt: c.lastAt,
    bytes: c.bytes,
    ...(ids ? { ids: [...c.ids], recipients: [...c.recipients] } : {}),
  });
  process.on('message', (m: SinkCommand) => {
    if (m.type === 'reset') {
      webhook = fresh();
      email = fresh();
      process.send!({ type: 'ok' });
    } else if (m.type === 'stats') {
      const cpu = process.cpuUsage();
      process.send!({ type: 'stats', stats: { webhook: out(webhook, m.ids), email: out(email, m.ids), cpuMs: (cpu.user + cpu.system) / 1000 } satisfies SinkStats });
    }
  });
  process.on('disconnect', () => process.exit(0));
  httpServer.listen(0, '127.0.0.1', () =>
    smtp.listen(0, '127.0.0.1', () =>
      process.send!({ type: 'ready', httpPort: (httpServer.address() as AddressInfo).port, smtpPort: (smtp.server.address() as AddressInfo).port }),
    ),
  );
}

async function main(): Promise<void> {
  const { systemViewer } = await import('../server/auth/viewer.js');
  const { newSecret } = await import('../server/auth/secrets.js');
  const { ensureDefaultPage } = await import('../server/bootstrap.js');
  const { notificationDeliveries, notificationOutbox, pages, subscribers } = await import('../server/db/tables/index.js');
  const { emailChannel, renderEmail, smtpTransportOptions } = await import('../server/notify/channels/email.js');
  const { newSigningSecret, webhookChannel } = await import('../server/notify/channels/webhook.js');
  const { notifyConfigFromEnv } = await import('../server/notify/config.js');
  const { emailConfigFromEnv } = await import('../server/notify/email-config.js');
  const { newLinkToken, subscriptionLinks } = await import('../server/notify/links.js');
  type Channel = import('../server/notify/channels/channel.js').Channel;
  // BENCH_WORKER: a candidate worker module to measure instead (a path), e.g. a patched copy.
  const { createNotifyWorker } = (await import(process.env.BENCH_WORKER || '../server/notify/worker.js')) as typeof import('../server/notify/worker.js');
  const catalog = await import('../server/services/catalog.js');
  const incidents = await import('../server/services/incidents.js');
  const { createTestDatabase } = await import('../tests/helpers/database.js');
  const { openDatabase } = await import('../server/db/client.js');
  type ServiceContext = import('../server/services/context.js').ServiceContext;

  const emails = Number(process.env.BENCH_EMAILS ?? 10_000);
  const webhooks = Number(process.env.BENCH_WEBHOOKS ?? 1000);
  const writes = Number(process.env.BENCH_WRITES ?? 20);
  const timeoutMs = Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const round = (x: number, digits = 1) => +x.toFixed(digits);
  const log = (s: string) => process.stderr.write(`${s}\n`);

  /**
   * A fresh database on DATABASE_URL's server, dropped afterwards, with the hub's pool
   * (BENCH_POOL, 10: the worker runs in the hub's process and shares its pool); PGlite without it.
   */
  async function openBenchDatabase(): Promise<Awaited<ReturnType<typeof createTestDatabase>>> {
    const url = process.env.DATABASE_URL;
    if (!url) return createTestDatabase();
    const name = `statushub_bench_notify_${Date.now().toString(36)}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    const benchUrl = new URL(url);
    benchUrl.pathname = `/${name}`;
    const database = await openDatabase({ url: benchUrl.toString(), poolSize: Number(process.env.BENCH_POOL ?? 10) });
    return {
      ...database,
      url: benchUrl.toString(),
      async destroy() {
        await database.close();
        await admin.unsafe(`drop database if exists "${name}" with (force)`);
        await admin.end();
      },
    };
  }

  // The sinks, in a process of their own.
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['sinks'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<{ httpPort: number; smtpPort: number }>((resolve, reject) => {
    child.once('message', (m: { type: string; httpPort: number; smtpPort: number }) => (m.type === 'ready' ? resolve(m) : reject(new Error(String(m.type)))));
    child.once('exit', (code) => reject(new Error(`sinks exited (${code})`)));
  });
  const ask = <T>(command: SinkCommand): Promise<T> =>
    new Promise((resolve) => {
      child.once('message', (m: T) => resolve(m));
      child.send(command);
    });
  const sinkStats = (ids = false) => ask<{ stats: SinkStats }>({ type: 'stats', ids }).then((m) => m.stats);
  const resetSinks = () => ask({ type: 'reset' });
  const sinkUrl = `http://127.0.0.1:${ports.httpPort}`;
  const smtpUrl = `smtp://127.0.0.1:${ports.smtpPort}`;

  /** Busy jiffies of the whole machine, this process's and the sinks', to tell noise from work. */
  const cpuOf = (pid: number | 'all'): number => {
    if (pid === 'all') {
      const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
      return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) * 10;
    }
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  /**
   * Cores used over a window: this process (the worker), the sinks, PostgreSQL (every database on
   * the server: other processes' too) and everything else (noise). A PostgreSQL backend that ended
   * within the window is missed, so `others` is an upper bound.
   */
  /** CPU ms of each PostgreSQL process (server and backends) now. */
  const postgresCpu = () => {
    const byPid = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') byPid.set(Number(entry), cpuOf(Number(entry)));
      } catch {
        // gone meanwhile
      }
    }
    return byPid;
  };
  const cpuWindow = () => {
    const start = { all: cpuOf('all'), self: cpuOf(process.pid), sinks: cpuOf(child.pid!), postgres: postgresCpu(), at: now() };
    return () => {
      const wallMs = now() - start.at;
      const self = cpuOf(process.pid) - start.self;
      const sinks = cpuOf(child.pid!) - start.sinks;
      let postgres = 0;
      for (const [pid, ms] of postgresCpu()) postgres += ms - (start.postgres.get(pid) ?? 0);
      const all = cpuOf('all') - start.all;
      return {
        wallMs: round(wallMs),
        benchCores: round(self / wallMs, 2),
        sinkCores: round(sinks / wallMs, 2),
        postgresCores: round(postgres / wallMs, 2),
        otherCores: round((all - self - sinks - postgres) / wallMs, 2),
      };
    };
  };
  /**
   * BENCH_PG_SAMPLE=1: what PostgreSQL is busy with during the notify run, sampled from
   * pg_stat_activity every 20 ms on a connection of its own (the first 90 characters of each active
   * statement of this database, and its wait event): where the worker waits.
   */
  function pgSampler(): () => Promise<{ samples: number; top: { statement: string; share: number }[] } | null> {
    if (!process.env.BENCH_PG_SAMPLE || !database.url) return async () => null;
    const client = postgres(database.url, { max: 1, onnotice: () => {} });
    const counts = new Map<string, number>();
    let samples = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        const rows = await client<{ q: string; w: string | null }[]>`select left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 90) as q, wait_event as w from pg_stat_activity where datname = current_database() and state = 'active' and pid <> pg_backend_pid()`;
        samples++;
        for (const r of rows) {
          const key = `${r.q}${r.w ? ` [${r.w}]` : ''}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    return async () => {
      stop = true;
      await loop;
      await client.end();
      const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([statement, n]) => ({ statement, share: round(n / samples, 3) }));
      return { samples, top };
    };
  }

  const database = await openBenchDatabase();
  let failed: string[] = [];
  try {
    const { page } = await ensureDefaultPage(database.db);
    // A second page that never has subscribers: its writes, interleaved with the first page's,
    // are the same-moment reference on a noisy machine.
    const [quietPage] = await database.db.insert(pages).values({ slug: 'quiet', name: 'Quiet' }).returning();
    async function pageWithIncident(p: typeof page) {
      const ctx: ServiceContext = { db: database.db, viewer: systemViewer(p, 'bench') };
      const component = await catalog.createComponent(ctx, { name: 'API' });
      const incident = await incidents.createIncident(ctx, {
        title: 'Elevated error rates',
        status: 'investigating',
        impact: 'minor',
        message: 'We are investigating.',
        components: [{ componentId: component.id, status: 'degraded_performance' }],
      });
      return { ctx, incident };
    }
    const { ctx, incident } = await pageWithIncident(page);
    const quiet = await pageWithIncident(quietPage!);

    /** BENCH_WRITES updates on each page, alternating: median latency and statements of each. */
    async function writeLatencies(label: string) {
      const times = { page: [] as number[], quiet: [] as number[] };
      const statements = { page: 0, quiet: 0 };
      for (let i = 0; i < writes * 2; i++) {
        const which = i % 2 ? 'quiet' : 'page';
        const target = which === 'page' ? { ctx, incident } : quiet;
        const before = database.queries.count;
        const t0 = performance.now();
        await incidents.postIncidentUpdate(target.ctx, target.incident.id, { status: 'identified', message: `${label} ${i}` });
        times[which].push(performance.now() - t0);
        statements[which] = database.queries.count - before;
      }
      // Not sent: these updates only measure the write.
      await database.db.execute(sql`update notification_outbox set processed_at = now() where processed_at is null`);
      return { medianMs: median(times.page), quietMedianMs: median(times.quiet), statements: statements.page, quietStatements: statements.quiet };
    }

    await writeLatencies('warm-up'); // unmeasured: the first writes of a fresh database are slower
    const without = await writeLatencies('without subscribers');
    // Rows as the services write them (active: confirmed email, staff-made webhook), in bulk.
    log(`inserting ${emails} email and ${webhooks} webhook subscribers…`);
    const CHUNK = 1000;
    for (let i = 0; i < emails; i += CHUNK) {
      await database.db.insert(subscribers).values(
        Array.from({ length: Math.min(CHUNK, emails - i) }, (_, j) => ({
          pageId: page.id,
          audienceKind: 'public' as const,
          channel: 'email' as const,
          target: `reader-${i + j}@bench.test`,
          state: 'active' as const,
          manageTokenHash: newLinkToken('manage').hash,
        })),
      );
    }
    for (let i = 0; i < webhooks; i += CHUNK) {
      await database.db.insert(subscribers).values(
        Array.from({ length: Math.min(CHUNK, webhooks - i) }, (_, j) => ({
          pageId: page.id,
          audienceKind: 'public' as const,
          channel: 'webhook' as const,
          target: `${sinkUrl}/hook/${i + j}`,
          state: 'active' as const,
          manageTokenHash: newSecret('session').hash,
          signingSecrets: [newSigningSecret()],
        })),
      );
    }
    const subscriberRows = await database.db.select({ id: subscribers.id, channel: subscribers.channel, target: subscribers.target }).from(subscribers);
    const withSubscribers = await writeLatencies(`with ${emails + webhooks} subscribers`);

    // The measured update.
    const config = notifyConfigFromEnv({ NOTIFY_ALLOW_PRIVATE_TARGETS: 'true', NOTIFY_CONSOLIDATE_MS: '0', NOTIFY_MAX_PER_HOUR: '1000000', ...process.env });
    const mailer = emailConfigFromEnv({ NOTIFY_EMAIL_FROM: 'Status <status@bench.test>', ...process.env, SMTP_URL: smtpUrl })!;
    const email = emailChannel(mailer);
    const webhook = webhookChannel({ timeoutMs: config.timeoutMs, allowPrivateTargets: true });
    // Where the worker's time goes: how long some send() is in flight, and how long each takes.
    const sending = { inFlight: 0, since: 0, busyMs: 0, calls: 0, totalMs: 0 };
    const timed = <C extends Channel>(channel: C): C => ({
      ...channel,
      async send(delivery, message) {
        const start = now();
        if (sending.inFlight++ === 0) sending.since = start;
        try {
          return await channel.send(delivery, message);
        } finally {
          const end = now();
          sending.calls++;
          sending.totalMs += end - start;
          if (--sending.inFlight === 0) sending.busyMs += end - sending.since;
        }
      },
    });
    const worker = createNotifyWorker({ db: database.db, config, origin: 'http://localhost:3000', channels: [timed(webhook), timed(email)] });
    await resetSinks();
    worker.start();
    log(`one update → ${emails + webhooks} deliveries (NOTIFY_CONCURRENCY ${config.concurrency}, SMTP ${mailer.maxConnections} connections × ${mailer.maxMessages} messages)…`);
    const cpu = cpuWindow();
    const sampled = pgSampler();
    const cpuStart = process.cpuUsage();
    const t0 = now();
    await incidents.postIncidentUpdate(ctx, incident.id, { status: 'monitoring', message: 'A fix is rolling out.' });
    const committed = now();
    worker.wake();
    const deadline = Date.now() + timeoutMs;
    let stats = await sinkStats();
    while ((stats.email.unique < emails || stats.webhook.unique < webhooks) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await sinkStats();
    }
    const notifyCpu = cpu();
    const notifyProcessCpu = process.cpuUsage(cpuStart);
    const pgActivity = await sampled();
    await worker.stop();
    email.close();
    webhook.close();
    stats = await sinkStats(true);
    if (Date.now() >= deadline) failed.push(`timed out after ${timeoutMs / 1000} s: ${stats.email.unique}/${emails} emails, ${stats.webhook.unique}/${webhooks} webhooks`);

    // Verification: exactly one delivery per subscriber, with its idempotency key; every row sent.
    const [outbox] = await database.db
      .select({ eventSeq: notificationOutbox.eventSeq, payloads: notificationOutbox.payloads })
      .from(notificationOutbox)
      .orderBy(sql`${notificationOutbox.eventSeq} desc`)
      .limit(1);
    const seq = outbox!.eventSeq;
    const expected = (channel: 'email' | 'webhook') => subscriberRows.filter((s) => s.channel === channel);
    const domain = 'bench.test';
    const check = (channel: 'email' | 'webhook', got: ChannelStats, keyOf: (id: string) => string) => {
      const want = expected(channel);
      const keys = new Set(got.ids);
      const missing = want.filter((s) => !keys.has(keyOf(s.id)));
      const stray = got.ids!.length - (want.length - missing.length);
      if (missing.length) failed.push(`${channel}: ${missing.length} of ${want.length} subscribers received nothing (e.g. ${missing[0]!.target})`);
      if (stray) failed.push(`${channel}: ${stray} deliveries with an unexpected id (e.g. ${got.ids!.find((k) => !want.some((s) => keyOf(s.id) === k))})`);
      if (got.duplicates) failed.push(`${channel}: ${got.duplicates} duplicates`);
    };
    check('webhook', stats.webhook, (id) => `msg_${seq}_${id}`);
    check('email', stats.email, (id) => `<msg_${seq}_${id}@${domain}>`);
    const recipients = new Set(stats.email.recipients);
    const unreached = expected('email').filter((s) => !recipients.has(s.target)).length;
    if (unreached) failed.push(`email: ${unreached} recipients never appeared in an envelope`);
    const byStatus = await database.db
      .select({ channel: notificationDeliveries.channel, status: notificationDeliveries.status, n: sql<number>`count(*)::int` })
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.eventSeq, seq))
      .groupBy(notificationDeliveries.channel, notificationDeliveries.status);
    const [attempts] = await database.db
      .select({ retried: sql<number>`count(*) filter (where ${notificationDeliveries.attempts} > 1)::int`, errors: sql<string[]>`(array_agg(distinct ${notificationDeliveries.lastError}) filter (where ${notificationDeliveries.lastError} is not null))[1:3]` })
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.eventSeq, seq));
    const sentRows = byStatus.filter((r) => r.status === 'sent').reduce((n, r) => n + Number(r.n), 0);
    if (sentRows !== emails + webhooks) failed.push(`delivery rows: ${JSON.stringify(byStatus)} (want ${emails + webhooks} sent)`);
    const tokens = await database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(notificationDeliveries)
      .where(and(eq(notificationDeliveries.eventSeq, seq), sql`${notificationDeliveries.linkTokenHash} is not null`));
    if (Number(tokens[0]!.n) !== emails + webhooks) failed.push(`${tokens[0]!.n}/${emails + webhooks} deliveries have a link token (their unsubscribe link)`);

    const channelFigures = (got: ChannelStats, n: number) => ({
      delivered: got.unique,
      firstMs: got.firstAt ? round(got.firstAt - committed) : null,
      lastMs: got.lastAt ? round(got.lastAt - committed) : null,
      perSecond: got.lastAt ? Math.round(got.unique / ((got.lastAt - committed) / 1000)) : 0,
      expected: n,
    });
    const lastAll = Math.max(stats.email.lastAt, stats.webhook.lastAt);
    const firstAll = Math.min(...[stats.email.firstAt, stats.webhook.firstAt].filter(Boolean));
    const notify = {
      commitMs: round(committed - t0),
      email: channelFigures(stats.email, emails),
      webhook: channelFigures(stats.webhook, webhooks),
      all: {
        delivered: stats.email.unique + stats.webhook.unique,
        firstMs: round(firstAll - committed),
        lastMs: round(lastAll - committed),
        perSecond: Math.round((stats.email.unique + stats.webhook.unique) / ((lastAll - committed) / 1000)),
      },
      /** Share of the time to the last delivery during which at least one send() was in flight (the rest: the worker's database work), and a send()'s mean duration. */
      /** Deliveries that needed more than one attempt (a failed one is retried after NOTIFY_RETRY_BASE_MS). */
      retried: Number(attempts!.retried),
      sendingShare: round(sending.busyMs / (lastAll - committed), 3),
      meanSendMs: round(sending.totalMs / Math.max(1, sending.calls), 2),
      cpu: { ...notifyCpu, workerProcessCpuMs: Math.round((notifyProcessCpu.user + notifyProcessCpu.system) / 1000) },
      pgActivity,
    };

    // The bare baseline: the same bytes to the same sinks, as fast as plain clients send them.
    const body = (outbox!.payloads as Record<string, unknown>).public as Record<string, unknown>;
    const message = { meta: { unsubscribe: 'http://localhost:3000/api/v2/subscribers/x/unsubscribe', documentation: 'https://example.com' }, ...body };
    const links = subscriptionLinks('http://localhost:3000', newLinkToken('manage').value);
    const rendered = renderEmail(message, { pageName: page.name, accentColor: page.branding.accentColor, ...links });
    const payload = JSON.stringify(message);
    const runLimited = async (work: (() => Promise<void>)[], limit: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(limit, work.length) }, async () => {
        while (next < work.length) await work[next++]!();
      }));
    };
    /**
     * The same sends without the worker. `bare`: nodemailer with the channel's transport settings
     * and plain POSTs (the ceiling); `channels`: the email and webhook channels' own send()
     * (rendering, signing, their transports) with no database: what the worker adds is the rest.
     */
    async function baseline(label: string, nEmails: number, nWebhooks: number, how: 'bare' | 'channels' = 'bare') {
      await resetSinks();
      const transport = nodemailer.createTransport(smtpTransportOptions(mailer));
      const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      const channels = how === 'channels' ? { email: emailChannel(mailer), webhook: webhookChannel({ timeoutMs: config.timeoutMs, allowPrivateTargets: true }) } : null;
      const secret = newSigningSecret();
      const viaChannel = async (channel: 'email' | 'webhook', i: number) => {
        const result = await channels![channel].send(
          {
            id: `base_${i}`,
            attempt: 1,
            subscriberId: String(i),
            target: channel === 'email' ? `reader-${i}@bench.test` : `${sinkUrl}/hook/${i}`,
            signingSecrets: [secret],
            email: { pageName: page.name, accentColor: page.branding.accentColor, ...links },
          },
          message,
        );
        if (!result.ok) throw new Error(`baseline ${label}: ${result.error}`);
      };
      const sendEmail = (i: number) => async () => {
        if (channels) return viaChannel('email', i);
        await transport.sendMail({
          from: mailer.from,
          to: `reader-${i}@bench.test`,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          messageId: `<base_${i}@${domain}>`,
          headers: { 'List-Unsubscribe': `<${links.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        });
      };
      const post = (i: number) => () =>
        channels ? viaChannel('webhook', i) : new Promise<void>((resolve, reject) => {
          const req = http.request(`${sinkUrl}/hook/${i}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'webhook-id': `base_${i}`, 'content-length': Buffer.byteLength(payload) } }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          });
          req.on('error', reject);
          req.end(payload);
        });
      // Interleaved as the worker claims them (one list, one limit).
      const work: (() => Promise<void>)[] = [];
      const ratio = nWebhooks ? nEmails / nWebhooks : Infinity;
      for (let e = 0, w = 0; e < nEmails || w < nWebhooks; ) {
        if (w < nWebhooks && (e >= nEmails || e >= (w + 1) * ratio)) work.push(post(w++));
        else work.push(sendEmail(e++));
      }
      const window = cpuWindow();
      const start = now();
      await runLimited(work, config.concurrency);
      const cpuFigures = window();
      transport.close();
      agent.destroy();
      channels?.email.close();
      channels?.webhook.close();
      const got = await sinkStats();
      if (got.email.unique !== nEmails || got.webhook.unique !== nWebhooks) failed.push(`baseline ${label}: ${got.email.unique}/${nEmails} emails, ${got.webhook.unique}/${nWebhooks} posts`);
      const last = Math.max(got.email.lastAt, got.webhook.lastAt);
      const n = nEmails + nWebhooks;
      log(`baseline ${label}: ${n} in ${round(last - start)} ms`);
      return { label, emails: nEmails, webhooks: nWebhooks, lastMs: round(last - start), perSecond: Math.round(n / ((last - start) / 1000)), cpu: cpuFigures };
    }
    const baselines = {
      email: await baseline('email', emails, 0),
      webhook: await baseline('webhook', 0, webhooks),
      all: await baseline('all', emails, webhooks),
      channelsAll: await baseline('channels, all', emails, webhooks, 'channels'),
    };

    const result = {
      at: new Date().toISOString(),
      database: database.kind,
      worker: process.env.BENCH_WORKER || 'server/notify/worker.ts',
      pool: database.kind === 'postgres' ? Number(process.env.BENCH_POOL ?? 10) : null,
      emails,
      webhooks,
      settings: {
        concurrency: config.concurrency,
        pollMs: config.pollMs,
        smtpMaxConnections: mailer.maxConnections,
        smtpMaxMessages: mailer.maxMessages,
      },
      messageBytes: { email: stats.email.unique ? Math.round(stats.email.bytes / stats.email.received) : null, webhook: stats.webhook.unique ? Math.round(stats.webhook.bytes / stats.webhook.received) : null },
      /**
       * postIncidentUpdate's median latency on the page before and after its subscribers were
       * added; `quietPage*`: the same writes on a page without subscribers, alternated with them;
       * `ratio`: with ÷ without, each first divided by its quiet reference (1: no growth).
       */
      writeMs: {
        withoutSubscribers: round(without.medianMs, 2),
        withSubscribers: round(withSubscribers.medianMs, 2),
        quietPageBefore: round(without.quietMedianMs, 2),
        quietPageAfter: round(withSubscribers.quietMedianMs, 2),
        ratio: round(withSubscribers.medianMs / withSubscribers.quietMedianMs / (without.medianMs / without.quietMedianMs), 2),
      },
      writeStatements: { withoutSubscribers: without.statements, withSubscribers: withSubscribers.statements, quietPage: withSubscribers.quietStatements },
      notify,
      baseline: baselines,
      /** The notifier's time to the last delivery ÷ the bare clients' time for the same sends: 1 is the ceiling. */
      ratioToBaseline: {
        email: notify.email.lastMs && round(notify.email.lastMs / baselines.email.lastMs, 2),
        webhook: notify.webhook.lastMs && round(notify.webhook.lastMs / baselines.webhook.lastMs, 2),
        all: round(notify.all.lastMs / baselines.all.lastMs, 2),
        /** The channels alone (no worker, no database) ÷ bare clients; the worker ÷ the channels alone. */
        channelsToBare: round(baselines.channelsAll.lastMs / baselines.all.lastMs, 2),
        workerToChannels: round(notify.all.lastMs / baselines.channelsAll.lastMs, 2),
      },
      verified: failed.length === 0,
      failures: failed,
    };
    const row = (label: string, f: { delivered: number; firstMs: number | null; lastMs: number | null; perSecond: number }, base: { lastMs: number; perSecond: number }) =>
      `  ${label.padEnd(8)} ${String(f.delivered).padStart(7)} ${String(f.firstMs).padStart(9)} ${String(f.lastMs).padStart(9)} ${String(f.perSecond).padStart(7)}   ${String(base.lastMs).padStart(9)} ${String(base.perSecond).padStart(7)} ${(f.lastMs! / base.lastMs).toFixed(2).padStart(6)}`;
    console.log(`notify bench (${database.kind}): ${emails} email + ${webhooks} webhook subscribers on local sinks; NOTIFY_CONCURRENCY ${config.concurrency}, SMTP pool ${mailer.maxConnections}×${mailer.maxMessages}`);
    console.log(
      `  write (postIncidentUpdate), median of ${writes}: ${result.writeMs.withoutSubscribers} ms with 0 subscribers, ${result.writeMs.withSubscribers} ms with ${emails + webhooks}; a page without subscribers meanwhile: ${result.writeMs.quietPageBefore} and ${result.writeMs.quietPageAfter} ms → ×${result.writeMs.ratio}; statements ${without.statements} vs ${withSubscribers.statements}`,
    );
    console.log(`  one update (commit ${notify.commitMs} ms after the call) → time from the commit:`);
    console.log(`  channel  delivered  first ms   last ms   per s   base ms  base/s  ×base`);
    console.log(row('email', notify.email, baselines.email));
    console.log(row('webhook', notify.webhook, baselines.webhook));
    console.log(row('all', notify.all, baselines.all));
    console.log(
      `  the channels' own send() alone (no worker, no database), all: ${baselines.channelsAll.lastMs} ms, ${baselines.channelsAll.perSecond}/s (×${result.ratioToBaseline.channelsToBare} the bare clients); the worker takes ×${result.ratioToBaseline.workerToChannels} that`,
    );
    if (notify.retried) console.log(`  ${notify.retried} deliveries needed a second attempt: ${JSON.stringify(attempts!.errors)}`);
    console.log(`  during the run some send() was in flight ${Math.round(notify.sendingShare * 100)} % of the time (the rest is the worker's database work); a send() took ${notify.meanSendMs} ms on average`);
    const cores = (c: ReturnType<ReturnType<typeof cpuWindow>>) => `bench ${c.benchCores}, sinks ${c.sinkCores}, PostgreSQL ${c.postgresCores}, others ${c.otherCores}`;
    console.log(`  cores used: notify run: ${cores(notify.cpu)}; baseline (all): ${cores(baselines.all.cpu)}`);
    if (pgActivity) {
      console.log(`  PostgreSQL busy with (share of ${pgActivity.samples} samples):`);
      for (const t of pgActivity.top) console.log(`    ${t.share.toFixed(3)}  ${t.statement}`);
    }
    console.log(failed.length ? `  NOT VERIFIED:\n    ${failed.join('\n    ')}` : `  verified: every subscriber got exactly one delivery with its idempotency key; every row sent`);
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/notify-${result.at.replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`  → ${file}`);
  } catch (error) {
    failed = [...failed, String(error)];
    throw error;
  } finally {
    child.disconnect();
    await database.destroy();
    if (failed.length) process.exitCode = 1;
  }
}
