import { watchEffect, type MaybeRefOrGetter, toValue } from 'vue';

/** Keeps `document.title` in step with what the view shows. */
export function usePageTitle(title: MaybeRefOrGetter<string | undefined>): void {
  watchEffect(() => {
    const value = toValue(title);
    if (value) document.title = value;
  });
}
