import type { AnyVariables, Client, TypedDocumentNode } from '@urql/core';
import { onScopeDispose, watch, type Ref } from 'vue';
import type { ResumeContext } from '../client';

/**
 * Subscribes a view to `pageEvents(after: cursor)` once its snapshot (taken with `liveCursor`)
 * has arrived, and hands every event to `onEvent`. The last sequence number seen is what the
 * automatic resubscribe after a reconnect resumes after, so missed events replay in order.
 * `onEnded` runs when the server ends the stream (its access was taken away: a revoked token, a
 * deployment made protected); the view refetches, and the answer says what to ask for.
 */
export function useLiveEvents<Event extends { seq: number }>(
  client: Client,
  subscription: TypedDocumentNode<{ pageEvents: Event }, { after?: number | null }>,
  cursor: Ref<number | undefined>,
  onEvent: (event: Event) => void,
  enabled: Ref<boolean> = { value: true } as Ref<boolean>,
  onEnded?: () => void,
) {
  let lastSeq: number | null = null;
  let stop: (() => void) | undefined;

  const start = (after: number) => {
    lastSeq = after;
    const context: ResumeContext = { resumeAfter: () => lastSeq };
    const { unsubscribe } = client.subscription(subscription as TypedDocumentNode<{ pageEvents: Event }, AnyVariables>, { after }, context).subscribe((result) => {
      const event = result.data?.pageEvents;
      if (!event) {
        if (result.error) {
          stop = undefined;
          onEnded?.();
        }
        return;
      }
      // A `resync` carries the current seq: the refetch it triggers covers everything up to it.
      lastSeq = Math.max(lastSeq ?? 0, event.seq);
      onEvent(event);
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

  onScopeDispose(() => stop?.());
}
