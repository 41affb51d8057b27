import type { Client } from '@urql/core';
import { onScopeDispose, watch, type Ref } from 'vue';
import type { ResumeContext } from '../client';
import { PageEventsSubscription } from '../graphql/live';

/** Events arriving within this window cause one refetch, not one each. */
export const REFETCH_DEBOUNCE_MS = 100;

/**
 * Keeps a view's summary live: once the snapshot (with its `liveCursor`) has arrived, subscribes
 * to `pageEvents(after: cursor)` and refetches the snapshot after each burst of events (and on
 * `resync`). The last sequence number seen is what a reconnect resumes after.
 */
export function useLiveRefresh(client: Client, cursor: Ref<number | undefined>, refetch: () => void, enabled: Ref<boolean> = { value: true } as Ref<boolean>) {
  let lastSeq: number | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stop: (() => void) | undefined;

  const schedule = () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      refetch();
    }, REFETCH_DEBOUNCE_MS);
  };

  const start = (after: number) => {
    lastSeq = after;
    const context: ResumeContext = { resumeAfter: () => lastSeq };
    const { unsubscribe } = client.subscription(PageEventsSubscription, { after }, context).subscribe((result) => {
      const event = result.data?.pageEvents;
      if (!event) return;
      // A `resync` carries the current seq: the refetch it triggers covers everything up to it.
      lastSeq = Math.max(lastSeq ?? 0, event.seq);
      schedule();
    });
    stop = unsubscribe;
  };

  watch(
    () => (enabled.value ? cursor.value : undefined),
    (value) => {
      if (value === undefined) {
        stop?.();
        stop = undefined;
        lastSeq = null;
      } else if (!stop) {
        start(value);
      }
    },
    { immediate: true },
  );

  onScopeDispose(() => {
    stop?.();
    clearTimeout(timer);
  });
}
