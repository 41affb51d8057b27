import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as staff from '../../server/services/staff.js';
import type { TestDatabase } from '../helpers/database.js';
import {
  caughtUp,
  Collector,
  mintApiToken,
  mintAudienceToken,
  mutate,
  setStatus,
  stopLiveFixture,
  subscribed,
  subscribeSse,
  subscribeWs,
  Subscriptions,
  systemContext,
  startLiveFixture,
  waitUntil,
  type Catalog,
  type TestNode,
} from '../helpers/live.js';
import type { PageRow } from '../../server/db/tables/index.js';

/**
 * Open streams keep the access they connected with only while it holds (server/realtime/access.ts):
 * revoking a token, disabling a user or making a deployment protected ends the streams that used
 * it (WebSocket: close 4403 with the `auth/...` code; SSE: an error event with the code, then
 * complete), before any later event for that audience. A control stream that keeps its access
 * receives the later event, proving there was something to leak.
 */

let database: TestDatabase;
let node: TestNode;
let page: PageRow;
let ids: Catalog;
let admin: string;
const subs = new Subscriptions();

beforeAll(async () => {
  ({ database, node, ids, admin, page } = await startLiveFixture());
});
afterAll(() => stopLiveFixture({ node, database }, subs));
afterEach(async () => {
  subs.closeAll();
  await waitUntil(() => node.subscribers() === 0, 5_000, 'subscriptions closed');
  await caughtUp(node, database.db);
});

type Transport = 'ws' | 'sse';
interface Access {
  token?: string;
  audience?: string;
  cookie?: string;
}

/** A WebSocket that sends a Cookie header on its upgrade request, as a browser would. */
function cookieSocket(cookie: string) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { cookie } });
    }
  };
}

function open(transport: Transport, access: Access, label: string): Promise<Collector> {
  const { token, audience, cookie } = access;
  return subscribed(node, () =>
    subs.add(
      transport === 'ws'
        ? subscribeWs(node.wsUrl, {}, { token, audience, ...(cookie ? { webSocketImpl: cookieSocket(cookie) } : {}) }, label)
        : subscribeSse(node.url, {}, { token, audience, headers: cookie ? { cookie } : {} }, label),
    ),
  );
}

/** The stream ended with this `auth/...` code, the way its transport says so. */
async function expectRevoked(stream: Collector, transport: Transport, code: string): Promise<void> {
  await stream.waitForEnd(5_000);
  if (transport === 'ws') {
    expect(stream.closed, stream.describe()).toMatchObject({ code: 4403, reason: code });
  } else {
    const last = stream.results.at(-1);
    expect(last?.errors?.[0]?.extensions?.code, stream.describe()).toBe(code);
    expect(stream.completed).toBe(true);
  }
}

const revokeApi = `mutation ($id: ID!) { revokeApiToken(id: $id) { id } }`;
const revokeAudience = `mutation ($id: ID!) { revokeAudienceToken(id: $id) { id } }`;
const updateUser = `mutation ($id: ID!, $patch: UserPatch!) { updateUser(id: $id, patch: $patch) { id } }`;
const updateDeployment = `mutation ($id: ID!, $patch: DeploymentPatch!) { updateDeployment(id: $id, patch: $patch) { id } }`;

async function tokenId(kind: 'apiTokens' | 'audienceTokens', prefixOf: string): Promise<string> {
  const { data } = await (await fetch(`${node.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ query: `{ ${kind} { id prefix } }` }),
  })).json();
  return data[kind].find((t: { prefix: string }) => prefixOf.startsWith(t.prefix)).id;
}

/** After the revocation: a change the old audience would have seen reaches the control stream only. */
async function expectNothingMore(revoked: Collector, control: Collector, componentId: string, status: string): Promise<void> {
  const before = revoked.results.length;
  await setStatus(node.url, admin, componentId, status);
  await control.waitFor((events) => events.some((e) => e.component?.id === componentId && e.component.status === status), 5_000, `${status} on the control stream`);
  expect(revoked.results.length).toBe(before);
}

for (const transport of ['ws', 'sse'] as const) {
  describe(`${transport}: access is re-checked when it changes`, () => {
    it('a revoked audience token ends its stream; another token of the deployment keeps streaming', async () => {
      const kept = await mintAudienceToken(database.db, page, ids.ap);
      const revokedToken = await mintAudienceToken(database.db, page, ids.ap);
      const control = await open(transport, { token: kept }, 'kept');
      const stream = await open(transport, { token: revokedToken }, 'revoked');
      const started = Date.now();
      await mutate(node.url, admin, revokeAudience, { id: await tokenId('audienceTokens', revokedToken) });
      await expectRevoked(stream, transport, 'auth/unauthenticated');
      console.info(`${transport}: audience token revocation ended the stream after ${Date.now() - started} ms`);
      await expectNothingMore(stream, control, ids.apApi, 'major_outage');
    });

    it('a revoked read:internal API token ends its internal stream; the internal audience still exists for other staff', async () => {
      const kept = await mintApiToken(database.db, page, ['read:internal']);
      const revokedToken = await mintApiToken(database.db, page, ['read:internal']);
      const control = await open(transport, { token: kept }, 'kept');
      const stream = await open(transport, { token: revokedToken }, 'revoked');
      await mutate(node.url, admin, revokeApi, { id: await tokenId('apiTokens', revokedToken) });
      await expectRevoked(stream, transport, 'auth/unauthenticated');
      // The internal component: only staff see it change.
      await expectNothingMore(stream, control, ids.db, 'partial_outage');
    });

    it('disabling a staff user ends the streams of their sessions', async () => {
      const email = `${transport}-staff@example.com`;
      const user = await staff.createUser(systemContext(database, page), { email, name: 'Streaming staff', role: 'viewer', password: 'long enough password' });
      const session = await staff.signIn(systemContext(database, page), email, 'long enough password');
      const cookie = `statushub_session=${encodeURIComponent(session.token)}`;
      const control = await open(transport, { token: admin }, 'admin');
      const stream = await open(transport, { cookie }, 'session');
      await mutate(node.url, admin, updateUser, { id: user.id, patch: { disabled: true } });
      await expectRevoked(stream, transport, 'auth/forbidden');
      await expectNothingMore(stream, control, ids.db, 'degraded_performance');
    });

    it('a deployment switched from open to protected ends its anonymous streams; its token holders keep streaming', async () => {
      const dep = await mutate<{ createDeployment: { id: string } }>(node.url, admin, `mutation { createDeployment(input: { slug: "sw-${transport}", name: "Switch" }) { id } }`);
      const depId = dep.createDeployment.id;
      const group = await mutate(node.url, admin, `mutation ($d: ID!) { createComponentGroup(input: { name: "Switch services", deploymentId: $d }) { id } }`, { d: depId });
      const component = await mutate(node.url, admin, `mutation ($g: ID!) { createComponent(input: { name: "Switch API", groupId: $g }) { id } }`, { g: group.createComponentGroup.id });
      const holder = await mintAudienceToken(database.db, page, depId);
      const control = await open(transport, { token: holder }, 'token holder');
      const stream = await open(transport, { audience: `deployment:sw-${transport}` }, 'anonymous');
      await mutate(node.url, admin, updateDeployment, { id: depId, patch: { access: 'protected' } });
      await expectRevoked(stream, transport, 'auth/audience_token_required');
      await expectNothingMore(stream, control, component.createComponent.id, 'major_outage');
    });

    it('an expiring token ends its stream when it expires', async () => {
      const expiring = await mintAudienceToken(database.db, page, ids.ap, new Date(Date.now() + 3_000));
      const stream = await open(transport, { token: expiring }, 'expiring');
      await expectRevoked(stream, transport, 'auth/unauthenticated');
    });
  });
}

it('nothing is left watching once the streams are gone', async () => {
  await waitUntil(() => node.node.live.access.size === 0, 5_000, 'no watched streams');
});
