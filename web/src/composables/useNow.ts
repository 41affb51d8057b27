import { getCurrentScope, onScopeDispose, ref, type Ref } from 'vue';

/** How often the console's clock ticks: often enough that "overdue by 12 min" stays true. */
export const NOW_TICK_MS = 15_000;

/**
 * The current time in milliseconds, ticking every `intervalMs` while the calling component (or
 * effect scope) lives, so relative times and overdue markers change without a reload.
 */
export function useNow(intervalMs = NOW_TICK_MS): Ref<number> {
  const now = ref(Date.now());
  const timer = setInterval(() => {
    now.value = Date.now();
  }, intervalMs);
  if (getCurrentScope()) onScopeDispose(() => clearInterval(timer));
  return now;
}
