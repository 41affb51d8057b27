import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, subscribers } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import { importSubscribers } from '../../server/services/subscriber-import.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let admin: string;
const ids: Record<string, string> = {};

const importMutation = `mutation ($audience: String!, $csv: String!, $dryRun: Boolean) {
  importSubscribers(audience: $audience, csv: $csv, dryRun: $dryRun) { created skipped errors { line field message } }
}`;

beforeAll(async () => {
  // Room for a 2 MB file in one request (the default body limit is 1 MB).
  hub = await startTestHub({ limits: { maxBodyBytes: 4 * 1024 * 1024 } });
  admin = await hub.apiToken(['admin']);
  const s = hub.system;
  const eu = await catalog.createDeployment(s, { slug: 'eu-1', name: 'EU 1' });
  const core = await catalog.createGroup(s, { name: 'Core' });
  const euGroup = await catalog.createGroup(s, { name: 'EU services', deploymentId: eu.id });
  const api = await catalog.createComponent(s, { name: 'API', groupId: core.id });
  const web = await catalog.createComponent(s, { name: 'Web' });
  const vault = await catalog.createComponent(s, { name: 'Vault', groupId: core.id, visibility: 'internal' });
  const euDb = await catalog.createComponent(s, { name: 'EU database', groupId: euGroup.id });
  Object.assign(ids, { eu: eu.id, core: core.id, euGroup: euGroup.id, api: api.id, web: web.id, vault: vault.id, euDb: euDb.id });
});
afterAll(() => hub.close());

async function runImport(audience: string, csv: string, dryRun = false) {
  const r = await hub.gql(importMutation, { audience, csv, dryRun }, { token: admin });
  return r;
}
const subscribersOf = (audience: 'public' | string) =>
  hub.database.db
    .select()
    .from(subscribers)
    .where(audience === 'public' ? eq(subscribers.audienceKind, 'public') : eq(subscribers.deploymentId, audience));

describe('importing subscribers from CSV', () => {
  it('a good file: columns in any order and case, names or ids, every channel; active with a manage token, webhooks with a secret; one import event', async () => {
    const csv = [
      'Target,CHANNEL,Components,groups',
      'Ann@Example.test,,API; web,',
      `https://hooks.example.test/statushub,webhook,${ids.web},core`,
      '+15551234567,sms,,',
      '"https://hooks.slack.com/services/T0/B0/x",slack,,',
      '',
      'bob@example.test,email,,',
    ].join('\r\n');
    const r = await runImport('public', csv);
    expect(r.errors).toBeUndefined();
    expect(r.data.importSubscribers).toEqual({ created: 5, skipped: 0, errors: [] });
    const rows = await subscribersOf('public');
    const byTarget = Object.fromEntries(rows.map((s) => [s.target, s]));
    expect(Object.keys(byTarget).sort()).toEqual(['+15551234567', 'ann@example.test', 'bob@example.test', 'https://hooks.example.test/statushub', 'https://hooks.slack.com/services/T0/B0/x']);
    expect(byTarget['ann@example.test']).toMatchObject({ channel: 'email', state: 'active', groupIds: [] });
    expect([...byTarget['ann@example.test']!.componentIds].sort()).toEqual([ids.api, ids.web].sort());
    expect(byTarget['https://hooks.example.test/statushub']).toMatchObject({ channel: 'webhook', componentIds: [ids.web], groupIds: [ids.core] });
    for (const s of rows) {
      expect(s.state).toBe('active');
      expect(s.manageTokenHash).toBeTruthy();
      expect(s.signingSecrets).toHaveLength(s.channel === 'webhook' ? 1 : 0);
    }
    // One event for the file, naming every subscriber it made, without secrets.
    const logged = await hub.database.db.select().from(events).where(eq(events.entityType, 'subscriber'));
    expect(logged.map((e) => [e.action, e.entityId])).toEqual([['subscriber.imported', 'public']]);
    const after = logged[0]!.after as { count: number; subscriberIds: string[] };
    expect(after.count).toBe(5);
    expect([...after.subscriberIds].sort()).toEqual(rows.map((s) => s.id).sort());
    expect(JSON.stringify(logged)).not.toContain('whsec_');
  });

  it('errors on lines 3 and 5: nothing is written and both are listed with their lines', async () => {
    const before = await hub.snapshotCounts();
    const csv = ['email,components', 'carol@example.test,API', 'not-an-address,API', '"dave@example.test",Web', 'erin@example.test,Nope', 'frank@example.test,'].join('\n');
    const r = await runImport('public', csv);
    expect(r.data.importSubscribers).toEqual({
      created: 0,
      skipped: 0,
      errors: [
        { line: 3, field: 'email', message: 'must be an email address' },
        { line: 5, field: 'components', message: 'no component "Nope" that this audience can see' },
      ],
    });
    expect(await hub.snapshotCounts()).toEqual(before);

    // A row spanning lines is named by the line it starts on; header problems by line 1.
    const multi = await runImport('public', 'target,groups\n"x@example.test",Core\n"y@example\n.test",Core\nz@example.test,"Co\nre2"');
    expect(multi.data.importSubscribers.errors.map((e: { line: number; field: string }) => [e.line, e.field])).toEqual([
      [3, 'target'],
      [5, 'groups'],
    ]);
    const header = await runImport('public', 'mail,channel,channel\nx@example.test,email,email');
    expect(header.data.importSubscribers.errors.map((e: { line: number; field: string }) => [e.line, e.field])).toEqual([
      [1, 'mail'],
      [1, 'channel'],
      [1, 'target'],
    ]);
    const shape = await runImport('public', 'email,channel\nx@example.test\ny@example.test,fax');
    expect(shape.data.importSubscribers.errors).toEqual([
      { line: 2, field: 'csv', message: 'has 1 fields; the header has 2' },
      { line: 3, field: 'channel', message: 'must be one of email, webhook, slack, teams, sms' },
    ]);
    expect(await hub.snapshotCounts()).toEqual(before);
  });

  it('dryRun counts and writes nothing', async () => {
    const before = await hub.snapshotCounts();
    const r = await runImport('deployment:eu-1', 'email,groups\ngina@example.test,EU services\nhank@example.test,Core', true);
    expect(r.data.importSubscribers).toEqual({ created: 2, skipped: 0, errors: [] });
    expect(await hub.snapshotCounts()).toEqual(before);
    const real = await runImport('deployment:eu-1', 'email,groups\ngina@example.test,EU services\nhank@example.test,Core');
    expect(real.data.importSubscribers).toEqual({ created: 2, skipped: 0, errors: [] });
    expect((await subscribersOf(ids.eu!)).map((s) => s.groupIds[0]).sort()).toEqual([ids.core, ids.euGroup].sort());
  });

  it('the public audience cannot follow an internal component or another deployment\'s, named or by id, while staff see both exist', async () => {
    const staff = await hub.gql(`{ components { id name } }`, {}, { token: admin });
    const names = staff.data.components.map((c: { name: string }) => c.name);
    expect(names).toContain('Vault');
    expect(names).toContain('EU database');
    const before = await hub.snapshotCounts();
    const r = await runImport('public', `email,components,groups\nivy@example.test,Vault,\njack@example.test,${ids.vault},\nkim@example.test,EU database,EU services`);
    expect(r.data.importSubscribers.errors).toEqual([
      { line: 2, field: 'components', message: 'no component "Vault" that this audience can see' },
      { line: 3, field: 'components', message: `no component "${ids.vault}" that this audience can see` },
      { line: 4, field: 'components', message: 'no component "EU database" that this audience can see' },
      { line: 4, field: 'groups', message: 'no group "EU services" that this audience can see' },
    ]);
    // Exactly the words for something that does not exist.
    const missing = await runImport('public', 'email,components\nivy@example.test,Nothing here');
    expect(missing.data.importSubscribers.errors[0].message).toBe('no component "Nothing here" that this audience can see');
    expect(await hub.snapshotCounts()).toEqual(before);
    // The deployment's own audience may follow its component.
    expect((await runImport('deployment:eu-1', 'email,components\nkim@example.test,EU database')).data.importSubscribers).toMatchObject({ created: 1, errors: [] });
  });

  it('skips what the audience already has (any case of an email, any state) and repeats within the file', async () => {
    await hub.database.db.update(subscribers).set({ state: 'unsubscribed' }).where(eq(subscribers.target, 'bob@example.test'));
    const r = await runImport('public', 'email\nANN@example.test\nbob@example.test\nnew@example.test\nNew@Example.test');
    expect(r.data.importSubscribers).toEqual({ created: 1, skipped: 3, errors: [] });
    const bob = await hub.database.db.select().from(subscribers).where(eq(subscribers.target, 'bob@example.test'));
    expect(bob.map((s) => s.state)).toEqual(['unsubscribed']);
    // Another audience is another list: the same address is new there.
    expect((await runImport('deployment:eu-1', 'email\nann@example.test')).data.importSubscribers).toMatchObject({ created: 1, skipped: 0 });
  });

  it('hostile input gets typed errors, never a 500, and writes nothing', async () => {
    const editor = await hub.apiToken(['write:components', 'read:internal']);
    const before = await hub.snapshotCounts();
    const rows = (n: number) => ['email', ...Array.from({ length: n }, (_, i) => `u${i}@example.test`)].join('\n');
    const cases: [string, string, string][] = [
      ['public', 'email\n"unclosed@example.test\nb@example.test', 'input/invalid'],
      ['public', 'email\nab"c@example.test', 'input/invalid'],
      ['public', String.fromCharCode(...Array.from({ length: 200 }, (_, i) => (i * 37) % 256)), 'input/invalid'],
      ['public', '\uFEFF\u00ff\u00fe\u0001\u0002PK\u0003\u0004', 'input/invalid'],
      ['public', rows(10_001), 'input/too_large'],
      ['public', `email\n${'x'.repeat(2 * 1024 * 1024)}`, 'input/too_large'],
      ['public', '', 'input/invalid'],
      ['deployment:nowhere', 'email\na@example.test', 'input/invalid'],
      ['internal', 'email\na@example.test', 'input/invalid'],
    ];
    for (const [audience, csv, code] of cases) {
      const r = await runImport(audience, csv);
      expect(r.status, csv.slice(0, 40)).toBeLessThan(500);
      const got = r.errors?.[0]?.extensions?.code ?? (r.data?.importSubscribers?.errors?.length ? 'input/invalid' : 'none');
      expect(got, csv.slice(0, 40)).toBe(code);
    }
    expect(await hub.snapshotCounts()).toEqual(before);
    // The limit is the limit: 10,000 rows go through (checked, not written).
    expect((await runImport('public', rows(10_000), true)).data.importSubscribers).toMatchObject({ created: 10_000, errors: [] });
    // Only admins import.
    const refused = await hub.gql(importMutation, { audience: 'public', csv: 'email\nz@example.test' }, { token: editor });
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    await expect(importSubscribers({ ...hub.system, viewer: { ...hub.system.viewer, actor: { type: 'anonymous' } } }, { audience: 'public', csv: 'email\nz@example.test' })).rejects.toMatchObject({ extensions: { code: 'auth/forbidden' } });
    expect(await hub.snapshotCounts()).toEqual(before);
  }, 60_000);
});
