import type { Client } from '@urql/core';
import { onScopeDispose, type Ref } from 'vue';
import { PageEventsSubscription } from '../graphql/live';
import { useLiveEvents } from './useLiveEvents';

/** Events arriving within this window cause one refetch, not one each. */
export const REFETCH_DEBOUNCE_MS = 100;

/**
 * Keeps a view live by refetching its snapshot after each burst of events (and on `resync`).
 * For views few people have open (the console, one incident); the status pages patch their
 * summary from the event payload instead (useLiveSummary).
 */
export function useLiveRefresh(client: Client, cursor: Ref<number | undefined>, refetch: () => void, enabled?: Ref<boolean>) {
  const schedule = debounced(refetch, () => REFETCH_DEBOUNCE_MS);
  useLiveEvents(client, PageEventsSubscription, cursor, schedule, enabled, refetch);
}

/** Calls `run` once, `delay()` ms after the first of a burst of calls. */
export function debounced(run: () => void, delay: () => number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  onScopeDispose(() => clearTimeout(timer));
  return () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      run();
    }, delay());
  };
}
