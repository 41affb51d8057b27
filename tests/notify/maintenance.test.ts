import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/client.js';
import { parseOffsets } from '../../server/notify/config.js';
import * as catalog from '../../server/services/catalog.js';
import * as maintenance from '../../server/services/maintenance.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createSubscriberMutation, drain, startReceiver, testWorker, type Receiver } from './helpers.js';

let hub: TestHub;
let receiver: Receiver;
let worker: ReturnType<typeof testWorker>;

beforeAll(async () => {
  hub = await startTestHub();
  receiver = await startReceiver();
  worker = testWorker(hub.database.db);
});
afterAll(async () => {
  await worker.close();
  await receiver.close();
  await hub.close();
});

describe('maintenance notifications', () => {
  it('announces a window, reminds before it (nearest offset, once), tells its start and end, and sends no component alerts inside it', async () => {
    expect(parseOffsets('24h, 1h,30m')).toEqual([{ label: '24h', ms: 86_400_000 }, { label: '1h', ms: 3_600_000 }, { label: '30m', ms: 1_800_000 }]);
    const admin = await hub.apiToken(['admin']);
    const db = await catalog.createComponent(hub.system, { name: 'Database' });
    const created = await hub.gql(createSubscriberMutation, { input: { audience: 'public', channel: 'webhook', target: `${receiver.url}/m` } }, { token: admin });
    expect(created.errors).toBeUndefined();
    const messages = () => receiver.requests.map((r) => JSON.parse(r.body));

    const start = new Date(Date.now() + 30 * 60_000);
    const window = await maintenance.createMaintenance(hub.system, { title: 'Database upgrade', scheduledStart: start, scheduledEnd: new Date(start.getTime() + 3600_000), componentIds: [db.id] });
    await drain(worker);
    await receiver.waitFor((r) => r.length === 1);
    expect(messages()[0].incident).toMatchObject({ id: window.id, name: 'Database upgrade', status: 'scheduled', impact: 'maintenance' });

    // Announced two hours ago: the 1 h reminder is due now, the 24 h one never was (it was announced later than that).
    await hub.database.db.execute(sql`update maintenances set created_at = now() - interval '2 hours' where id = ${window.id}`);
    expect(await worker.remindMaintenances()).toBe(1);
    expect(await worker.remindMaintenances()).toBe(0);
    const reminders = await queryRows<{ reminder: string }>(hub.database.db, sql`select after->>'reminder' as reminder from events where action = 'maintenance.reminder' and entity_id = ${window.id}`);
    expect(reminders).toEqual([{ reminder: '1h' }]);
    await drain(worker);
    await receiver.waitFor((r) => r.length === 2);
    expect(messages()[1].incident).toMatchObject({ id: window.id, status: 'scheduled', scheduled_for: start.toISOString() });

    await maintenance.startMaintenance(hub.system, window.id);
    await drain(worker);
    await receiver.waitFor((r) => r.length === 3);
    expect(messages()[2].incident).toMatchObject({ id: window.id, status: 'in_progress' });
    // Inside the window: a component alert is not sent.
    await catalog.setComponentStatus(hub.system, db.id, 'major_outage');
    await drain(worker);
    await catalog.setComponentStatus(hub.system, db.id, 'under_maintenance');
    await maintenance.completeMaintenance(hub.system, window.id);
    await drain(worker);
    await receiver.waitFor((r) => r.length === 4);
    await new Promise((r) => setTimeout(r, 100));
    await drain(worker);
    expect(messages().map((m) => (m.incident ? `maintenance:${m.incident.status}` : `component:${m.component.status}`))).toEqual([
      'maintenance:scheduled',
      'maintenance:scheduled',
      'maintenance:in_progress',
      'maintenance:completed',
    ]);
  });
});
