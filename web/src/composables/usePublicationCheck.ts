import { onBeforeUnmount, ref, watch } from 'vue';
import type { MutationOutcome } from './useConsole';
import { useConsoleContext } from './useConsole';
import { CheckPublicationQuery, type PublicationFinding } from '../graphql/console';

/**
 * The publication guard as the console applies it: what `Query.checkPublication` finds in each
 * field that will go public, asked 400 ms after typing stops (each distinct text once), so the
 * warning shows next to the field before anything is sent. `active` false (an internal item):
 * nothing is checked and nothing shown.
 */
export function usePublicationCheck(fields: () => Record<string, string>, active: () => boolean = () => true) {
  const { client } = useConsoleContext();
  const findings = ref<Record<string, PublicationFinding[]>>({});
  const known = new Map<string, PublicationFinding[]>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let run = 0;

  async function check(texts: Record<string, string>, mine: number) {
    const entries = await Promise.all(
      Object.entries(texts).map(async ([field, text]): Promise<[string, PublicationFinding[]]> => {
        if (!text.trim()) return [field, []];
        let found = known.get(text);
        if (!found) {
          const result = await client.query(CheckPublicationQuery, { text }, { requestPolicy: 'network-only' }).toPromise();
          // A server without the guard, or a refusal: no warning rather than a wrong one.
          found = result.data?.checkPublication ?? [];
          if (result.data) known.set(text, found);
          if (known.size > 50) known.delete(known.keys().next().value!);
        }
        return [field, found];
      }),
    );
    if (mine === run) findings.value = Object.fromEntries(entries);
  }

  watch(
    () => (active() ? JSON.stringify(fields()) : ''),
    (key) => {
      clearTimeout(timer);
      const mine = ++run;
      if (!key) {
        findings.value = {};
        return;
      }
      const texts = fields();
      timer = setTimeout(() => void check(texts, mine), 400);
    },
    { immediate: true },
  );
  onBeforeUnmount(() => clearTimeout(timer));
  return findings;
}

/** The server refused because of the guard: the form offers "Publish anyway", which resends with `allowLeakOverride`. */
export function isLeakRefusal(outcome: MutationOutcome<unknown>): boolean {
  return outcome.code === 'publication/leak_suspected';
}
