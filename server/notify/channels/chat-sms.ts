import type { NotifyConfig } from '../config.js';
import type { Channel } from './channel.js';
import { slackChannel } from './slack.js';
import { smsChannel, twilioProvider } from './sms.js';
import { teamsChannel } from './teams.js';

/** Slack and Teams (always), and SMS when its provider is configured (SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM). */
export function chatSmsChannels(config: Pick<NotifyConfig, 'timeoutMs' | 'allowPrivateTargets' | 'sms'>): (Channel & { close(): void })[] {
  const http = { timeoutMs: config.timeoutMs, allowPrivateTargets: config.allowPrivateTargets };
  return [slackChannel(http), teamsChannel(http), ...(config.sms ? [smsChannel(twilioProvider({ ...http, ...config.sms }))] : [])];
}
