import { parseArgs } from 'node:util';
import {
  Collector,
  maxSeq,
  mintAudienceToken,
  mutate,
  seedTestDatabase,
  setStatus,
  startTestNode,
  subscribeSse,
  subscribeWs,
  waitUntil,
} from '../tests/helpers/live.js';

/**
 * How fast an open stream loses access it no longer has: N graphql-ws and N graphql-sse streams
 * of a protected deployment on one audience token, plus N control streams on another token of the
 * same deployment. Each round:
 *   1. baseline: a status change of the deployment's component, commit → received by every stream;
 *   2. revocation: `revokeAudienceToken`, commit → every stream of that token ended (4403 / SSE
 *      error event), checked to receive nothing afterwards.
 * Reported per round and as the ratio of the two (the machine is shared: the ratio, not the
 * absolute time, is the figure). Uses DATABASE_URL when set (a database of its own is created on
 * that server), in-memory PGlite otherwise.
 *
 *   npm run bench:access -- [--streams 200] [--rounds 5]
 */

const { values: args } = parseArgs({ options: { streams: { type: 'string', default: '200' }, rounds: { type: 'string', default: '5' } } });
const perTransport = Number(args.streams);
const rounds = Number(args.rounds);

const seeded = await seedTestDatabase();
const { database, page, ids, admin } = seeded;
const node = await startTestNode(database, {
  limits: {
    sseStreamsPerClient: 100_000,
    wsSubscriptionsPerSocket: 100_000,
    rates: { subscriptions: { points: 1_000_000, seconds: 1 }, tokenUse: { points: 1_000_000, seconds: 1 }, writes: { points: 1_000_000, seconds: 1 } },
  },
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: { delivery: number; revoke: number }[] = [];

async function openStreams(token: string, label: string): Promise<Collector[]> {
  const streams: Collector[] = [];
  for (let i = 0; i < perTransport; i++) {
    streams.push(subscribeWs(node.wsUrl, {}, { token }, `${label} ws ${i}`));
    streams.push(subscribeSse(node.url, {}, { token }, `${label} sse ${i}`));
  }
  return streams;
}

const tokenIdOf = async (token: string) => {
  const res = await fetch(`${node.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ query: '{ audienceTokens { id prefix } }' }),
  });
  const { data } = (await res.json()) as { data: { audienceTokens: { id: string; prefix: string }[] } };
  return data.audienceTokens.find((t) => token.startsWith(t.prefix))!.id;
};

try {
  const control = await openStreams(await mintAudienceToken(database.db, page, ids.ap), 'control');
  let status = false;
  for (let round = 1; round <= rounds; round++) {
    const victimToken = await mintAudienceToken(database.db, page, ids.ap);
    const victims = await openStreams(victimToken, `victim ${round}`);
    const expected = control.length + victims.length;
    await waitUntil(() => node.subscribers() >= expected, 60_000, 'streams registered');

    // 1. baseline: one status change reaches every stream
    status = !status;
    const t0 = performance.now();
    await setStatus(node.url, admin, ids.apApi, status ? 'major_outage' : 'operational');
    const seq = await maxSeq(database.db);
    await Promise.all([...control, ...victims].map((c) => c.waitForSeq(seq, 30_000)));
    const delivery = performance.now() - t0;

    // 2. revocation: every victim stream ends
    const id = await tokenIdOf(victimToken);
    const t1 = performance.now();
    await mutate(node.url, admin, 'mutation ($id: ID!) { revokeAudienceToken(id: $id) { id } }', { id });
    await Promise.all(victims.map((c) => c.waitForEnd(30_000)));
    const revoke = performance.now() - t1;
    const revokedAt = await maxSeq(database.db);

    // …and nothing more reaches them
    status = !status;
    await setStatus(node.url, admin, ids.apApi, status ? 'major_outage' : 'operational');
    const after = await maxSeq(database.db);
    await Promise.all(control.map((c) => c.waitForSeq(after, 30_000)));
    const late = victims.filter((c) => c.events.some((e) => e.seq >= revokedAt)).length;
    if (late) throw new Error(`${late} revoked streams received events after the revocation`);
    for (const v of victims) v.dispose();
    await waitUntil(() => node.subscribers() <= control.length, 30_000, 'victims gone');

    results.push({ delivery, revoke });
    console.log(`round ${round}: ${perTransport * 2} streams revoked (${control.length} control kept): status change delivered to all in ${delivery.toFixed(0)} ms, revocation ended all in ${revoke.toFixed(0)} ms (×${(revoke / delivery).toFixed(2)} of the delivery)`);
  }
  for (const c of control) c.dispose();
  const d = median(results.map((r) => r.delivery));
  const r = median(results.map((r) => r.revoke));
  console.log(`\nmedian over ${rounds} rounds (${database.kind}): delivery ${d.toFixed(0)} ms, revocation → all ${perTransport * 2} streams ended ${r.toFixed(0)} ms, ratio ${(r / d).toFixed(2)}, worst revocation ${Math.max(...results.map((x) => x.revoke)).toFixed(0)} ms`);
} finally {
  await node.close();
  await database.destroy();
}
