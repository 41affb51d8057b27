import { z } from 'zod';

/** Email settings (server/notify/channels/email.ts), each with its environment variable. */
const emailEnv = z.object({
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…` (TLS); unset: no email channel, no public email subscriptions. */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /** The sender of notification and confirmation emails (`Name <address>` or an address). */
  NOTIFY_EMAIL_FROM: z.string().min(3).default('statushub <status@localhost>'),
  /** One SMTP attempt's timeout. */
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(20_000),
  /** SMTP connections kept open to the server at once (nodemailer's pool). */
  NOTIFY_SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(4),
  /** Messages sent over one SMTP connection before it is replaced by a fresh one. */
  NOTIFY_SMTP_MAX_MESSAGES: z.coerce.number().int().min(1).default(100),
});

export interface EmailConfig {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
  /** The SMTP pool (server/notify/channels/email.ts): 4 connections, 100 messages each, when unset. */
  maxConnections?: number;
  maxMessages?: number;
}

/** Null when SMTP_URL is unset. */
export function emailConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EmailConfig | null {
  const e = emailEnv.parse(env);
  if (!e.SMTP_URL) return null;
  return {
    smtpUrl: e.SMTP_URL,
    from: e.NOTIFY_EMAIL_FROM,
    timeoutMs: e.NOTIFY_TIMEOUT_MS,
    maxConnections: e.NOTIFY_SMTP_MAX_CONNECTIONS,
    maxMessages: e.NOTIFY_SMTP_MAX_MESSAGES,
  };
}
