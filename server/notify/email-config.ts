import { z } from 'zod';

/** Email settings (server/notify/channels/email.ts), each with its environment variable. */
const emailEnv = z.object({
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…` (TLS); unset: no email channel, no public email subscriptions. */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /** The sender of notification and confirmation emails (`Name <address>` or an address). */
  NOTIFY_EMAIL_FROM: z.string().min(3).default('statushub <status@localhost>'),
  /** One SMTP attempt's timeout. */
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(20_000),
});

export interface EmailConfig {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
}

/** Null when SMTP_URL is unset. */
export function emailConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EmailConfig | null {
  const e = emailEnv.parse(env);
  return e.SMTP_URL ? { smtpUrl: e.SMTP_URL, from: e.NOTIFY_EMAIL_FROM, timeoutMs: e.NOTIFY_TIMEOUT_MS } : null;
}
