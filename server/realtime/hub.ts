import { sql } from 'drizzle-orm';
import { execute, GraphQLError, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { audienceKey } from '../auth/audience.js';
import { audienceViewer, type Viewer } from '../auth/viewer.js';
import { createGraphQLContext, type GraphQLContext } from '../context.js';
import type { Db } from '../db/client.js';
import { eventCheckpoints, events } from '../db/tables/index.js';
import type { CommittedEvent } from '../domain/events.js';
import { entityKey, findVisibleEntity, mayHaveSeen, visibleEntityKeys } from '../read/event-visibility.js';
import { committedEventsAfter } from '../read/events.js';
import { readPageStatusOnce } from '../read/summary.js';
import type { AccessWatch } from './access.js';
import type { PreparedDocument } from './documents.js';
import { liveKindOf, resyncEnvelope, type LiveEnvelope, type LiveKind } from './envelope.js';

/**
 * The fan-out engine. Events are read from the event table in sequence order (a NOTIFY, a
 * Redis message or a local commit only wakes it up; the table is the truth). For each event,
 * each audience with subscribers decides once whether it can see the change, builds the payload
 * once per distinct subscription document, serialises it once, and the same string goes to every
 * subscriber of that document.
 */

/** A pre-serialised `ExecutionResult`, shared by every subscriber it is written to. */
export class Frame {
  private encoded?: Buffer;
  private ws?: Map<string, Buffer>;
  private sse?: Buffer;
  private sseChunk?: Buffer;
  constructor(
    readonly seq: number,
    readonly json: string,
  ) {}
  /** The JSON as UTF-8, encoded once for every WebSocket subscriber. */
  bytes(): Buffer {
    return (this.encoded ??= Buffer.from(this.json));
  }
  /**
   * A whole graphql-ws `next` message for one subscription id. Clients mostly reuse the same few
   * ids (one subscription per tab, ids counted from 1), so the message is built once per id and
   * the same bytes go to every socket; a client with its own ids costs one concatenation.
   */
  wsMessage(id: string, prefix: Buffer): Buffer {
    const cached = this.ws?.get(id);
    if (cached) return cached;
    const message = Buffer.concat([prefix, this.bytes(), closeBrace]);
    this.ws ??= new Map();
    if (this.ws.size < 16) this.ws.set(id, message);
    return message;
  }
  /** The Server-Sent Events message, built on first use and then shared. */
  sseBytes(): Buffer {
    return (this.sse ??= Buffer.from(`event: next\ndata: ${this.json}\n\n`));
  }
  /** The same message as one HTTP/1.1 chunk, ready to write to any chunked SSE response. */
  sseChunkBytes(): Buffer {
    return (this.sseChunk ??= httpChunk(this.sseBytes()));
  }
}

const closeBrace = Buffer.from('}');

/** Chunked transfer-encoding framing: `<hex length>\r\n<data>\r\n`. */
export function httpChunk(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
}

/** One open subscription on one transport. */
export interface Subscriber {
  /** Bytes queued in the socket but not yet sent: the slow-consumer signal. */
  buffered(): number;
  write(frame: Frame): void;
  /** Ends the subscription from the server side (too slow for too long, shutdown). */
  close(reason: string): void;
}

export interface SubscribeRequest {
  viewer: Viewer;
  prepared: PreparedDocument;
  variables: Record<string, unknown>;
  /** Resume after this sequence number (the last one the client saw). */
  after: number | null;
  kinds: LiveKind[] | null;
  subscriber: Subscriber;
}

export interface HubOptions {
  db: Db;
  schema: GraphQLSchema;
  logger?: Logger;
  /** How many events back a client may resume; older gaps get a resync signal. */
  replayWindow?: number;
  /** Above this many queued bytes a subscriber is lagging: no more writes until it drains. */
  highWaterBytes?: number;
  /** A subscriber lagging longer than this is closed. */
  maxLagMs?: number;
  /** Safety net: look for missed events this often even without a wake-up. */
  pollMs?: number;
  /** Open streams' credentials, re-checked on events that change access before those are fanned out. */
  access?: AccessWatch;
  /** Every event, in order, before it is fanned out (the answer cache invalidates from here). */
  onEvent?: (row: CommittedEvent) => void;
}

type EventRow = CommittedEvent;

class Group {
  readonly subscribers = new Set<Member>();
  /** Members still being replayed: the group must outlive its other members until they join. */
  joining = 0;
  constructor(
    readonly key: string,
    readonly prepared: PreparedDocument,
    readonly variables: Record<string, unknown>,
    readonly kinds: ReadonlySet<LiveKind> | null,
  ) {}
  accepts(kind: LiveKind): boolean {
    return !this.kinds || this.kinds.has(kind);
  }
}

/** Everyone on one node reading one page as one audience. */
class Channel {
  readonly groups = new Map<string, Group>();
  /** `kind:id` of everything this audience can currently see: decides removals. */
  known = new Set<string>();
  /** The last event processed for this audience: a retried event skips audiences it reached. */
  seq: number;
  private loading: Promise<void> | null = null;
  private loaded = false;
  constructor(
    readonly key: string,
    readonly viewer: Viewer,
    private readonly load: (channel: Channel) => Promise<void>,
    seq: number,
  ) {
    this.seq = seq;
    void this.ready().catch(() => {});
  }
  /** `known`, loaded once; a failed load is tried again on next use rather than kept for good. */
  ready(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    return (this.loading ??= this.load(this).then(
      () => {
        this.loaded = true;
      },
      (error: unknown) => {
        this.loading = null;
        throw error;
      },
    ));
  }
  get size(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.subscribers.size;
    return n;
  }
}

interface Member {
  subscriber: Subscriber;
  group: Group;
  channel: Channel;
  /** Set while it cannot keep up: no frames are written to it. */
  lagSince: number | null;
  /** Drained after lagging: live frames wait until its resync signal is written. */
  resyncing: boolean;
  /** Its `after`, when it joined without replay: the hub had not reached it yet, so skip up to it. */
  after: number | null;
  /** Closed by the hub (too slow): nothing more is written to it. */
  closed: boolean;
}

interface Join {
  request: SubscribeRequest;
  member: Member;
  cancelled: boolean;
  /** Replayed up to here: a replay retried after a failure goes on from it, sending nothing twice. */
  after: number;
}

export interface HubMetrics {
  eventsProcessed: number;
  /** GraphQL executions of live payloads: one per audience-and-document with subscribers, per event. */
  payloadBuilds: number;
  framesWritten: number;
  replayedFrames: number;
  resyncs: number;
  droppedSlowSubscribers: number;
}

export class LiveHub {
  readonly metrics: HubMetrics = {
    eventsProcessed: 0,
    payloadBuilds: 0,
    framesWritten: 0,
    replayedFrames: 0,
    resyncs: 0,
    droppedSlowSubscribers: 0,
  };
  /** The last event every channel has been brought up to. */
  lastSeq = 0;

  private readonly channels = new Map<string, Channel>();
  private readonly joins: Join[] = [];
  private hints: EventRow[] = [];
  /** The last event given to `onEvent` (ahead of lastSeq while joins replay). */
  private announced = 0;
  private announcing = false;
  private announceAgain = false;
  private running = false;
  private again = false;
  private stopped = false;
  private poll?: NodeJS.Timeout;
  private readonly db: Db;
  private readonly schema: GraphQLSchema;
  private readonly replayWindow: number;
  private readonly highWater: number;
  private readonly maxLagMs: number;

  constructor(private readonly options: HubOptions) {
    this.db = options.db;
    this.schema = options.schema;
    this.replayWindow = options.replayWindow ?? 10_000;
    this.highWater = options.highWaterBytes ?? 512 * 1024;
    this.maxLagMs = options.maxLagMs ?? 30_000;
  }

  async start(): Promise<void> {
    const [row] = await this.db.select({ seq: sql<number | null>`max(${events.seq})::int` }).from(events);
    this.lastSeq = row?.seq ?? 0;
    this.announced = this.lastSeq;
    const pollMs = this.options.pollMs ?? 2_000;
    if (pollMs > 0) this.poll = setInterval(() => this.wake(), pollMs).unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
  }

  subscriberCount(): number {
    let n = 0;
    for (const channel of this.channels.values()) n += channel.size;
    return n;
  }

  /**
   * This node committed these events. When they are next in sequence they are processed without
   * reading them back (one round trip less on the hot path); otherwise the table decides.
   */
  committed(rows: CommittedEvent[]): void {
    for (const row of rows) if (row.seq > this.lastSeq) this.hints.push(row);
    this.hints.sort((a, b) => a.seq - b.seq);
    // Announced at once when they continue the announced run; otherwise the announcer reads them.
    for (const row of this.hints) if (row.seq === this.announced + 1) this.announce(row);
    if (this.hints.length && this.hints[this.hints.length - 1]!.seq > this.announced) void this.runAnnouncer();
    this.wakeLoop();
  }

  /**
   * Events reach `onEvent` (the answer cache) from here, apart from the fan-out loop: that loop
   * may be busy for a while (a rush of joins replaying, a slow audience), and a cached answer must
   * not stay stale for as long. One cheap read of what follows the last announced event, per wake.
   */
  private async runAnnouncer(): Promise<void> {
    if (this.announcing) {
      this.announceAgain = true;
      return;
    }
    this.announcing = true;
    try {
      do {
        this.announceAgain = false;
        const rows = await this.eventsAfter(this.announced, 500);
        for (const row of rows) if (row.seq > this.announced) this.announce(row);
        if (rows.length === 500) this.announceAgain = true;
      } while (this.announceAgain && !this.stopped);
    } catch (error) {
      // The fan-out loop announces what it processes: nothing is lost, only later.
      this.options.logger?.warn({ err: error }, 'announcing events failed; the loop will');
    } finally {
      this.announcing = false;
    }
  }

  /** The run of hints that continues exactly from `lastSeq`, if any. */
  private takeHints(): EventRow[] {
    while (this.hints.length && this.hints[0]!.seq <= this.lastSeq) this.hints.shift();
    const run: EventRow[] = [];
    let next = this.lastSeq + 1;
    while (this.hints.length && this.hints[0]!.seq === next) {
      run.push(this.hints.shift()!);
      next++;
    }
    return run;
  }

  /** Something may have been committed: read the event table from where we are. */
  wake(): void {
    if (this.stopped) return;
    if (this.options.onEvent) void this.runAnnouncer();
    this.wakeLoop();
  }

  private wakeLoop(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.run();
  }

  /**
   * Add a subscriber. Without `after` it joins at once; with `after` it first receives what it
   * missed, in order, inside the same sequential loop as live events, so nothing is sent twice
   * or skipped between replay and live delivery. Returns the unsubscribe function.
   */
  subscribe(request: SubscribeRequest): () => void {
    const channel = this.channelFor(request.viewer);
    const group = this.groupFor(channel, request);
    const member: Member = { subscriber: request.subscriber, group, channel, lagSince: null, resyncing: false, after: null, closed: false };
    // A cursor can be ahead of this hub (taken from the table, or on a faster node): skip to it.
    if (request.after !== null && request.after >= this.lastSeq) member.after = request.after;
    // NOTE: only while no event is in flight. During a run, the event after lastSeq may already be
    // fanned out to the groups it found, and a member added now would miss it: such a member joins
    // through the loop (below), which replays from lastSeq as it was now, in order.
    if (!this.running && (request.after === null || request.after >= this.lastSeq)) {
      group.subscribers.add(member);
      return () => this.leave(member);
    }
    const join: Join = { request, member, cancelled: false, after: Math.min(request.after ?? this.lastSeq, this.lastSeq) };
    group.joining++;
    this.joins.push(join);
    this.wake();
    return () => {
      join.cancelled = true;
      this.leave(member);
    };
  }

  /** Idempotent; removes the group and channel only if they are still the registered ones. */
  private leave(member: Member): void {
    const { channel, group } = member;
    group.subscribers.delete(member);
    if (group.subscribers.size === 0 && group.joining === 0 && channel.groups.get(group.key) === group) channel.groups.delete(group.key);
    if (channel.groups.size === 0 && this.channels.get(channel.key) === channel) this.channels.delete(channel.key);
  }

  private channelFor(viewer: Viewer): Channel {
    const key = `${viewer.page.id}|${audienceKey(viewer.audience)}`;
    let channel = this.channels.get(key);
    if (!channel) {
      channel = new Channel(key, audienceViewer(viewer.page, viewer.audience), (c) => this.loadKnown(c), this.lastSeq);
      this.channels.set(key, channel);
    }
    return channel;
  }

  private groupFor(channel: Channel, request: SubscribeRequest): Group {
    const { prepared, variables, kinds } = request;
    // `after` differs per client but does not change the payload: leave it out of the key.
    const { after: _after, ...shared } = variables;
    const key = `${prepared.operation.name?.value ?? ''}|${JSON.stringify(shared)}|${kinds?.join(',') ?? '*'}|${documentId(prepared)}`;
    let group = channel.groups.get(key);
    if (!group) {
      group = new Group(key, prepared, variables, kinds ? new Set(kinds) : null);
      channel.groups.set(key, group);
    }
    return group;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        // The next events are taken first and announced (the answer cache drops what they
        // change) before the joins' replay, which on a rush can take a while. The joins replay up
        // to lastSeq, which these rows have not reached yet; the rows are then fanned out to the
        // groups the joins were added to, so a joining member still gets every event once, in order.
        const hinted = this.takeHints();
        const rows = hinted.length ? hinted : await this.eventsAfter(this.lastSeq, 500);
        for (const row of rows) if (row.seq > this.announced) this.announce(row);
        const joins = this.joins.splice(0);
        if (joins.length) {
          // One batch: subscribers that joined together (a rush) share its reads and frames.
          const batch = new ReplayBatch();
          for (const join of joins) await this.replay(join, batch);
        }
        for (const row of rows) {
          await this.process(row);
          this.lastSeq = row.seq;
          this.metrics.eventsProcessed++;
        }
        if (rows.length === 500 || this.joins.length || hinted.length) this.again = true;
      } while (this.again && !this.stopped);
    } catch (error) {
      this.options.logger?.error({ err: error }, 'live event processing failed; retrying');
      setTimeout(() => this.wake(), 500).unref();
    } finally {
      this.running = false;
    }
  }

  private eventsAfter(after: number, limit: number, upTo?: number, pageId?: string): Promise<EventRow[]> {
    return committedEventsAfter(this.db, after, { limit, upTo, pageId });
  }

  /** Tell `onEvent` (the answer cache) about an event: once each, in order. */
  private announce(row: EventRow): void {
    this.announced = row.seq;
    this.options.onEvent?.(row);
  }

  private async process(row: EventRow): Promise<void> {
    if (row.seq > this.announced) this.announce(row);
    // NOTE: first, so a stream that lost its access gets neither this event nor any later one.
    await this.options.access?.recheck(row);
    const kind = liveKindOf(row.entityType);
    if (!kind) return;
    const channels = [...this.channels.values()].filter((c) => c.viewer.page.id === row.pageId);
    // Settled, not Promise.all: a run retried after a failure must not overlap this one.
    const results = await Promise.allSettled(channels.map((channel) => this.processFor(channel, row, kind)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async processFor(channel: Channel, row: EventRow, kind: LiveKind): Promise<void> {
    if (row.seq <= channel.seq) return;
    await this.fanOut(channel, row, kind);
    channel.seq = row.seq;
  }

  /** Decide once for the audience, build once per document, write the same frame to all. */
  private async fanOut(channel: Channel, row: EventRow, kind: LiveKind): Promise<void> {
    await channel.ready();
    const id = entityKey(kind, row.entityId);
    const context = createGraphQLContext(this.db, channel.viewer);
    // NOTE: started before we know the change is visible, so it overlaps the visibility read
    // instead of following it; live documents almost always ask for the page status.
    readPageStatusOnce(context).catch(() => {});
    if (kind === 'component' && row.groupId) prefetchComponentGroup(context, row.groupId);
    const entity = await this.findVisible(channel.viewer, kind, row.entityId);
    const visible = entity !== undefined;
    const wasVisible = channel.known.has(id);
    if (visible) channel.known.add(id);
    else channel.known.delete(id);
    // NOTE: a change this audience could not see before and cannot see now produces nothing.
    if (!visible && !wasVisible) return;
    const envelope: LiveEnvelope = { seq: row.seq, action: row.action, kind, entityId: row.entityId, removed: !visible, resync: false, entity };
    const groups = [...channel.groups.values()].filter((g) => g.accepts(kind) && g.subscribers.size > 0);
    if (!groups.length) return;
    const frames = await Promise.all(groups.map((group) => this.build(group, envelope, context)));
    groups.forEach((group, i) => {
      for (const member of group.subscribers) this.deliver(member, frames[i]!);
    });
  }

  private async build(group: Group, envelope: LiveEnvelope, contextValue: unknown): Promise<Frame> {
    this.metrics.payloadBuilds++;
    const result = (await execute({
      schema: this.schema,
      document: group.prepared.document,
      operationName: group.prepared.operation.name?.value,
      rootValue: envelope,
      contextValue,
      variableValues: group.variables,
    })) as ExecutionResult;
    return new Frame(envelope.seq, JSON.stringify(maskErrors(result, this.options.logger)));
  }

  /** Bounded buffering: a subscriber that cannot keep up is skipped, then told to resync or closed. */
  private deliver(member: Member, frame: Frame): void {
    const { subscriber } = member;
    if (member.resyncing || member.closed) return;
    if (member.after !== null && frame.seq <= member.after) return;
    const queued = subscriber.buffered();
    if (member.lagSince !== null) {
      if (queued > this.highWater / 4) {
        if (Date.now() - member.lagSince > this.maxLagMs) {
          this.metrics.droppedSlowSubscribers++;
          member.closed = true;
          this.leave(member);
          subscriber.close('too slow');
        }
        return;
      }
      // Drained: it missed frames, so its view must be rebuilt before live frames mean anything.
      member.lagSince = null;
      void this.sendResync(member, frame.seq);
      return;
    }
    if (queued > this.highWater) {
      member.lagSince = Date.now();
      return;
    }
    subscriber.write(frame);
    this.metrics.framesWritten++;
  }

  /** A resync signal in the shape of the subscriber's own document. */
  private async sendResync(member: Member, seq: number): Promise<void> {
    member.resyncing = true;
    try {
      this.metrics.resyncs++;
      const context = createGraphQLContext(this.db, member.channel.viewer);
      member.subscriber.write(await this.build(member.group, resyncEnvelope(seq), context));
    } finally {
      member.resyncing = false;
    }
  }

  /** Bring one subscriber from `after` to `lastSeq`, then let it join live delivery. */
  private async replay(join: Join, batch: ReplayBatch): Promise<void> {
    const { member } = join;
    try {
      if (!join.cancelled) await this.replayGap(join, batch);
    } catch (error) {
      // Tried again with the next run.
      this.joins.unshift(join);
      throw error;
    }
    member.group.joining--;
    if (join.cancelled) this.leave(member);
    else member.group.subscribers.add(member);
  }

  private async replayGap(join: Join, batch: ReplayBatch): Promise<void> {
    const { member } = join;
    const { group, channel } = member;
    const { after } = join;
    const pageId = channel.viewer.page.id;
    await channel.ready();
    const first = await batch.once(`first|${pageId}|${after}`, () => this.eventsAfter(after, 1, undefined, pageId));
    const gapTooOld = this.lastSeq - after > this.replayWindow || ((first[0] === undefined || first[0].seq > after + 1) && (await batch.once(`pruned|${after}`, () => this.pruned(after))));
    if (gapTooOld) {
      await this.sendResync(member, this.lastSeq);
      join.after = this.lastSeq;
    } else {
      // NOTE: up to the channel's own seq when it is ahead: an event whose fan-out reached this
      // channel but failed for another is retried with this channel skipped, so a member joining
      // in between must get it from the replay.
      const upTo = Math.max(this.lastSeq, channel.seq);
      const rows = await batch.once(`rows|${pageId}|${after}|${upTo}`, () => this.eventsAfter(after, this.replayWindow, upTo, pageId));
      const context = batch.once(`context|${channel.key}`, () => createGraphQLContext(this.db, channel.viewer));
      for (const row of rows) {
        const kind = liveKindOf(row.entityType);
        // The client already has everything up to its own cursor (member.after).
        if (!kind || !group.accepts(kind) || (member.after !== null && row.seq <= member.after)) {
          join.after = row.seq;
          continue;
        }
        const entity = await batch.once(`visible|${channel.key}|${kind}|${row.entityId}`, () => this.findVisible(channel.viewer, kind, row.entityId));
        const visible = entity !== undefined;
        if (!visible && !channel.known.has(entityKey(kind, row.entityId))) {
          // It may have been visible when it changed, and is gone now: only a resync is safe to say.
          if (await batch.once(`seen|${channel.key}|${row.seq}`, () => mayHaveSeen(this.db, channel.viewer, kind, row))) {
            await this.sendResync(member, this.lastSeq);
            join.after = this.lastSeq;
            break;
          }
          join.after = row.seq;
          continue;
        }
        const envelope: LiveEnvelope = { seq: row.seq, action: row.action, kind, entityId: row.entityId, removed: !visible, resync: false, entity };
        member.subscriber.write(await batch.once(`frame|${channel.key}|${group.key}|${row.seq}`, () => this.build(group, envelope, context)));
        join.after = row.seq;
        this.metrics.replayedFrames++;
      }
    }
  }

  /** True when events after `after` no longer exist (the table was pruned past it). */
  private async pruned(after: number): Promise<boolean> {
    // pruneEvents() leaves a checkpoint at the last seq it removed (server/db/audit-chain.ts).
    const [row] = await this.db.select({ seq: sql<number | null>`max(${eventCheckpoints.seq})::int` }).from(eventCheckpoints);
    return row?.seq !== null && row?.seq !== undefined && row.seq > after;
  }

  /**
   * The entity as this audience sees it, or undefined when it cannot. The row rides on the
   * envelope, so the payload resolvers do not read it again.
   */
  private findVisible(viewer: Viewer, kind: LiveKind, id: string): Promise<object | undefined> {
    return findVisibleEntity(this.db, viewer, kind, id);
  }

  /** What the audience can see right now, so the first change to hide something is a removal. */
  private async loadKnown(channel: Channel): Promise<void> {
    const known = await visibleEntityKeys(this.db, channel.viewer);
    // Changes processed while loading were already applied to the empty set; keep both.
    for (const id of channel.known) known.add(id);
    channel.known = known;
  }
}

/**
 * A component's group and siblings, which live documents show beside it, read alongside the
 * visibility check. Safe to start early: the loaders are the audience's own.
 */
function prefetchComponentGroup(context: GraphQLContext, groupId: string): void {
  context.loaders.group.load(groupId).catch(() => {});
  context.loaders.componentsByGroup.load(groupId).catch(() => {});
}

const documentIds = new WeakMap<object, number>();
let nextDocumentId = 1;
/** Documents come from the parse cache, so identity identifies the text. */
function documentId(prepared: PreparedDocument): number {
  let id = documentIds.get(prepared.document);
  if (!id) documentIds.set(prepared.document, (id = nextDocumentId++));
  return id;
}

/** As yoga does for HTTP: expected errors keep their message and code, anything else is masked. */
function maskErrors(result: ExecutionResult, logger?: Logger): ExecutionResult {
  if (!result.errors?.length) return result;
  return {
    ...result,
    errors: result.errors.map((error) => {
      const original = error.originalError;
      if (!original || original instanceof GraphQLError) return error;
      logger?.error({ err: original }, 'live payload resolver failed');
      return new GraphQLError('Unexpected error.', { nodes: error.nodes, path: error.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    }),
  };
}

/**
 * What one batch of joins has read and built, by what it depends on: subscribers that join
 * together (everyone opening the page at once during an incident) replay the same events for the
 * same audience, so the events, the visibility answers and the frames are read and built once and
 * written to each. Events are immutable and the batch runs before the loop takes any new event,
 * so a batch-old answer is the state the loop is at; later events are processed after it.
 */
class ReplayBatch {
  private readonly known = new Map<string, unknown>();

  once<T>(key: string, make: () => T): T {
    if (!this.known.has(key)) this.known.set(key, make());
    return this.known.get(key) as T;
  }
}
