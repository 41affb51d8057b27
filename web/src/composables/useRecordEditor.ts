import { nextTick, reactive, ref, type Ref } from 'vue';
import { isEmptyPatch } from '../manage';
import type { MutationOutcome } from './useConsole';

/**
 * The create / edit / delete flow every management screen shares: one form for both, opened on a
 * row or on 'new' with focus moved to its heading; a refusal shown in the form; a line saying what
 * was done; the list refetched after every change.
 */
export function useRecordEditor<Row extends { id: string }, Draft extends object>(options: {
  blank: () => Draft;
  draftOf: (row: Row) => Draft;
  refresh: () => void;
}) {
  const editing = ref(null) as Ref<Row | 'new' | null>;
  const draft = reactive(options.blank()) as Draft;
  const formHeading = ref<HTMLElement | null>(null);
  const formError = ref('');
  /** The last save was refused by the publication guard: the form offers to save anyway (`allowLeakOverride`). */
  const leakRefused = ref(false);
  /** What was last done, for a polite live region. */
  const saved = ref('');
  const deleteNote = ref('');
  /** The id of the row being deleted. */
  const deleting = ref<string | null>(null);

  async function open(target: Row | 'new') {
    editing.value = target;
    Object.assign(draft, target === 'new' ? options.blank() : options.draftOf(target));
    formError.value = '';
    leakRefused.value = false;
    saved.value = '';
    await nextTick();
    formHeading.value?.focus();
  }

  function close() {
    editing.value = null;
    formError.value = '';
    leakRefused.value = false;
  }

  /** Ends a save: a refusal stays in the form; success closes it, says `done` and refetches. */
  async function finish<Data>(send: () => Promise<MutationOutcome<Data>>, done: string): Promise<Data | undefined> {
    formError.value = '';
    const outcome = await send();
    leakRefused.value = outcome.code === 'publication/leak_suspected';
    if (!outcome.data) {
      formError.value = outcome.message;
      return undefined;
    }
    saved.value = done;
    close();
    options.refresh();
    return outcome.data;
  }

  /** An edit sends only its changed fields, and nothing at all when nothing changed. */
  function finishPatch<Patch extends object, Data>(patch: Patch, send: (patch: Patch) => Promise<MutationOutcome<Data>>, done: string) {
    if (isEmptyPatch(patch)) {
      formError.value = 'Nothing changed.';
      return Promise.resolve(undefined);
    }
    return finish(() => send(patch), done);
  }

  /** Deletes `row` (named `name` in messages); true when it is gone. */
  async function destroy<Data>(row: Row, name: string, send: () => Promise<MutationOutcome<Data>>, done: string): Promise<boolean> {
    deleteNote.value = '';
    deleting.value = row.id;
    const outcome = await send().finally(() => (deleting.value = null));
    if (!outcome.data) {
      deleteNote.value = `Could not delete ${name}: ${outcome.message}`;
      return false;
    }
    saved.value = done;
    if (editing.value !== 'new' && editing.value?.id === row.id) close();
    options.refresh();
    return true;
  }

  return { editing, draft, formHeading, formError, leakRefused, saved, deleteNote, deleting, open, close, finish, finishPatch, destroy };
}
