import { z } from 'zod';
import type { ReminderOffset } from '../services/maintenance-reminders.js';

/** The notifier's settings, each with its environment variable (docs/ARCHITECTURE.md, *Notifications*). */
const notifyEnv = z.object({
  /** `off`: this process runs no worker (run `npm run worker` elsewhere). */
  NOTIFY_WORKER: z.enum(['on', 'off']).default('on'),
  /** Updates to one incident or maintenance within this long become one message. */
  NOTIFY_CONSOLIDATE_MS: z.coerce.number().int().min(0).default(60_000),
  /** Messages one subscriber receives in an hour at most; the rest wait (and consolidate). */
  NOTIFY_MAX_PER_HOUR: z.coerce.number().int().min(1).default(30),
  /** One webhook attempt's timeout. */
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(20_000),
  /** Deliver to loopback, private and link-local addresses (tests, closed networks). */
  NOTIFY_ALLOW_PRIVATE_TARGETS: z.enum(['true', 'false']).default('false'),
  /** How long a message is retried before it is given up (dead). */
  NOTIFY_RETRY_FOR_MS: z.coerce.number().int().min(0).default(3 * 24 * 3600_000),
  /** The first retry's delay; each next one doubles (with jitter), at most 6 hours. */
  NOTIFY_RETRY_BASE_MS: z.coerce.number().int().min(0).default(30_000),
  /** Failed deliveries in a row after which a subscriber is disabled. */
  NOTIFY_DISABLE_AFTER: z.coerce.number().int().min(1).default(20),
  /**
   * How long a claimed delivery is a worker's before another may take it over (a worker that
   * died); at least NOTIFY_TIMEOUT_MS + 2 s is used, so a slow receiver is never sent to twice.
   */
  NOTIFY_LEASE_MS: z.coerce.number().int().min(100).default(60_000),
  /** How often the worker looks for work when nothing woke it. */
  NOTIFY_POLL_MS: z.coerce.number().int().min(10).default(1_000),
  /**
   * Deliveries claimed at once, all sent in parallel: each claim's lease starts when its send does,
   * so a batch is never bigger than what is sent at once. 64, not 32: between two batches nothing
   * is sent (claim, record), so fewer, larger batches finish sooner; `npm run bench:notify` (10,000
   * emails + 1,000 webhooks) took ×1.9–2.3 the bare clients' time at 64, ×2.5–2.8 at 32
   * (bench/README.md). NOTE: emails beyond the SMTP pool's connections wait inside nodemailer
   * after their lease started (64 ÷ 4 = 16 each): keep that × a slow relay's time per message
   * under NOTIFY_LEASE_MS.
   */
  NOTIFY_CONCURRENCY: z.coerce.number().int().min(1).default(64),
  /** Reminders before a maintenance window: offsets such as `24h,1h` (`m`, `h`, `d`); empty: none. */
  NOTIFY_MAINTENANCE_REMINDERS: z
    .string()
    .regex(/^(\s*\d+[mhd]\s*(,\s*\d+[mhd]\s*)*)?$/, 'offsets such as 24h,1h')
    .default('24h,1h'),
  /** SMS through a Twilio-style Messages API: its base URL, account SID, auth token and sending number; SMS is off unless the last three are set. */
  SMS_PROVIDER_URL: z.url({ protocol: /^https?$/ }).default('https://api.twilio.com'),
  SMS_ACCOUNT_SID: z.string().optional(),
  SMS_AUTH_TOKEN: z.string().optional(),
  SMS_FROM: z.string().optional(),
});

export interface NotifyConfig {
  enabled: boolean;
  consolidateMs: number;
  maxPerHour: number;
  timeoutMs: number;
  allowPrivateTargets: boolean;
  retryForMs: number;
  retryBaseMs: number;
  disableAfter: number;
  leaseMs: number;
  pollMs: number;
  concurrency: number;
  maintenanceReminders: ReminderOffset[];
  /** The SMS provider; null when SMS is not configured (no `sms` channel then). */
  sms: { baseUrl: string; accountSid: string; authToken: string; from: string } | null;
}

export function notifyConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const e = notifyEnv.parse(env);
  return {
    enabled: e.NOTIFY_WORKER === 'on',
    consolidateMs: e.NOTIFY_CONSOLIDATE_MS,
    maxPerHour: e.NOTIFY_MAX_PER_HOUR,
    timeoutMs: e.NOTIFY_TIMEOUT_MS,
    allowPrivateTargets: e.NOTIFY_ALLOW_PRIVATE_TARGETS === 'true',
    retryForMs: e.NOTIFY_RETRY_FOR_MS,
    retryBaseMs: e.NOTIFY_RETRY_BASE_MS,
    disableAfter: e.NOTIFY_DISABLE_AFTER,
    leaseMs: Math.max(e.NOTIFY_LEASE_MS, e.NOTIFY_TIMEOUT_MS + 2_000),
    pollMs: e.NOTIFY_POLL_MS,
    concurrency: e.NOTIFY_CONCURRENCY,
    maintenanceReminders: parseOffsets(e.NOTIFY_MAINTENANCE_REMINDERS),
    sms:
      e.SMS_ACCOUNT_SID && e.SMS_AUTH_TOKEN && e.SMS_FROM
        ? { baseUrl: e.SMS_PROVIDER_URL, accountSid: e.SMS_ACCOUNT_SID, authToken: e.SMS_AUTH_TOKEN, from: e.SMS_FROM }
        : null,
  };
}

/** Exponential backoff with full jitter around the doubling: attempt 1 → ~base, 2 → ~2·base, … at most 6 h. */
export function retryDelay(config: Pick<NotifyConfig, 'retryBaseMs'>, attempt: number, random = Math.random): number {
  const exp = Math.min(config.retryBaseMs * 2 ** Math.max(0, attempt - 1), 6 * 3600_000);
  return Math.round(exp * (0.5 + random()));
}

const unitMs = { m: 60_000, h: 3600_000, d: 86_400_000 } as const;

/** `24h,1h` → the offsets, each labelled as written. */
export function parseOffsets(value: string): ReminderOffset[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((label) => ({ label, ms: Number(label.slice(0, -1)) * unitMs[label.slice(-1) as keyof typeof unitMs] }));
}
