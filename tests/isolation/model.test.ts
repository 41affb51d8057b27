import fc from 'fast-check';
import { isObjectType, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { schema } from '../../schema/index.js';
import { newSecret } from '../../server/auth/secrets.js';
import { systemViewer } from '../../server/auth/viewer.js';
import { apiTokens, audienceTokens, pages, type PageRow } from '../../server/db/tables/index.js';
import * as catalog from '../../server/services/catalog.js';
import type { ServiceContext } from '../../server/services/context.js';
import * as incidents from '../../server/services/incidents.js';
import * as maintenance from '../../server/services/maintenance.js';
import * as staff from '../../server/services/staff.js';
import * as tokens from '../../server/services/tokens.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { Collector, maxSeq, startTestNode, subscribeSse, subscribeWs, waitUntil, type TestNode } from '../helpers/live.js';
import { statuspageEndpoints } from '../../server/http/statuspage-api.js';
import { widestSelection } from '../helpers/schema-documents.js';
import * as customers from '../../server/services/customers.js';
import * as subscribers from '../../server/services/subscribers.js';
import { statusLabel } from '../../server/notify/channels/summary.js';
import { drain, everyChannelWorker, fakeSmsAccount, startFakeSms, startReceiver, type FakeSms, type Receiver } from '../notify/helpers.js';
import { startSmtpSink, type SmtpSink } from '../notify/smtp.js';

/**
 * The one promise, tested across change. fast-check generates random sequences of staff
 * operations (create, update, move between groups and deployments, change visibility and
 * page-wide, delete, backfill, resolve, post updates with empty component lists, revoke tokens,
 * make a deployment protected, disable a user, remove or add a deployment's customer). Every
 * string written carries a unique marker. After each operation, every audience reads every Query field (POST), the Atom feed, and its
 * open graphql-ws and SSE streams; the model (a second, deliberately simple statement of the rules
 * in server/read/visibility.ts) says which markers each audience may see. No audience may see a
 * marker outside its set, and staff must see every current marker, so the test cannot pass by
 * seeing nothing. A stream whose access was taken away must end, and receive nothing after.
 * Notifications are viewers too: per audience (public, A, B) a subscriber on every channel — webhook,
 * email (a real SMTP server), Slack and Teams (local receivers for their incoming webhooks), SMS (a
 * local fake of Twilio's API) — and a webhook subscriber following one component only; the notifier
 * runs after every step. Each channel must get the step's tick and nothing its audience may not see;
 * the one-component subscriber must hear only of that component and of what affects it or the whole
 * page (never the tick), and must have heard of it at least once per run. Each deployment also has a
 * customer (its name a staff-only marker), auto-subscribed by email to its deployment's groups: it
 * hears only what its audience sees, hears of its deployment's component in the first check, and
 * nothing at all while removed.
 *
 * Each run gets a page (tenant) of its own on one database and node. MODEL_RUNS and MODEL_STEPS
 * raise the counts; a failure prints its seed and path (FC_SEED / FC_PATH replay it).
 */

const runs = Number(process.env.MODEL_RUNS ?? 5);
const maxSteps = Number(process.env.MODEL_STEPS ?? 25);
const markerPattern = /MK\d+x\d+K/g;

type Audience = 'public' | 'A' | 'B' | 'internal';
type Dep = 'A' | 'B';
type Visibility = 'public' | 'internal';

interface GroupModel {
  dep: Dep | null;
  visibility: Visibility;
  marker: string;
}
interface ComponentModel {
  groupId: string | null;
  visibility: Visibility;
  marker: string;
}
interface StoryModel {
  visibility: Visibility;
  pageWide: boolean;
  componentIds: Set<string>;
  /** Every component it has affected (its updates name them), for the one-component subscriber. */
  touched: Set<string>;
  /** Strings that go wherever it goes. */
  markers: string[];
  /** Strings only staff ever see (internal notes, war room, roles). */
  staffOnly: string[];
  resolved: boolean;
}
interface Stream {
  collector: Collector;
  audience: Audience;
  credential: 'anonymous' | 'audience token' | 'api token' | 'session';
  transport: 'ws' | 'sse';
  checked: number;
  /** Set once its access was taken away: it must have ended, with nothing at or after this seq. */
  revokedAt?: number;
}

/** A notification subscriber, read through its receiver: `read` gives every message it got so far, as text. */
interface Listener {
  audience: Exclude<Audience, 'internal'>;
  channel: 'webhook' | 'email' | 'slack' | 'teams' | 'sms';
  /** A narrow subscriber: the one component it follows. */
  follows?: string;
  /** A deployment's customer, auto-subscribed (it follows its deployment's groups; hears nothing while removed). */
  customer?: Dep;
  read: () => string[];
  checked: number;
}

interface Model {
  deps: Record<Dep, { id: string; marker: string; access: 'open' | 'protected' }>;
  groups: Map<string, GroupModel>;
  components: Map<string, ComponentModel>;
  incidents: Map<string, StoryModel>;
  maintenances: Map<string, StoryModel>;
  /** Each deployment's customer while it exists (its name carries a staff-only marker). */
  customers: Partial<Record<Dep, { id: string; marker: string }>>;
  /** Every marker ever written: staff may see all of them (the audit log keeps history). */
  everWritten: Set<string>;
}

let database: TestDatabase;
let node: TestNode;
let pageCount = 0;
let operations = 0;
let checks = 0;
let receiver: Receiver;
let smtp: SmtpSink;
let sms: FakeSms;
let notifier: ReturnType<typeof everyChannelWorker>;

beforeAll(async () => {
  database = await createTestDatabase();
  receiver = await startReceiver();
  smtp = await startSmtpSink();
  sms = await startFakeSms(fakeSmsAccount.SMS_ACCOUNT_SID, fakeSmsAccount.SMS_AUTH_TOKEN);
  // Nothing held back: no consolidation wait (testNotifyConfig) and no hourly cap within reach.
  notifier = everyChannelWorker(database.db, { smtpUrl: smtp.url, smsUrl: sms.url }, { NOTIFY_MAX_PER_HOUR: '1000000' });
  // The limits have tests of their own; here the widest documents must get through.
  const wide = { depth: 30, aliases: 10_000, tokens: 1_000_000, cost: 100_000_000, directives: 1_000 };
  const rate = { points: 1_000_000, seconds: 1 };
  node = await startTestNode(database, {
    limits: { anonymous: wide, staff: wide, sseStreamsPerClient: 10_000, rates: { anonymousReads: rate, tokenUse: rate, writes: rate, subscriptions: rate } },
  });
});
afterAll(async () => {
  await notifier?.close();
  await receiver?.close();
  await smtp?.close();
  await sms?.close();
  await node?.close();
  await database?.destroy();
});

// ── the world of one run ─────────────────────────────────────────────────────

class World {
  readonly model: Model;
  readonly streams: Stream[] = [];
  private markers = 0;
  private tickStatus = false;
  readToken = { A: '', B: '', internal: '' };
  bToken = { id: '', value: '' };
  apiToken = { id: '', value: '' };
  sessionCookie = '';
  userId = '';
  tickId = '';
  readonly listeners: Listener[] = [];
  /** Per audience, the one component its narrow subscriber follows. */
  followed = { public: '', A: '', B: '' };

  private constructor(
    readonly page: PageRow,
    readonly ctx: ServiceContext,
    model: Model,
  ) {
    this.model = model;
  }

  static async create(): Promise<World> {
    const n = ++pageCount;
    const [page] = await database.db.insert(pages).values({ slug: `model-${n}`, name: `Model ${n}` }).returning();
    const ctx: ServiceContext = { db: database.db, viewer: systemViewer(page!, 'model'), onCommit: node.node.onCommit };
    const world = new World(page!, ctx, { deps: {} as Model['deps'], groups: new Map(), components: new Map(), incidents: new Map(), maintenances: new Map(), customers: {}, everWritten: new Set() });
    await world.setUp();
    return world;
  }

  marker(): string {
    const m = `MK${pageCount}x${++this.markers}K`;
    this.model.everWritten.add(m);
    return m;
  }

  private async setUp(): Promise<void> {
    const { ctx, model } = this;
    for (const [dep, access] of [['A', 'open'], ['B', 'protected']] as const) {
      const marker = this.marker();
      // Its customers are subscribed as they are added (the demo seed's "Duo" case).
      const row = await catalog.createDeployment(ctx, { slug: `dep-${dep.toLowerCase()}`, name: `${marker} deployment`, access, autoSubscribeCustomers: true });
      model.deps[dep] = { id: row.id, marker, access };
    }
    for (const [dep, visibility] of [[null, 'public'], [null, 'internal'], ['A', 'public'], ['B', 'public']] as const) {
      const marker = this.marker();
      const row = await catalog.createGroup(ctx, { name: `${marker} group`, deploymentId: dep ? model.deps[dep].id : null, visibility });
      model.groups.set(row.id, { dep, visibility, marker });
    }
    // A component in each group and two ungrouped ones, so the first steps have something to change.
    for (const groupId of [null, ...model.groups.keys()]) {
      for (const visibility of groupId === null ? (['public', 'internal'] as const) : (['public'] as const)) {
        const marker = this.marker();
        const row = await catalog.createComponent(ctx, { name: `${marker} component`, groupId, visibility });
        model.components.set(row.id, { groupId, visibility, marker });
        // The narrow subscribers: public follows the ungrouped public component, A and B the one in their group.
        const dep = groupId === null ? (visibility === 'public' ? 'public' : null) : model.groups.get(groupId)!.dep;
        if (dep) this.followed[dep] = row.id;
      }
    }
    // Public, ungrouped, no marker: its status flips after every step so each stream has an event to wait for.
    this.tickId = (await catalog.createComponent(ctx, { name: 'Tick' })).id;
    this.readToken.A = await this.mintAudienceToken('A');
    this.readToken.B = await this.mintAudienceToken('B');
    this.readToken.internal = await this.mintApiToken();
    await this.newBToken();
    await this.newApiToken();
    await this.subscribe();
    const user = await staff.createUser(ctx, { email: `model-${pageCount}@example.com`, name: 'Model staff', role: 'viewer', password: 'model password 1' });
    this.userId = user.id;
    await this.newSession();
    for (const transport of ['ws', 'sse'] as const) {
      this.open(transport, 'public', 'anonymous');
      this.open(transport, 'A', 'anonymous');
      this.open(transport, 'B', 'audience token');
      this.open(transport, 'internal', 'api token');
      this.open(transport, 'internal', 'session');
    }
    await waitUntil(() => node.node.live.hub.subscriberCount() >= this.streams.length, 5_000, 'streams registered');
  }

  /** Every channel per audience, and one webhook that follows one component; each heard through its receiver. */
  private async subscribe(): Promise<void> {
    const { slug } = this.page;
    for (const [i, audience] of (['public', 'A', 'B'] as const).entries()) {
      const key = audience === 'public' ? 'public' : `deployment:dep-${audience.toLowerCase()}`;
      const hook = `${receiver.url}/${slug}/${audience}`;
      const mail = `${slug}-${audience.toLowerCase()}@example.test`;
      const phone = `+1555${String(pageCount).padStart(4, '0')}${i}`;
      const texts = (path: string) => () => receiver.requests.filter((r) => r.path === path).map((r) => r.body);
      const targets: [Listener['channel'], string, () => string[]][] = [
        ['webhook', hook, texts(`/${slug}/${audience}`)],
        ['slack', `${hook}/slack`, texts(`/${slug}/${audience}/slack`)],
        ['teams', `${hook}/teams`, texts(`/${slug}/${audience}/teams`)],
        ['email', mail, () => smtp.mails.filter((m) => m.to.includes(mail)).map(({ mail: m }) => [m.subject, m.text, m.html].join('\n'))],
        ['sms', phone, () => sms.messages.filter((m) => m.to === phone).map((m) => m.body)],
      ];
      for (const [channel, target, read] of targets) {
        await subscribers.createSubscriber(this.ctx, { audience: key, channel, target });
        this.listeners.push({ audience, channel, read, checked: 0 });
      }
      const component = this.followed[audience];
      await subscribers.createSubscriber(this.ctx, { audience: key, channel: 'webhook', target: `${hook}/one`, componentIds: [component] });
      this.listeners.push({ audience, channel: 'webhook', follows: component, read: texts(`/${slug}/${audience}/one`), checked: 0 });
    }
    // A customer per deployment, auto-subscribed to that deployment's groups through email.
    for (const dep of ['A', 'B'] as const) {
      const mail = this.customerEmail(dep);
      await this.addCustomer(dep);
      this.listeners.push({ audience: dep, channel: 'email', customer: dep, read: () => smtp.mails.filter((m) => m.to.includes(mail)).map(({ mail: m }) => [m.subject, m.text, m.html].join('\n')), checked: 0 });
    }
    // Each narrow subscriber's component changes once, so each must hear something in the first check
    // (A's and B's is in their deployment's group: their customers hear of it too).
    for (const id of Object.values(this.followed)) await catalog.setComponentStatus(this.ctx, id, 'degraded_performance');
  }

  customerEmail(dep: Dep): string {
    return `${this.page.slug}-customer-${dep.toLowerCase()}@example.test`;
  }
  async addCustomer(dep: Dep): Promise<void> {
    const marker = this.marker();
    const created = await customers.createCustomer(this.ctx, { deployment: `dep-${dep.toLowerCase()}`, name: `${marker} customer`, email: this.customerEmail(dep) });
    this.model.customers[dep] = { id: created.id, marker };
  }

  async mintAudienceToken(dep: Dep): Promise<string> {
    const secret = newSecret('audience');
    await database.db.insert(audienceTokens).values({ pageId: this.page.id, deploymentId: this.model.deps[dep].id, label: 'model reader', tokenHash: secret.hash, prefix: secret.prefix });
    return secret.value;
  }
  async mintApiToken(): Promise<string> {
    const secret = newSecret('api');
    await database.db.insert(apiTokens).values({ pageId: this.page.id, name: 'model reader', tokenHash: secret.hash, prefix: secret.prefix, scopes: ['admin'] });
    return secret.value;
  }
  async newBToken(): Promise<void> {
    const created = await tokens.createAudienceToken(this.ctx, { deploymentId: this.model.deps.B.id, label: 'streaming customer' });
    this.bToken = { id: created.audienceToken.id, value: created.token };
  }
  async newApiToken(): Promise<void> {
    const created = await tokens.createApiToken(this.ctx, { name: 'streaming tool', scopes: ['read:internal'] });
    this.apiToken = { id: created.apiToken.id, value: created.token };
  }
  async newSession(): Promise<void> {
    const session = await staff.signIn(this.ctx, `model-${pageCount}@example.com`, 'model password 1');
    this.sessionCookie = `statushub_session=${encodeURIComponent(session.token)}`;
  }

  open(transport: 'ws' | 'sse', audience: Audience, credential: Stream['credential']): void {
    const label = `${transport} ${audience} (${credential})`;
    const token = credential === 'audience token' ? this.bToken.value : credential === 'api token' ? this.apiToken.value : undefined;
    const audienceParam = audience === 'A' ? 'deployment:dep-a' : undefined;
    const cookie = credential === 'session' ? this.sessionCookie : undefined;
    const collector =
      transport === 'ws'
        ? subscribeWs(node.wsUrl, {}, { token, audience: audienceParam, params: { page: this.page.slug }, ...(cookie ? { webSocketImpl: cookieSocket(cookie) } : {}) }, label)
        : subscribeSse(node.url, {}, { token, audience: audienceParam, headers: { 'x-statushub-page': this.page.slug, ...(cookie ? { cookie } : {}) } }, label);
    this.streams.push({ collector, audience, credential, transport, checked: 0 });
  }

  /** Streams matching `which` lose their access at `seq`; fresh ones take their place once access is back. */
  revoke(which: (s: Stream) => boolean, seq: number): Stream[] {
    const hit = this.streams.filter((s) => s.revokedAt === undefined && which(s));
    for (const s of hit) s.revokedAt = seq;
    return hit;
  }

  close(): void {
    for (const s of this.streams) s.collector.dispose();
  }

  // ── the rules, stated once more for the model ──

  groupVisible(id: string | null, audience: Audience): boolean {
    if (id === null) return true;
    const g = this.model.groups.get(id)!;
    return audience === 'internal' || (g.visibility === 'public' && (g.dep === null || g.dep === audience));
  }
  componentVisible(id: string, audience: Audience): boolean {
    const c = this.model.components.get(id);
    if (!c) return false;
    return audience === 'internal' || (c.visibility === 'public' && this.groupVisible(c.groupId, audience));
  }
  storyVisible(story: StoryModel, audience: Audience): boolean {
    if (audience === 'internal') return true;
    return story.visibility === 'public' && (story.pageWide || [...story.componentIds].some((id) => this.componentVisible(id, audience)));
  }

  allowed(audience: Audience): Set<string> {
    if (audience === 'internal') return this.model.everWritten;
    const { model } = this;
    const out = new Set<string>();
    if (audience !== 'public') out.add(model.deps[audience].marker);
    for (const [id, g] of model.groups) if (this.groupVisible(id, audience)) out.add(g.marker);
    for (const [id, c] of model.components) if (this.componentVisible(id, audience)) out.add(c.marker);
    for (const stories of [model.incidents, model.maintenances]) {
      for (const story of stories.values()) if (this.storyVisible(story, audience)) story.markers.forEach((m) => out.add(m));
    }
    return out;
  }

  /**
   * What a subscriber of `audience` following only component `id` may hear of (server/notify/message.ts
   * `follows`): that component, and the incidents and maintenances the audience sees that affect it
   * (as the audience sees it) or the whole page, with all they show (their texts, the components they name).
   */
  allowedFollowing(audience: Exclude<Audience, 'internal'>, id: string): Set<string> {
    const out = new Set<string>();
    const followedVisible = this.componentVisible(id, audience);
    if (followedVisible) out.add(this.model.components.get(id)!.marker);
    for (const stories of [this.model.incidents, this.model.maintenances]) {
      for (const story of stories.values()) {
        if (!this.storyVisible(story, audience) || !(story.pageWide || (followedVisible && story.componentIds.has(id)))) continue;
        story.markers.forEach((m) => out.add(m));
        for (const c of story.touched) if (this.componentVisible(c, audience)) out.add(this.model.components.get(c)!.marker);
      }
    }
    return out;
  }

  /** Every marker that exists now: staff must see each. */
  current(): Set<string> {
    const { model } = this;
    const out = new Set<string>([model.deps.A.marker, model.deps.B.marker]);
    for (const customer of Object.values(model.customers)) if (customer) out.add(customer.marker);
    for (const g of model.groups.values()) out.add(g.marker);
    for (const c of model.components.values()) out.add(c.marker);
    for (const stories of [model.incidents, model.maintenances]) {
      for (const story of stories.values()) [...story.markers, ...story.staffOnly].forEach((m) => out.add(m));
    }
    return out;
  }

  pick<T>(map: Map<string, T>, index: number): string | undefined {
    const keys = [...map.keys()];
    return keys.length ? keys[index % keys.length] : undefined;
  }
  pickComponents(indexes: number[]): string[] {
    const keys = [...this.model.components.keys()];
    return keys.length ? [...new Set(indexes.map((i) => keys[i % keys.length]!))] : [];
  }

  // ── the check after every step ──

  async check(step: string): Promise<void> {
    checks++;
    this.tickStatus = !this.tickStatus;
    await catalog.setComponentStatus(this.ctx, this.tickId, this.tickStatus ? 'degraded_performance' : 'operational');
    const tick = await maxSeq(database.db);
    await waitUntil(() => node.node.live.hub.lastSeq >= tick, 5_000, 'hub caught up');

    for (const stream of this.streams) {
      const { collector } = stream;
      if (stream.revokedAt !== undefined) {
        await collector.waitForEnd(5_000);
        const late = collector.events.filter((e) => e.seq >= stream.revokedAt!);
        expect(late, `${step}: ${collector.label} received events after its access was taken away`).toEqual([]);
      } else {
        await collector.waitForSeq(tick, 5_000);
      }
      const fresh = collector.results.slice(stream.checked);
      stream.checked = collector.results.length;
      this.expectOnly(JSON.stringify(fresh), stream.audience, `${step}: ${collector.label}`);
    }
    // The notifier, after the step and its tick: every channel's subscriber hears of the tick (a
    // public component), and of nothing its audience may not see; a narrow one only of what it follows.
    await drain(notifier);
    for (const listener of this.listeners) {
      const all = listener.read();
      const fresh = all.slice(listener.checked);
      listener.checked = all.length;
      const where = `${step}: ${listener.channel}${listener.follows ? ' (one component)' : listener.customer ? ' (a customer)' : ''} as ${listener.audience}`;
      const tick = this.tickIn(listener.channel);
      if (listener.customer) {
        // Removed, it hears nothing; present, only what its audience sees (it follows groups, never the ungrouped tick).
        if (!this.model.customers[listener.customer]) expect(fresh, `${where} heard after the customer was removed`).toEqual([]);
        this.expectOnly(fresh.join('\n'), listener.audience, where);
        if (step === 'initial state') expect(fresh.join('\n'), `${where} heard of its deployment's component`).toContain(this.model.components.get(this.followed[listener.customer])!.marker);
      } else if (listener.follows) {
        expect(fresh.filter((m) => m.includes(this.tickId)), `${where} heard of the tick it does not follow`).toEqual([]);
        this.expectWithin(fresh.join('\n'), this.allowedFollowing(listener.audience, listener.follows), where);
        if (step === 'initial state') expect(fresh.join('\n'), `${where} heard of its component`).toContain(this.model.components.get(listener.follows)!.marker);
      } else {
        expect(fresh.some((m) => m.includes(tick)), `${where} got the tick (${tick})`).toBe(true);
        this.expectOnly(fresh.join('\n'), listener.audience, where);
      }
    }
    expect(sms.refused, 'the fake SMS API refused nothing').toEqual([]);
    // Replace what ended, so every audience is watched through every step.
    for (const stream of this.streams.filter((s) => s.revokedAt !== undefined)) {
      this.streams.splice(this.streams.indexOf(stream), 1);
      stream.collector.dispose();
      if (stream.credential === 'anonymous' && this.model.deps.A.access === 'protected') continue;
      this.open(stream.transport, stream.audience, stream.credential);
    }
    if (this.model.deps.A.access === 'open') {
      for (const transport of ['ws', 'sse'] as const) {
        if (!this.streams.some((s) => s.audience === 'A' && s.transport === transport)) this.open(transport, 'A', 'anonymous');
      }
    }
    await waitUntil(() => node.node.live.hub.subscriberCount() >= this.streams.length, 5_000, 'streams registered');

    for (const audience of ['public', 'A', 'B'] as const) {
      const token = audience === 'public' ? undefined : this.readToken[audience];
      this.expectOnly(await this.readEverything(token), audience, `${step}: queries as ${audience}`);
      // The page query goes through the answer cache (anonymous and audience-token POSTs): read right
      // after the hub caught up it shows this step's tick, twice (the second read is a hit).
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${node.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-statushub-page': this.page.slug, ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query: tickPageQuery }),
        });
        const text = await response.text();
        this.expectOnly(text, audience, `${step}: page query as ${audience}`);
        const page = (JSON.parse(text) as { data?: { summary: { ungroupedComponents: { id: string; status: string }[] } } }).data;
        if (!page) continue; // a revoked or refused token: its refusal, checked by readEverything
        const tick = page.summary.ungroupedComponents.find((c) => c.id === this.tickId);
        expect(tick?.status, `${step}: page query as ${audience} (read ${i + 1}) shows this step's change`).toBe(this.tickStatus ? 'degraded_performance' : 'operational');
      }
      for (const path of ['/history.atom', '/history.rss']) {
        const feed = await fetch(`${node.url}${path}?page=${this.page.slug}${audience === 'public' ? '' : `&access_token=${token}`}`);
        expect(feed.status, `${step}: ${path} as ${audience}`).toBe(200);
        this.expectOnly(await feed.text(), audience, `${step}: ${path} as ${audience}`);
      }
      // The Statuspage-compatible API: the page by header and the token as a Bearer, and once by
      // query parameters the way a signed link carries them.
      for (const endpoint of statuspageEndpoints) {
        const api = await fetch(`${node.url}/api/v2/${endpoint}`, {
          headers: { 'x-statushub-page': this.page.slug, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        });
        expect(api.status, `${step}: /api/v2/${endpoint} as ${audience}`).toBe(200);
        this.expectOnly(await api.text(), audience, `${step}: /api/v2/${endpoint} as ${audience}`);
      }
      const summary = await fetch(`${node.url}/api/v2/summary.json?page=${this.page.slug}${token ? `&access_token=${token}` : ''}`);
      expect(summary.status, `${step}: summary.json by query as ${audience}`).toBe(200);
      this.expectOnly(await summary.text(), audience, `${step}: summary.json by query as ${audience}`);
    }
    const asStaff = new Set((await this.readEverything(this.readToken.internal)).match(markerPattern) ?? []);
    const missing = [...this.current()].filter((m) => !asStaff.has(m));
    expect(missing, `${step}: staff must see every marker that exists`).toEqual([]);
  }

  expectOnly(text: string, audience: Audience, where: string): void {
    this.expectWithin(text, this.allowed(audience), where);
  }
  expectWithin(text: string, allowed: Set<string>, where: string): void {
    const leaked = [...new Set(text.match(markerPattern) ?? [])].filter((m) => !allowed.has(m));
    expect(leaked, `${where} leaked`).toEqual([]);
  }

  /** How each channel tells of this step's tick: the webhook by the component's id, the others in words. */
  tickIn(channel: Listener['channel']): string {
    const [from, to] = this.tickStatus ? ['operational', 'degraded_performance'] : ['degraded_performance', 'operational'];
    if (channel === 'webhook') return this.tickId;
    if (channel === 'email') return `Tick is ${to.replace(/_/g, ' ')}`;
    return `${channel === 'slack' ? '*Tick*' : 'Tick'}: ${statusLabel(from)} → ${statusLabel(to)}`;
  }

  /** Every Query field, widest selection, plus every entity by id. */
  async readEverything(token: string | undefined): Promise<string> {
    const fields = Object.values(schema.getQueryType()!.getFields());
    const parts: string[] = [];
    const body = (type: unknown) => (isObjectType(type) ? `{ ${widestSelection(type as GraphQLObjectType, 5)} }` : '');
    const named = (f: (typeof fields)[number]) => {
      let t = f.type as { ofType?: unknown };
      while (t.ofType) t = t.ofType as { ofType?: unknown };
      return t;
    };
    for (const field of fields) {
      if (field.name === 'previewIncident') continue; // needs an input; covered by tests/api/incident-response.test.ts
      if (field.args.some((a) => a.name === 'id')) continue;
      const args = field.name === 'incidentMetrics' ? '(days: 30)' : field.name === 'incidents' ? '(first: 100)' : field.name === 'checkPublication' ? '(text: "Failover to 10.0.0.7")' : field.name === 'subscriberFollowable' ? '(audience: "public")' : '';
      parts.push(`${field.name}${args} ${body(named(field))}`);
    }
    const byId: [string, Map<string, unknown>][] = [
      ['component', this.model.components],
      ['componentGroup', this.model.groups],
      ['incident', this.model.incidents],
      ['maintenance', this.model.maintenances],
    ];
    for (const [field, map] of byId) {
      const type = named(schema.getQueryType()!.getFields()[field]!);
      [...map.keys()].forEach((id, i) => parts.push(`${field}_${i}: ${field}(id: "${id}") ${body(type)}`));
    }
    const response = await fetch(`${node.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-statushub-page': this.page.slug, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: `{ ${parts.join(' ')} }` }),
    });
    const text = await response.text();
    expect(response.status, text.slice(0, 500)).toBeLessThan(500);
    return text;
  }
}

/** The public page's shape, asked by every audience after every step (through the answer cache). */
const tickPageQuery = `query ModelPage { summary { ungroupedComponents { id name status } groups { name components { id name status } } activeIncidents { title } maintenances { title } } }`;

function cookieSocket(cookie: string) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { cookie } });
    }
  };
}

// ── commands ────────────────────────────────────────────────────────────────

abstract class Step implements fc.AsyncCommand<Model, World> {
  check(_model: Readonly<Model>): boolean {
    return true;
  }
  async run(_model: Model, world: World): Promise<void> {
    operations++;
    await this.apply(world);
    await world.check(this.toString());
  }
  abstract apply(world: World): Promise<void>;
  abstract toString(): string;
}

const visibility = fc.constantFrom<Visibility>('public', 'internal');
const groupChoice = fc.nat(5); // 0: ungrouped; otherwise one of the groups
const componentChoice = fc.array(fc.nat(20), { maxLength: 3 });

class CreateComponent extends Step {
  constructor(readonly group: number, readonly visibility: Visibility) {
    super();
  }
  async apply(world: World) {
    const groupId = this.group === 0 ? null : world.pick(world.model.groups, this.group)!;
    const marker = world.marker();
    const row = await catalog.createComponent(world.ctx, { name: `${marker} component`, description: `${marker} description`, groupId, visibility: this.visibility });
    world.model.components.set(row.id, { groupId, visibility: this.visibility, marker });
  }
  toString() {
    return `createComponent(group #${this.group}, ${this.visibility})`;
  }
}

class UpdateComponent extends Step {
  constructor(readonly target: number, readonly change: 'move' | 'visibility' | 'rename', readonly group: number, readonly visibility: Visibility) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.components.size > 0;
  }
  async apply(world: World) {
    const id = world.pick(world.model.components, this.target)!;
    const c = world.model.components.get(id)!;
    if (this.change === 'move') {
      c.groupId = this.group === 0 ? null : world.pick(world.model.groups, this.group)!;
      await catalog.updateComponent(world.ctx, id, { groupId: c.groupId });
    } else if (this.change === 'visibility') {
      c.visibility = this.visibility;
      await catalog.updateComponent(world.ctx, id, { visibility: this.visibility });
    } else {
      // The old marker is gone from every read but the audit log (staff only).
      c.marker = world.marker();
      await catalog.updateComponent(world.ctx, id, { name: `${c.marker} component`, description: `${c.marker} description` });
    }
  }
  toString() {
    return `updateComponent(#${this.target}, ${this.change}, group #${this.group}, ${this.visibility})`;
  }
}

class DeleteComponent extends Step {
  constructor(readonly target: number) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.components.size > 0;
  }
  async apply(world: World) {
    const id = world.pick(world.model.components, this.target)!;
    await catalog.deleteComponent(world.ctx, id);
    world.model.components.delete(id);
    for (const story of [...world.model.incidents.values(), ...world.model.maintenances.values()]) {
      story.componentIds.delete(id);
      story.touched.delete(id);
    }
  }
  toString() {
    return `deleteComponent(#${this.target})`;
  }
}

class MoveGroup extends Step {
  constructor(readonly target: number, readonly dep: Dep | null, readonly visibility: Visibility) {
    super();
  }
  async apply(world: World) {
    const id = world.pick(world.model.groups, this.target)!;
    const g = world.model.groups.get(id)!;
    await catalog.updateGroup(world.ctx, id, { deploymentId: this.dep ? world.model.deps[this.dep].id : null, visibility: this.visibility });
    Object.assign(g, { dep: this.dep, visibility: this.visibility });
  }
  toString() {
    return `moveGroup(#${this.target}, ${this.dep ?? 'shared'}, ${this.visibility})`;
  }
}

class CreateIncident extends Step {
  constructor(readonly visibility: Visibility, readonly pageWide: boolean | undefined, readonly components: number[], readonly backfill: boolean) {
    super();
  }
  async apply(world: World) {
    const ids = world.pickComponents(this.components);
    const [title, message, note, room] = [world.marker(), world.marker(), world.marker(), world.marker()];
    const affected = ids.map((componentId) => ({ componentId, status: 'major_outage' as const }));
    let row;
    if (this.backfill) {
      const start = new Date(Date.now() - 7 * 86_400_000);
      const end = new Date(start.getTime() + 3_600_000);
      row = await incidents.backfillIncident(world.ctx, {
        title: `${title} incident`,
        visibility: this.visibility,
        pageWide: this.pageWide,
        components: affected,
        warRoomUrl: `https://room.example/${room}`,
        startedAt: start,
        resolvedAt: end,
        updates: [{ status: 'resolved', message: `${message} message`, internalNote: `${note} note`, at: end }],
      });
    } else {
      row = await incidents.createIncident(world.ctx, {
        title: `${title} incident`,
        message: `${message} message`,
        internalNote: `${note} note`,
        warRoomUrl: `https://room.example/${room}`,
        visibility: this.visibility,
        pageWide: this.pageWide,
        components: affected,
      });
    }
    world.model.incidents.set(row.id, {
      visibility: this.visibility,
      pageWide: this.pageWide ?? ids.length === 0,
      componentIds: new Set(ids),
      touched: new Set(ids),
      markers: [title, message],
      staffOnly: [note, room],
      resolved: this.backfill,
    });
  }
  toString() {
    return `${this.backfill ? 'backfill' : 'create'}Incident(${this.visibility}, pageWide ${this.pageWide}, components ${JSON.stringify(this.components)})`;
  }
}

class PostUpdate extends Step {
  constructor(readonly target: number, readonly components: number[] | null, readonly resolve: boolean) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.incidents.size > 0;
  }
  async apply(world: World) {
    const id = world.pick(world.model.incidents, this.target)!;
    const story = world.model.incidents.get(id)!;
    const ids = this.components ? world.pickComponents(this.components) : null;
    const [message, note] = [world.marker(), world.marker()];
    await incidents.postIncidentUpdate(world.ctx, id, {
      status: this.resolve ? 'resolved' : 'identified',
      message: `${message} update`,
      internalNote: `${note} note`,
      components: ids?.map((componentId) => ({ componentId, status: 'partial_outage' as const })),
    });
    story.markers.push(message);
    story.staffOnly.push(note);
    if (ids) story.componentIds = new Set(ids);
    ids?.forEach((c) => story.touched.add(c));
    story.resolved = this.resolve;
  }
  toString() {
    return `postUpdate(#${this.target}, components ${JSON.stringify(this.components)}, ${this.resolve ? 'resolved' : 'identified'})`;
  }
}

class UpdateIncident extends Step {
  constructor(readonly target: number, readonly visibility: Visibility | undefined, readonly pageWide: boolean | undefined) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.incidents.size > 0;
  }
  async apply(world: World) {
    const id = world.pick(world.model.incidents, this.target)!;
    const story = world.model.incidents.get(id)!;
    await incidents.updateIncident(world.ctx, id, { visibility: this.visibility, pageWide: this.pageWide });
    if (this.visibility) story.visibility = this.visibility;
    if (this.pageWide !== undefined) story.pageWide = this.pageWide;
  }
  toString() {
    return `updateIncident(#${this.target}, ${this.visibility ?? '-'}, pageWide ${this.pageWide ?? '-'})`;
  }
}

class DeleteIncident extends Step {
  constructor(readonly target: number) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.incidents.size > 0;
  }
  async apply(world: World) {
    const id = world.pick(world.model.incidents, this.target)!;
    await incidents.deleteIncident(world.ctx, id);
    world.model.incidents.delete(id);
  }
  toString() {
    return `deleteIncident(#${this.target})`;
  }
}

class CreateMaintenance extends Step {
  constructor(readonly visibility: Visibility, readonly pageWide: boolean | undefined, readonly components: number[]) {
    super();
  }
  async apply(world: World) {
    const ids = world.pickComponents(this.components);
    const [title, body] = [world.marker(), world.marker()];
    const start = new Date(Date.now() + 86_400_000);
    const row = await maintenance.createMaintenance(world.ctx, {
      title: `${title} window`,
      body: `${body} body`,
      visibility: this.visibility,
      pageWide: this.pageWide,
      scheduledStart: start,
      scheduledEnd: new Date(start.getTime() + 3_600_000),
      componentIds: ids,
    });
    world.model.maintenances.set(row.id, { visibility: this.visibility, pageWide: this.pageWide ?? ids.length === 0, componentIds: new Set(ids), touched: new Set(ids), markers: [title, body], staffOnly: [], resolved: false });
  }
  toString() {
    return `createMaintenance(${this.visibility}, pageWide ${this.pageWide}, components ${JSON.stringify(this.components)})`;
  }
}

class UpdateMaintenance extends Step {
  constructor(readonly target: number, readonly components: number[] | null, readonly visibility: Visibility | undefined) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.maintenances.size > 0;
  }
  async apply(world: World) {
    const id = world.pick(world.model.maintenances, this.target)!;
    const story = world.model.maintenances.get(id)!;
    const ids = this.components ? world.pickComponents(this.components) : undefined;
    await maintenance.updateMaintenance(world.ctx, id, { componentIds: ids, visibility: this.visibility });
    if (ids) story.componentIds = new Set(ids);
    ids?.forEach((c) => story.touched.add(c));
    if (this.visibility) story.visibility = this.visibility;
  }
  toString() {
    return `updateMaintenance(#${this.target}, components ${JSON.stringify(this.components)}, ${this.visibility ?? '-'})`;
  }
}

class RevokeAudienceToken extends Step {
  async apply(world: World) {
    await tokens.revokeAudienceToken(world.ctx, world.bToken.id);
    world.revoke((s) => s.credential === 'audience token', await maxSeq(database.db));
    await world.newBToken();
  }
  toString() {
    return 'revokeAudienceToken(B)';
  }
}

class RevokeApiToken extends Step {
  async apply(world: World) {
    await tokens.revokeApiToken(world.ctx, world.apiToken.id);
    world.revoke((s) => s.credential === 'api token', await maxSeq(database.db));
    await world.newApiToken();
  }
  toString() {
    return 'revokeApiToken(read:internal)';
  }
}

class DisableUser extends Step {
  async apply(world: World) {
    await staff.updateUser(world.ctx, world.userId, { disabled: true });
    world.revoke((s) => s.credential === 'session', await maxSeq(database.db));
    await staff.updateUser(world.ctx, world.userId, { disabled: false });
    await world.newSession();
  }
  toString() {
    return 'disableUser, then enable and sign in again';
  }
}

class SignOutEverywhere extends Step {
  async apply(world: World) {
    // As the user themself: every session ends, so every stream opened with one must end.
    const asUser: ServiceContext = { ...world.ctx, viewer: { ...world.ctx.viewer, actor: { type: 'user', id: world.userId, name: 'Model staff', email: `model-${pageCount}@example.com`, role: 'viewer' } } };
    await staff.signOutEverywhere(asUser);
    world.revoke((s) => s.credential === 'session', await maxSeq(database.db));
    await world.newSession();
  }
  toString() {
    return 'signOutEverywhere, then sign in again';
  }
}

class SetDeploymentAccess extends Step {
  constructor(readonly access: 'open' | 'protected') {
    super();
  }
  async apply(world: World) {
    const dep = world.model.deps.A;
    await catalog.updateDeployment(world.ctx, dep.id, { access: this.access });
    if (dep.access === 'open' && this.access === 'protected') world.revoke((s) => s.audience === 'A' && s.credential === 'anonymous', await maxSeq(database.db));
    dep.access = this.access;
  }
  toString() {
    return `deployment A → ${this.access}`;
  }
}

/** A deployment's customer is removed (its subscriber stops), or added again (subscribed again at once). */
class ToggleCustomer extends Step {
  constructor(readonly dep: Dep) {
    super();
  }
  async apply(world: World) {
    const customer = world.model.customers[this.dep];
    if (customer) {
      await customers.deleteCustomer(world.ctx, customer.id);
      delete world.model.customers[this.dep];
    } else {
      await world.addCustomer(this.dep);
    }
  }
  toString() {
    return `toggle deployment ${this.dep}'s customer`;
  }
}

const steps = [
  fc.tuple(groupChoice, visibility).map(([g, v]) => new CreateComponent(g, v)),
  fc.tuple(fc.nat(20), fc.constantFrom('move', 'visibility', 'rename') as fc.Arbitrary<'move' | 'visibility' | 'rename'>, groupChoice, visibility).map((a) => new UpdateComponent(...a)),
  fc.nat(20).map((t) => new DeleteComponent(t)),
  fc.tuple(fc.nat(5), fc.constantFrom<Dep | null>(null, 'A', 'B'), visibility).map((a) => new MoveGroup(...a)),
  fc.tuple(visibility, fc.constantFrom(undefined, true, false), componentChoice, fc.boolean()).map((a) => new CreateIncident(...a)),
  fc.tuple(fc.nat(20), fc.option(componentChoice, { nil: null }), fc.boolean()).map((a) => new PostUpdate(...a)),
  fc.tuple(fc.nat(20), fc.option(visibility, { nil: undefined }), fc.option(fc.boolean(), { nil: undefined })).map((a) => new UpdateIncident(...a)),
  fc.nat(20).map((t) => new DeleteIncident(t)),
  fc.tuple(visibility, fc.constantFrom(undefined, true, false), componentChoice).map((a) => new CreateMaintenance(...a)),
  fc.tuple(fc.nat(20), fc.option(componentChoice, { nil: null }), fc.option(visibility, { nil: undefined })).map((a) => new UpdateMaintenance(...a)),
  fc.constant(new RevokeAudienceToken()),
  fc.constant(new RevokeApiToken()),
  fc.constant(new DisableUser()),
  fc.constant(new SignOutEverywhere()),
  fc.constantFrom('open', 'protected').map((a) => new SetDeploymentAccess(a as 'open' | 'protected')),
  fc.constantFrom<Dep>('A', 'B').map((dep) => new ToggleCustomer(dep)),
];

it(
  'no marker reaches an audience that may not see it, across random sequences of changes; staff see every marker',
  async () => {
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
    await fc.assert(
      fc.asyncProperty(fc.commands(steps, { maxCommands: maxSteps, size: 'max' }), async (commands) => {
        const world = await World.create();
        try {
          await world.check('initial state');
          await fc.asyncModelRun(() => ({ model: world.model, real: world }), commands);
        } finally {
          world.close();
        }
      }),
      { numRuns: runs, seed, path: process.env.FC_PATH, endOnFailure: process.env.MODEL_SHRINK !== '1', verbose: 2 },
    );
    console.info(`model-based isolation: ${runs} runs, ${operations} operations, ${checks} checks (every Query field, feed, ${10} streams and ${18} notification subscribers per check)`);
  },
  15 * 60_000,
);
