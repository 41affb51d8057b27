import type { Client } from '@urql/core';
import { computed, shallowRef, watch, type Ref } from 'vue';
import { StatusPageEventsSubscription, type StatusPageEvent } from '../graphql/live';
import type { StatusPageSummary } from '../graphql/summary';
import { applyPageEvent } from '../live-patch';
import { useLiveEvents } from './useLiveEvents';
import { debounced, REFETCH_DEBOUNCE_MS } from './useLiveRefresh';

/** A refetch the payload could not spare is spread over this window, so viewers do not ask at once. */
export const REFETCH_SPREAD_MS = 1_000;

/** Events kept to replay onto a refetched snapshot that may predate them. */
const REPLAY_LIMIT = 200;

/**
 * A status page's summary, kept live from the event payloads (see applyPageEvent). Only an event
 * the payload cannot describe (something appearing, leaving or moving; a resync) costs a refetch,
 * debounced and spread out in time. When a snapshot arrives, the events after its cursor are
 * applied again on top, so a patch is never lost to an older snapshot.
 */
export function useLiveSummary(
  client: Client,
  snapshot: Ref<{ summary: StatusPageSummary; liveCursor: number } | undefined>,
  refetch: () => void,
  enabled?: Ref<boolean>,
) {
  const summary = shallowRef<StatusPageSummary>();
  let recent: StatusPageEvent[] = [];
  const scheduleRefetch = debounced(refetch, () => REFETCH_DEBOUNCE_MS + Math.random() * REFETCH_SPREAD_MS);

  watch(
    snapshot,
    (value) => {
      if (!value) return (summary.value = undefined);
      recent = recent.filter((e) => e.seq > value.liveCursor);
      let next = value.summary;
      let unpatchable = false;
      for (const event of recent) {
        const patched = applyPageEvent(next, event);
        if (patched) next = patched;
        else unpatchable = true;
      }
      summary.value = next;
      if (unpatchable) scheduleRefetch();
    },
    { immediate: true },
  );

  useLiveEvents(
    client,
    StatusPageEventsSubscription,
    computed(() => snapshot.value?.liveCursor),
    (event) => {
      if (!event.resync) recent = [...recent.slice(-(REPLAY_LIMIT - 1)), event];
      const patched = summary.value && applyPageEvent(summary.value, event);
      if (patched) summary.value = patched;
      else scheduleRefetch();
    },
    enabled,
    refetch,
  );

  return summary;
}
