import { parseFeed } from '@rowanmanning/feed-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feed, rss } from '../../server/http/feed.js';
import * as catalog from '../../server/services/catalog.js';
import * as incidents from '../../server/services/incidents.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/** /history.atom and /history.rss, per audience, read back by a real feed parser. */

let hub: TestHub;
let staff: string;
let lockedToken: string;
const ids: Record<string, string> = {};

const read = (render: typeof feed, path: string, query = '') =>
  render(hub.database.db, new URL(`http://hub.test${path}${query}`), () => undefined);

beforeAll(async () => {
  hub = await startTestHub();
  const s = hub.system;
  staff = await hub.apiToken(['read:internal']);
  const api = await catalog.createComponent(s, { name: 'API' });
  const locked = await catalog.createDeployment(s, { slug: 'locked', name: 'Locked', access: 'protected' });
  const lockedGroup = await catalog.createGroup(s, { name: 'Locked services', deploymentId: locked.id });
  const lockedDb = await catalog.createComponent(s, { name: 'Locked DB', groupId: lockedGroup.id });
  lockedToken = await hub.audienceToken(locked.id);
  ids.public = (await incidents.createIncident(s, { title: 'Slow API <&> "quotes"', message: 'a < b && c > d', components: [{ componentId: api.id, status: 'degraded_performance' }] })).id;
  await incidents.resolveIncident(s, ids.public, { message: 'Fast again.' });
  ids.internal = (await incidents.createIncident(s, { title: 'FEED-internal drill', message: 'Drill.', visibility: 'internal' })).id;
  ids.locked = (await incidents.createIncident(s, { title: 'FEED-locked outage', message: 'Down.', components: [{ componentId: lockedDb.id, status: 'major_outage' }] })).id;
});
afterAll(() => hub.close());

describe.each([
  { format: 'atom', render: feed, path: '/history.atom', type: 'atom', contentType: 'application/atom+xml; charset=utf-8' },
  { format: 'rss', render: rss, path: '/history.rss', type: 'rss', contentType: 'application/rss+xml; charset=utf-8' },
])('/history.$format', ({ render, path, type, contentType }) => {
  it('parses under @rowanmanning/feed-parser with titles, links, ids and dates', async () => {
    const answer = await read(render, path);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(contentType);
    const parsed = parseFeed(answer.body);
    expect(parsed.meta.type).toBe(type);
    expect(parsed.title).toMatch(/ status history$/);
    expect(parsed.self).toBe(`http://hub.test${path}`);
    const item = parsed.items.find((i) => i.id === `urn:statushub:incident:${ids.public}`);
    expect(item).toBeDefined();
    expect(item!.title).toBe('Slow API <&> "quotes"');
    expect(item!.url).toBe(`http://hub.test/incidents/${ids.public}`);
    expect(item!.published).toBeInstanceOf(Date);
    expect(Number.isNaN(item!.published!.getTime())).toBe(false);
    expect(item!.content ?? item!.description).toContain('a < b && c > d');
  });

  it('public readers never get an internal or a protected deployment\'s incident; staff prove both exist', async () => {
    const publicFeed = parseFeed((await read(render, path)).body);
    const titles = publicFeed.items.map((i) => i.title);
    expect(titles).not.toContain('FEED-internal drill');
    expect(titles).not.toContain('FEED-locked outage');
    const staffFeed = parseFeed((await read(render, path, `?audience=internal&access_token=${staff}`)).body);
    expect(staffFeed.items.map((i) => i.title)).toEqual(expect.arrayContaining(['FEED-internal drill', 'FEED-locked outage']));
  });

  it("a deployment's feed with its token: its incidents, linked as that deployment, and no secret in the self link", async () => {
    const answer = await read(render, path, `?access_token=${lockedToken}`);
    expect(answer.headers['cache-control']).toContain('private');
    const parsed = parseFeed(answer.body);
    expect(parsed.self).toBe(`http://hub.test${path}`);
    const item = parsed.items.find((i) => i.title === 'FEED-locked outage');
    expect(item?.url).toBe(`http://hub.test/incidents/${ids.locked}?deployment=locked`);
    expect(parsed.items.map((i) => i.title)).not.toContain('FEED-internal drill');
    expect((await read(render, path, '?audience=deployment:locked')).status).toBe(403);
  });
});
