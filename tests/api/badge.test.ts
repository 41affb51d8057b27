import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badge, badgeHandler } from '../../server/http/badge.js';
import { pages } from '../../server/db/tables/index.js';
import { createHttpServer } from '../../server/http/server.js';
import * as catalog from '../../server/services/catalog.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/** GET /badge.svg: one audience's page status as a shields-style SVG. */

let hub: TestHub;
let staff: string;
let protectedToken: string;

function get(query = '', headers: Record<string, string> = {}) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return badge(hub.database.db, new URL(`http://hub.test/badge.svg${query}`), (name) => lower[name.toLowerCase()]);
}

beforeAll(async () => {
  hub = await startTestHub();
  staff = await hub.apiToken(['read:internal']);
  await catalog.createComponent(hub.system, { name: 'API' });
  await catalog.createComponent(hub.system, { name: 'Secret DB', visibility: 'internal', status: 'major_outage' });
  const locked = await catalog.createDeployment(hub.system, { slug: 'locked', name: 'Locked', access: 'protected' });
  protectedToken = await hub.audienceToken(locked.id);
});
afterAll(() => hub.close());

describe('/badge.svg', () => {
  it('the public badge ignores an internal outage; the internal audience sees it', async () => {
    const pub = await get();
    expect(pub.status).toBe(200);
    expect(pub.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(pub.headers['cache-control']).toContain('max-age=30');
    expect(pub.body).toContain('All Systems Operational');
    expect(pub.body).toContain('#4c1');
    expect(pub.body).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    // Staff asking for the public audience get the public badge.
    expect((await get('?audience=public', { authorization: `Bearer ${staff}` })).body).toContain('All Systems Operational');
    // Proof the outage exists: the internal audience shows it.
    const internal = await get('?audience=internal', { authorization: `Bearer ${staff}` });
    expect(internal.status).toBe(200);
    expect(internal.body).toContain('Major Service Outage');
    expect(internal.body).toContain('#e05d44');
    expect(internal.headers['cache-control']).toContain('private');
  });

  it('internal without staff credentials, a protected deployment without a token and a missing one are the same grey 403', async () => {
    const answers = await Promise.all([get('?audience=internal'), get('?audience=deployment:locked'), get('?audience=deployment:nope')]);
    expect(answers.slice(1).map((a) => a.body)).toEqual([answers[1]!.body, answers[1]!.body]);
    for (const a of answers) {
      expect(a.status).toBe(403);
      expect(a.body).toContain('unavailable');
      expect(a.body).toContain('#9f9f9f');
      expect(a.body).not.toContain('locked');
      expect(a.body).not.toContain('nope');
    }
    const withToken = await get(`?audience=deployment:locked&access_token=${protectedToken}`);
    expect(withToken.status).toBe(200);
    expect(withToken.body).toContain('All Systems Operational');
    // A bad token is refused too (not silently downgraded to public).
    expect((await get('?access_token=audience_bogus')).status).toBe(403);
  });

  it('escapes the page name for XML', async () => {
    await hub.database.db.update(pages).set({ name: 'Acme <&> "Co"' }).where(eq(pages.id, hub.page.id));
    const { body } = await get();
    expect(body).toContain('Acme &lt;&amp;&gt; &quot;Co&quot; status: All Systems Operational');
    expect(body).not.toContain('<&>');
  });

  it('is routed by the HTTP server', async () => {
    const server = createHttpServer(hub.yoga, { badge: badgeHandler(hub.database.db) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const ok = await fetch(`http://127.0.0.1:${port}/badge.svg?audience=public`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      expect(ok.headers.get('cache-control')).toContain('max-age=30');
      expect(await ok.text()).toContain('All Systems Operational');
      const refused = await fetch(`http://127.0.0.1:${port}/badge.svg?audience=deployment:locked`);
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('unavailable');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
