import type { Client, OperationContext } from '@urql/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectScope, nextTick, ref } from 'vue';
import { resumable, type ResumeContext } from '../../web/src/client';
import { REFETCH_DEBOUNCE_MS, useLiveRefresh } from '../../web/src/composables/useLiveRefresh';
import { liveUrl } from '../../web/src/live';

/** A client whose one subscription is driven by the test. */
function fakeClient() {
  const state = {
    emit: (_result: { data?: { pageEvents: { seq: number; resync: boolean } }; error?: unknown }) => {},
    variables: undefined as unknown,
    context: undefined as (ResumeContext & Partial<OperationContext>) | undefined,
    subscribed: 0,
    unsubscribed: 0,
  };
  const client = {
    subscription: (_query: unknown, variables: unknown, context: ResumeContext) => {
      state.variables = variables;
      state.context = context;
      return {
        subscribe: (callback: typeof state.emit) => {
          state.subscribed++;
          state.emit = callback;
          return { unsubscribe: () => state.unsubscribed++ };
        },
      };
    },
  } as unknown as Client;
  return { client, state };
}

const event = (seq: number, resync = false) => ({ data: { pageEvents: { seq, resync } } });

describe('useLiveRefresh', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('refetches at once when the server ends the stream (its access was taken away), so the view can ask for a token', async () => {
    const { client, state } = fakeClient();
    const cursor = ref<number | undefined>(7);
    const refetch = vi.fn();
    const scope = effectScope();
    scope.run(() => useLiveRefresh(client, cursor, refetch));
    await nextTick();
    state.emit({ error: new Error('[Network] closed 4403 auth/unauthenticated') });
    expect(refetch).toHaveBeenCalledTimes(1);
    scope.stop();
  });

  it('subscribes after the snapshot cursor and refetches once per burst of events', async () => {
    const { client, state } = fakeClient();
    const cursor = ref<number | undefined>(undefined);
    const refetch = vi.fn();
    const scope = effectScope();
    scope.run(() => useLiveRefresh(client, cursor, refetch));
    expect(state.subscribed).toBe(0);

    cursor.value = 40;
    await nextTick();
    expect(state.subscribed).toBe(1);
    expect(state.variables).toEqual({ after: 40 });

    for (const seq of [41, 42, 43, 44, 45]) state.emit(event(seq));
    expect(refetch).not.toHaveBeenCalled();
    vi.advanceTimersByTime(REFETCH_DEBOUNCE_MS);
    expect(refetch).toHaveBeenCalledTimes(1);
    // A reconnect resumes after the last event seen.
    expect(state.context?.resumeAfter?.()).toBe(45);

    // A refetched snapshot (new cursor) does not open a second subscription.
    cursor.value = 45;
    await nextTick();
    expect(state.subscribed).toBe(1);

    state.emit(event(50, true));
    vi.advanceTimersByTime(REFETCH_DEBOUNCE_MS);
    expect(refetch).toHaveBeenCalledTimes(2);

    scope.stop();
    expect(state.unsubscribed).toBe(1);
  });

  it('waits while disabled (e.g. a deployment token is missing)', async () => {
    const { client, state } = fakeClient();
    const enabled = ref(false);
    const scope = effectScope();
    scope.run(() => useLiveRefresh(client, ref(7), () => {}, enabled));
    expect(state.subscribed).toBe(0);
    enabled.value = true;
    await nextTick();
    expect(state.subscribed).toBe(1);
    scope.stop();
  });
});

describe('resumable payload', () => {
  it('reads `after` each time it is sent, so a resubscription resumes where the view is', () => {
    let last: number | null = 3;
    const payload = resumable({ query: 'subscription { x }', variables: { after: 3 } }, { resumeAfter: () => last } as unknown as OperationContext);
    expect(JSON.parse(JSON.stringify(payload)).variables).toEqual({ after: 3 });
    last = 9;
    expect(JSON.parse(JSON.stringify(payload)).variables).toEqual({ after: 9 });
  });

  it('leaves other operations alone', () => {
    const request = { query: '{ x }', variables: { a: 1 } };
    expect(resumable(request, {} as OperationContext)).toEqual(request);
  });
});

describe('liveUrl', () => {
  it('uses wss on https and ws on http, at /graphql on the same host', () => {
    expect(liveUrl({ protocol: 'https:', host: 'status.example.com' })).toBe('wss://status.example.com/graphql');
    expect(liveUrl({ protocol: 'http:', host: 'localhost:3000' })).toBe('ws://localhost:3000/graphql');
  });
});
