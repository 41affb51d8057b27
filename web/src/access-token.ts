/**
 * Audience tokens of protected deployments, kept for the browser tab only (sessionStorage):
 * closing the tab forgets them.
 */
const keyOf = (deployment: string) => `statushub:access-token:${deployment}`;

function defaultStorage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    // NOTE: some privacy modes throw on access; the token then lives in memory only.
    return null;
  }
}

export function readAccessToken(deployment: string, storage = defaultStorage()): string | null {
  try {
    return storage?.getItem(keyOf(deployment)) || null;
  } catch {
    return null;
  }
}

export function saveAccessToken(deployment: string, token: string, storage = defaultStorage()): void {
  try {
    storage?.setItem(keyOf(deployment), token);
  } catch {
    // Quota or privacy mode: the token still works for this page view.
  }
}

export function forgetAccessToken(deployment: string, storage = defaultStorage()): void {
  try {
    storage?.removeItem(keyOf(deployment));
  } catch {
    // Nothing stored, nothing to forget.
  }
}
