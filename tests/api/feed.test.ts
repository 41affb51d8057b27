import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feed, feedHandler } from '../../server/http/feed.js';
import { createHttpServer } from '../../server/http/server.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/** GET /history.atom: the latest incidents one audience can see, as Atom. */

let hub: TestHub;
let staff: string;
let lockedToken: string;
const ids: Record<string, string> = {};

function get(query = '', headers: Record<string, string> = {}) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return feed(hub.database.db, new URL(`http://hub.test/history.atom${query}`), (name) => lower[name.toLowerCase()]);
}

/** Every entry as { id, title, link, content }, read back from the XML. */
function entriesOf(body: string) {
  return [...body.matchAll(/<entry>([\s\S]*?)<\/entry>/g)].map(([, entry]) => ({
    id: /<id>(.*?)<\/id>/.exec(entry!)?.[1],
    title: /<title>(.*?)<\/title>/.exec(entry!)?.[1],
    link: /<link rel="alternate" type="text\/html" href="(.*?)"\/>/.exec(entry!)?.[1],
    updated: /<updated>(.*?)<\/updated>/.exec(entry!)?.[1],
    content: /<content type="text">([\s\S]*?)<\/content>/.exec(entry!)?.[1],
  }));
}

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  staff = await hub.apiToken(['read:internal']);
  const api = await catalog.createComponent(s, { name: 'API' });
  const locked = await catalog.createDeployment(s, { slug: 'locked', name: 'Locked', access: 'protected' });
  const lockedGroup = await catalog.createGroup(s, { name: 'Locked services', deploymentId: locked.id });
  const lockedDb = await catalog.createComponent(s, { name: 'Locked DB', groupId: lockedGroup.id });
  lockedToken = await hub.audienceToken(locked.id);

  const pub = await incidents.createIncident(s, {
    title: 'Slow API responses',
    message: 'We are looking into slow responses.',
    internalNote: 'NOTE-public-incident-secret',
    components: [{ componentId: api.id, status: 'degraded_performance' }],
  });
  ids.public = pub.id;
  await incidents.resolveIncident(s, pub.id, { message: 'Responses are fast again.', internalNote: 'NOTE-resolve-secret' });

  ids.internal = (
    await incidents.createIncident(s, { title: 'Internal-only database failover', message: 'Failover drill.', visibility: 'internal' })
  ).id;
  ids.deployment = (
    await incidents.createIncident(s, {
      title: 'Locked DB outage',
      message: 'Locked DB is down.',
      components: [{ componentId: lockedDb.id, status: 'major_outage' }],
    })
  ).id;
  ids.escaped = (await incidents.createIncident(s, { title: 'Payments <&> "refunds"', message: 'a < b && c > d' })).id;
});
afterAll(() => hub.close());

describe('/history.atom', () => {
  it('lists a public incident as an Atom entry with its public messages', async () => {
    const answer = await get();
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    expect(answer.headers['cache-control']).toContain('public');
    expect(answer.body).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
    expect(answer.body).toContain('<link rel="self" type="application/atom+xml" href="http://hub.test/history.atom"/>');

    const entry = entriesOf(answer.body).find((e) => e.id === `urn:statushub:incident:${ids.public}`);
    expect(entry).toBeDefined();
    expect(entry!.title).toBe('Slow API responses');
    expect(entry!.link).toBe(`http://hub.test/incidents/${ids.public}`);
    expect(entry!.updated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Oldest first, each message under its status.
    expect(entry!.content).toMatch(/^Investigating \(.* UTC\): We are looking into slow responses\.\n\nResolved \(.* UTC\): Responses are fast again\.$/);
  });

  it('public viewer never sees an internal incident or an internal note; staff proves both exist', async () => {
    const { body } = await get();
    expect(body).not.toContain('Internal-only database failover');
    expect(body).not.toContain(ids.internal);
    expect(body).not.toContain('NOTE-');
    expect(body).not.toContain('Locked DB outage');

    // Staff reading as `internal` get the internal incident, yet still no internal notes.
    const internal = await get('?audience=internal', { authorization: `Bearer ${staff}` });
    expect(internal.status).toBe(200);
    expect(internal.headers['cache-control']).toContain('private');
    expect(entriesOf(internal.body).map((e) => e.title)).toContain('Internal-only database failover');
    expect(internal.body).not.toContain('NOTE-');
    const notes = await hub.gql(`query($id: ID!) { incident(id: $id) { updates { staff { internalNote } } } }`, { id: ids.public }, { audience: 'internal', token: staff });
    expect(JSON.stringify(notes.data)).toContain('NOTE-public-incident-secret');
  });

  it('a deployment audience with its token sees its deployment-only incident', async () => {
    const answer = await get(`?audience=deployment:locked&access_token=${lockedToken}`);
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toContain('private');
    const titles = entriesOf(answer.body).map((e) => e.title);
    expect(titles).toContain('Locked DB outage');
    expect(titles).toContain('Slow API responses');
    expect(titles).not.toContain('Internal-only database failover');
    // Its links open the incident as that deployment, and the secret is not written back out.
    const locked = entriesOf(answer.body).find((e) => e.title === 'Locked DB outage')!;
    expect(locked.link).toMatch(/\/incidents\/[0-9a-f-]{36}\?deployment=locked$/);
    expect(answer.body).not.toContain(lockedToken);
    expect(answer.body).toContain('href="http://hub.test/history.atom?audience=deployment%3Alocked"');
  });

  it('a protected deployment without a token, a missing deployment and a bad token are refused with 403', async () => {
    for (const query of ['?audience=deployment:locked', '?audience=deployment:nope', '?access_token=audience_bogus', '?audience=internal']) {
      const answer = await get(query);
      expect(answer.status, query).toBe(403);
      expect(answer.body).not.toContain('Locked');
    }
  });

  it('escapes <&> in titles and messages', async () => {
    const { body } = await get();
    const entry = entriesOf(body).find((e) => e.id === `urn:statushub:incident:${ids.escaped}`);
    expect(entry!.title).toBe('Payments &lt;&amp;&gt; &quot;refunds&quot;');
    expect(entry!.content).toContain('a &lt; b &amp;&amp; c &gt; d');
    expect(body).not.toContain('<&>');
  });

  it('is served on the app server, with the app still answering everything else', async () => {
    const server = createHttpServer(hub.yoga, { feed: feedHandler(hub.database.db) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const ok = await fetch(`http://127.0.0.1:${port}/history.atom`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
      const body = await ok.text();
      expect(body).toContain(`<link rel="alternate" type="text/html" href="http://127.0.0.1:${port}/incidents/${ids.public}"/>`);
      expect((await fetch(`http://127.0.0.1:${port}/history.atom?audience=deployment:locked`)).status).toBe(403);
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('ok');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
