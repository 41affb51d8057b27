import type { ChannelKind } from '../domain/vocabulary.js';
import type { EmailConfig } from './email-config.js';
import type { NotifyConfig } from './config.js';
import { renderEmail, sendDirectEmail } from './channels/email.js';
import { guardedHttp, isFailure } from './channels/http.js';
import { twilioProvider } from './channels/sms.js';
import { clip } from './channels/summary.js';
import { adaptiveCardMessage } from './channels/teams.js';
import { signedHeaders } from './channels/webhook.js';

/**
 * The double opt-in message of a self-service subscription (docs/API.md, *Subscribing*), sent
 * through the channel itself: whoever reads that inbox, phone, chat channel or endpoint must
 * follow the confirm link before anything else is sent there. So nobody can point the hub's
 * messages at someone else's address or URL, and a typo receives one message, not a stream.
 * A webhook's confirmation also carries its signing secret: only the endpoint's owner learns it.
 */

export interface ConfirmationSettings {
  email: EmailConfig | null;
  sms: NotifyConfig['sms'];
  timeoutMs: number;
  allowPrivateTargets: boolean;
}

export interface Confirmation {
  pageId: string;
  pageName: string;
  accentColor?: string;
  /** `public` or `deployment:<slug>`. */
  audience: string;
  subscriberId: string;
  confirmUrl: string;
  manageUrl: string;
  unsubscribeUrl: string;
  /** Webhooks: the `whsec_…` secret its messages will be signed with. */
  signingSecret?: string;
}

/** The channels visitors may subscribe through: email and SMS only when they are configured. */
export function offeredChannels(settings: Pick<ConfirmationSettings, 'email' | 'sms'>): ChannelKind[] {
  return [...(settings.email ? (['email'] as const) : []), ...(settings.sms ? (['sms'] as const) : []), 'webhook', 'slack', 'teams'];
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Send the confirmation; throws when the channel refused it (the caller logs and moves on). */
export async function sendConfirmation(settings: ConfirmationSettings, channel: ChannelKind, target: string, c: Confirmation): Promise<void> {
  const ask = `Someone (hopefully you) asked to receive status updates from ${oneLine(c.pageName)} here.`;
  const ignore = 'If it was not you, ignore this message: nothing more will be sent.';
  const http = { timeoutMs: settings.timeoutMs, allowPrivateTargets: settings.allowPrivateTargets };
  switch (channel) {
    case 'email': {
      if (!settings.email) throw new Error('email is not configured');
      const base = renderEmail({}, { pageName: c.pageName, accentColor: c.accentColor, manageUrl: c.manageUrl, unsubscribeUrl: c.unsubscribeUrl });
      await sendDirectEmail(settings.email, {
        to: target,
        subject: `[${oneLine(c.pageName)}] Confirm your subscription`,
        text: `${ask}\n\nConfirm: ${c.confirmUrl}\n\n${ignore}\n`,
        html: base.html
          .replace(/<h1[^>]*>.*<\/h1>/, '<h1 style="font-size:20px">Confirm your subscription</h1>')
          .replace('<hr', `<p>${escape(ask)}</p><p><a href="${escape(c.confirmUrl)}">Confirm your subscription</a></p><p>${escape(ignore)}</p><hr`),
      });
      return;
    }
    case 'sms': {
      if (!settings.sms) throw new Error('SMS is not configured');
      const provider = twilioProvider({ ...http, ...settings.sms });
      try {
        const result = await provider.send(target, `${clip(c.pageName, 60)}: confirm status updates to this number: ${c.confirmUrl}`, `confirm_${c.subscriberId}`);
        if (!result.ok) throw new Error(result.error ?? 'refused');
      } finally {
        provider.close();
      }
      return;
    }
    case 'slack':
    case 'teams':
    case 'webhook': {
      const client = guardedHttp(http);
      try {
        const { headers, body } = channel === 'webhook' ? webhookConfirmation(c) : { headers: {}, body: JSON.stringify(channel === 'slack' ? slackConfirmation(c, ask, ignore) : teamsConfirmation(c, ask, ignore)) };
        const answer = await client.post(target, { 'content-type': 'application/json', 'user-agent': 'statushub-notify', ...headers }, body);
        if (isFailure(answer)) throw new Error(answer.error ?? 'not delivered');
        if (answer.status < 200 || answer.status >= 300) throw new Error(`HTTP ${answer.status}`);
      } finally {
        client.close();
      }
      return;
    }
  }
}

function slackConfirmation(c: Confirmation, ask: string, ignore: string) {
  // Slack's mrkdwn: `<`, `>` and `&` are its control characters.
  const mrkdwn = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    text: `${oneLine(c.pageName)}: confirm status updates in this channel: ${c.confirmUrl}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${mrkdwn(ask)}\n<${c.confirmUrl}|Confirm the subscription>\n${mrkdwn(ignore)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `<${c.manageUrl}|Manage> · <${c.unsubscribeUrl}|Unsubscribe>` }] },
    ],
  };
}

function teamsConfirmation(c: Confirmation, ask: string, ignore: string) {
  return adaptiveCardMessage(
    clip(`${c.pageName}: confirm status updates`, 200),
    [
      { type: 'TextBlock', text: 'Confirm your subscription', weight: 'Bolder', size: 'Medium', wrap: true },
      { type: 'TextBlock', text: ask, wrap: true },
      { type: 'TextBlock', text: ignore, isSubtle: true, wrap: true },
    ],
    [
      { type: 'Action.OpenUrl', title: 'Confirm', url: c.confirmUrl },
      { type: 'Action.OpenUrl', title: 'Unsubscribe', url: c.unsubscribeUrl },
    ],
  );
}

/**
 * A Standard Webhooks request signed with the new secret, shaped like the notifications' `meta`
 * (docs/API.md, *Webhooks*): the receiver stores `signing_secret`, then GETs `confirm_url`.
 */
function webhookConfirmation(c: Confirmation): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    meta: { type: 'subscription_confirmation', unsubscribe: c.unsubscribeUrl, manage: c.manageUrl },
    page: { id: c.pageId, name: c.pageName },
    subscription: { id: c.subscriberId, audience: c.audience, confirm_url: c.confirmUrl, signing_secret: c.signingSecret },
  });
  return { headers: signedHeaders(c.signingSecret ? [c.signingSecret] : [], `confirm_${c.subscriberId}_${Date.now()}`, body), body };
}
