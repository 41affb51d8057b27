// postgres.js 3.4.9 (porsager/postgres#1154, #1208; fix proposed in #1209, not released): a
// connection that closes while a small write waits for its setImmediate throws an uncaught
// TypeError from `nextWrite` (the process dies), and its teardown leaves `nextWriteTimer` set,
// so a pooled connection can never flush again and its next queries hang for ever (the live hub
// stalls). tests/faults/postgres-restart.test.ts hits both when PostgreSQL restarts. Applied on
// `npm install` (postinstall); idempotent; remove once a release carries the fix.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../node_modules/postgres', import.meta.url));
if (!existsSync(join(root, 'package.json'))) process.exit(0);
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const marker = '/* statushub: nextWrite guard */';
const edits = [
  [
    'function nextWrite(fn) {\n',
    `function nextWrite(fn) {\n    ${marker}\n    if (!socket) {\n      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      return false\n    }\n`,
  ],
  ['    clearImmediate(nextWriteTimer)\n    if (socket) {', '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    if (socket) {'],
  ["    clearImmediate(nextWriteTimer)\n    socket.removeListener('data', data)", "    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    socket.removeListener('data', data)"],
];

for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
  const path = join(root, file);
  if (!existsSync(path)) continue;
  let source = readFileSync(path, 'utf8');
  if (source.includes(marker)) continue;
  for (const [from, to] of edits) {
    if (source.split(from).length !== 2) {
      console.warn(`patch-postgres: postgres ${version} ${file} does not look like 3.4.9; not patched`);
      source = null;
      break;
    }
    source = source.replace(from, to);
  }
  if (source) {
    writeFileSync(path, source);
    console.log(`patch-postgres: patched postgres ${version} ${file}`);
  }
}
