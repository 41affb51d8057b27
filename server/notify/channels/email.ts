import nodemailer from 'nodemailer';
import type { Channel, NotificationMessage, OutgoingDelivery, SendResult } from './channel.js';

/**
 * Email over SMTP (nodemailer, `SMTP_URL` such as `smtp://user:pass@host:587`, `smtps://…` for
 * implicit TLS). One message per delivery, HTML and plain text rendered from the audience's
 * message (the webhook's body, docs/API.md *Webhooks*), with the page's name and accent colour,
 * a manage-preferences link and RFC 8058 one-click unsubscribe (`List-Unsubscribe` +
 * `List-Unsubscribe-Post`). The `Message-ID` is derived from the delivery's idempotency key, so a
 * retry is the same message to the receiving MTA.
 *
 * SMTP answers: 4xx (and connection errors) are temporary, tried again; 5xx are permanent for this
 * message; 550/551/553 about the recipient (mailbox unknown) disable the subscriber (hard bounce).
 */

export interface EmailOptions {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
  /** SMTP connections open at once (4 when unset) and messages per connection (100). */
  maxConnections?: number;
  maxMessages?: number;
}

/** What the worker adds to an email delivery: the page and the subscriber's links. */
export interface EmailContext {
  pageName: string;
  accentColor?: string;
  /** Manage preferences (GET, shows what is followed). */
  manageUrl: string;
  /** One-click unsubscribe (POST answers at once; GET shows a confirm button). */
  unsubscribeUrl: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** Header-safe: no CR/LF (no header injection through a title). */
const oneLine = (s: unknown) => String(s ?? '').replace(/[\r\n\t]+/g, ' ').trim();
const words = (s: unknown) => String(s ?? '').replace(/_/g, ' ');
const colour = (c: string | undefined) => (c && /^#[0-9a-fA-F]{3,8}$/.test(c) ? c : '#1f6feb');

type Update = { status?: string; body?: string; created_at?: string };
type Incident = { name?: string; status?: string; impact?: string; shortlink?: string; scheduled_for?: string | null; scheduled_until?: string | null; incident_updates?: Update[] };
type Component = { name?: string };
type ComponentUpdate = { old_status?: string; new_status?: string; created_at?: string };

/** Subject, text and HTML of one message for one page. Every value from the message is escaped in the HTML. */
export function renderEmail(message: NotificationMessage, ctx: EmailContext): RenderedEmail {
  const page = oneLine(ctx.pageName);
  const accent = colour(ctx.accentColor);
  const incident = message.incident as Incident | undefined;
  const component = message.component as Component | undefined;
  const change = message.component_update as ComponentUpdate | undefined;
  let title: string;
  const lines: { label?: string; text: string }[] = [];
  let link: string | undefined;
  if (incident) {
    const maintenance = incident.scheduled_for != null || incident.impact === 'maintenance';
    title = `${maintenance ? 'Maintenance' : 'Incident'}: ${oneLine(incident.name)} (${words(incident.status)})`;
    if (maintenance && incident.scheduled_for) lines.push({ label: 'Scheduled', text: `${incident.scheduled_for}${incident.scheduled_until ? ` – ${incident.scheduled_until}` : ''}` });
    for (const u of incident.incident_updates ?? []) lines.push({ label: `${words(u.status)} · ${u.created_at ?? ''}`, text: String(u.body ?? '') });
    link = incident.shortlink;
  } else if (change) {
    title = `${oneLine(component?.name)} is ${words(change.new_status)}`;
    lines.push({ label: 'Status', text: `${words(change.old_status)} → ${words(change.new_status)}` });
  } else {
    title = 'Status update';
  }
  const subject = `[${page}] ${title}`;
  const text = [
    `${page} — ${title}`,
    '',
    ...lines.flatMap((l) => [l.label ? `${l.label}` : '', l.text, '']),
    ...(link ? [`Details: ${link}`, ''] : []),
    '--',
    `Manage your subscription: ${ctx.manageUrl}`,
    `Unsubscribe: ${ctx.unsubscribeUrl}`,
  ].join('\n');
  const html = `<!doctype html><html><body style="margin:0;font-family:system-ui,sans-serif;color:#1f2328">
<div style="max-width:600px;margin:0 auto;padding:16px">
<div style="border-top:4px solid ${accent};padding-top:8px;font-weight:600">${escapeHtml(page)}</div>
<h1 style="font-size:20px">${escapeHtml(title)}</h1>
${lines.map((l) => `${l.label ? `<p style="margin:12px 0 2px;color:#59636e;font-size:13px">${escapeHtml(l.label)}</p>` : ''}<p style="margin:0;white-space:pre-wrap">${escapeHtml(l.text)}</p>`).join('\n')}
${link ? `<p><a href="${escapeHtml(link)}" style="color:${accent}">View details</a></p>` : ''}
<hr style="border:0;border-top:1px solid #d1d9e0;margin:24px 0 8px">
<p style="font-size:12px;color:#59636e"><a href="${escapeHtml(ctx.manageUrl)}">Manage your subscription</a> · <a href="${escapeHtml(ctx.unsubscribeUrl)}">Unsubscribe</a></p>
</div></body></html>`;
  return { subject, text, html };
}

/** SMTP reply → outcome: 4xx and network errors retry; 5xx do not; a recipient 550/551/553 (5.1.x) disables. */
export function smtpResult(error: unknown): SendResult {
  const e = error as { responseCode?: number; response?: string; code?: string; message?: string };
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const message = String(e.response ?? e.message ?? error).slice(0, 500);
  if (status === undefined || status < 500) return { ok: false, status, retryable: true, disable: false, error: message };
  const hardBounce = status === 550 || status === 551 || status === 553 || /\b5\.1\.\d\b/.test(message);
  return { ok: false, status, retryable: false, disable: hardBounce && (e.code === 'EENVELOPE' || /\b5\.1\.\d\b|user|mailbox|recipient/i.test(message)), error: message };
}

/** The channel's pooled SMTP transport settings (also what bench/notify.ts measures its ceiling with). */
export function smtpTransportOptions(options: EmailOptions) {
  return {
    url: options.smtpUrl,
    pool: true as const,
    maxConnections: options.maxConnections ?? 4,
    maxMessages: options.maxMessages ?? 100,
    // Retries are the worker's (durable, the same Message-ID), not the pool's in memory.
    maxRequeues: 0,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  };
}

export function emailChannel(options: EmailOptions): Channel & { close(): void } {
  const transport = nodemailer.createTransport(smtpTransportOptions(options));
  const domain = (() => {
    const at = options.from.lastIndexOf('@');
    return at >= 0 ? options.from.slice(at + 1).replace(/[>\s]/g, '') : 'statushub.invalid';
  })();
  const fromAddress = (() => {
    const m = /<([^>]+)>/.exec(options.from);
    return m ? m[1]! : options.from;
  })();

  return {
    kind: 'email',
    async send(delivery: OutgoingDelivery, message: NotificationMessage): Promise<SendResult> {
      if (!delivery.email) return { ok: false, retryable: false, disable: false, error: 'no email context' };
      const rendered = renderEmail(message, delivery.email);
      const unsubscribeMailto = `mailto:${fromAddress}?subject=unsubscribe`;
      try {
        await transport.sendMail({
          from: options.from,
          to: delivery.target,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          messageId: `<${delivery.id}@${domain}>`,
          headers: {
            'List-Unsubscribe': `<${delivery.email.unsubscribeUrl}>, <${unsubscribeMailto}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
            'X-Statushub-Delivery': delivery.id,
            'Auto-Submitted': 'auto-generated',
          },
        });
        return { ok: true, status: 250, retryable: false, disable: false };
      } catch (error) {
        return smtpResult(error);
      }
    },
    close() {
      transport.close();
    },
  };
}

/** A one-off message (the double opt-in confirmation), sent directly, not through the outbox. */
export async function sendDirectEmail(options: EmailOptions, mail: { to: string; subject: string; text: string; html: string }): Promise<void> {
  const transport = nodemailer.createTransport({ url: options.smtpUrl, connectionTimeout: options.timeoutMs, greetingTimeout: options.timeoutMs, socketTimeout: options.timeoutMs });
  try {
    await transport.sendMail({ from: options.from, ...mail, headers: { 'Auto-Submitted': 'auto-generated' } });
  } finally {
    transport.close();
  }
}
