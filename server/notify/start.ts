import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { chatSmsChannels } from './channels/chat-sms.js';
import { emailChannel } from './channels/email.js';
import { webhookChannel } from './channels/webhook.js';
import { emailConfigFromEnv } from './email-config.js';
import type { NotifyConfig } from './config.js';
import { createNotifyWorker, type NotifyWorker } from './worker.js';

/** The worker with every channel there is, started; null when `config.enabled` is false (NOTIFY_WORKER=off). */
export function startNotifier(db: Db, config: NotifyConfig, origin: string, logger?: Pick<Logger, 'warn' | 'error' | 'info'>): (NotifyWorker & { stop(): Promise<void> }) | null {
  if (!config.enabled) return null;
  const webhook = webhookChannel({ timeoutMs: config.timeoutMs, allowPrivateTargets: config.allowPrivateTargets });
  const chatSms = chatSmsChannels(config);
  const emailConfig = emailConfigFromEnv();
  const email = emailConfig ? emailChannel(emailConfig) : null;
  const worker = createNotifyWorker({ db, config, origin, channels: [webhook, ...(email ? [email] : []), ...chatSms], logger });
  worker.start();
  return {
    ...worker,
    async stop() {
      await worker.stop();
      webhook.close();
      for (const channel of chatSms) channel.close();
      email?.close();
    },
  };
}
