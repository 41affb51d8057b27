import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message the local SMTP server accepted (parsed), or one it refused. */
export interface ReceivedMail {
  to: string[];
  mail: ParsedMail;
  raw: string;
}

/** A real SMTP server on a random local port; `refuse` chooses an error (with its reply code) per recipient. */
export interface SmtpSink {
  url: string;
  mails: ReceivedMail[];
  /** Recipients refused, with the code answered. */
  refused: { to: string; code: number }[];
  refuse: (to: string) => number | null;
  waitFor(predicate: (mails: ReceivedMail[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const sink: SmtpSink = {
    url: '',
    mails: [],
    refused: [],
    refuse: () => null,
    async waitFor(predicate, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(sink.mails)) {
        if (Date.now() > until) throw new Error(`smtp: condition not met after ${timeoutMs} ms (${sink.mails.length} mails)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = sink.refuse(address.address);
      if (code) {
        sink.refused.push({ to: address.address, code });
        return callback(Object.assign(new Error(code >= 500 ? '5.1.1 user unknown' : '4.7.0 try again later'), { responseCode: code }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        sink.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), mail: await simpleParser(raw), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  return sink;
}
