import { subscribeSse, subscribeWs, type Collector, type PageEvent, type TestNode } from './live.js';

/** Rate limits off: fault tests write and read as fast as they can from one address. */
export const noRateLimits = {
  rates: {
    anonymousReads: { points: 0, seconds: 60 },
    tokenUse: { points: 0, seconds: 60 },
    writes: { points: 0, seconds: 60 },
    subscriptions: { points: 0, seconds: 60 },
  },
};

/**
 * A live subscriber as a well-behaved client is: whenever its stream ends (error, `complete`,
 * socket closed) it subscribes again with `after` = the last seq it received. Keeps every event
 * it got, in order, and how often it had to reconnect.
 */
export class ResumingSubscriber {
  readonly events: PageEvent[] = [];
  readonly endings: string[] = [];
  private current: Collector;
  private consumed = 0;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  private reopening = false;

  constructor(
    readonly kind: 'ws' | 'sse',
    private readonly target: () => Pick<TestNode, 'url' | 'wsUrl'>,
    private after: number,
  ) {
    this.current = this.open();
    this.timer = setInterval(() => this.tick(), 20);
  }

  get seqs(): number[] {
    return this.events.map((e) => e.seq);
  }
  get reconnects(): number {
    return this.endings.length;
  }

  private open(): Collector {
    const { url, wsUrl } = this.target();
    const request = { variables: { after: this.after } };
    this.consumed = 0;
    return this.kind === 'ws' ? subscribeWs(wsUrl, request, {}, `ws after ${this.after}`) : subscribeSse(url, request, {}, `sse after ${this.after}`);
  }

  private tick(): void {
    const events = this.current.events;
    for (const event of events.slice(this.consumed)) {
      // A resumed stream starts after `after`: anything at or below it would be a duplicate.
      if (event.seq > this.after) {
        this.events.push(event);
        this.after = event.seq;
      } else this.events.push({ ...event, action: `DUPLICATE ${event.action}` });
    }
    this.consumed = events.length;
    const c = this.current;
    if ((c.ended || c.closed) && !this.reopening && !this.stopped) {
      const errors = c.results.flatMap((r) => r.errors ?? []).map((e) => String((e as { extensions?: { code?: string } }).extensions?.code ?? e.message));
      this.endings.push(c.closed ? `closed ${c.closed.code}` : errors.length ? `errors ${errors.join(',')}` : c.error ? `error ${String((c.error as Error)?.message ?? c.error)}` : 'complete');
      this.reopening = true;
      c.dispose();
      setTimeout(() => {
        this.reopening = false;
        if (!this.stopped) this.current = this.open();
      }, 200);
    }
  }

  /** Drop the stream (as a client whose network blips would) and resume after the last seq. */
  bounce(): void {
    this.tick();
    this.current.dispose();
    this.endings.push('bounced');
    this.current = this.open();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.tick();
    this.current.dispose();
  }
}
