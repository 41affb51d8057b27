import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './live.js';

const run = promisify(execFile);

/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl in a temporary directory, its own port),
 * for fault tests that stop, restart or break it: the shared server on 5432 is never touched.
 * PostgreSQL refuses to run as root, so as root the binaries run as the `postgres` OS user.
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  dir: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop the server and remove its directory. */
  destroy(): Promise<void>;
  log(): string;
}

function binDir(): string | null {
  for (const version of ['17', '16', '15', '14']) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  return null;
}

/** Why a private server cannot be started here, or null when it can (checked once, cheaply). */
export function privatePostgresUnavailable(): string | null {
  const dir = binDir();
  if (!dir && !process.env.PATH?.split(':').some((p) => existsSync(join(p, 'initdb')))) return 'no initdb (install PostgreSQL server binaries)';
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) return 'running as root without runuser to become the postgres user';
  return null;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'statushub-pg-'));
  if (root) chownSync(dir, Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout));
  const as = (name: string, args: string[]) => (root ? run('runuser', ['-u', 'postgres', '--', tool(name), ...args]) : run(tool(name), args));
  const data = join(dir, 'data');
  const logFile = join(dir, 'log');
  const port = await freePort();
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  // fsync off: a fast or smart shutdown still checkpoints everything, which is all these tests do.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const ctl = (...args: string[]) => as('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', ...args]);
  const start = () => ctl('-o', options, 'start').then(() => {});
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    restart: () => ctl('-m', 'fast', '-o', options, 'restart').then(() => {}),
    stop: () => ctl('-m', 'fast', 'stop').then(() => {}),
    start,
    async destroy() {
      await ctl('-m', 'immediate', 'stop').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  };
}
