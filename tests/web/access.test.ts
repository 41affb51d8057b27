import { describe, expect, it } from 'vitest';
import { forgetAccessToken, readAccessToken, saveAccessToken } from '../../web/src/access-token.js';
import { requestHeaders } from '../../web/src/client.js';

class MemoryStorage implements Storage {
  #items = new Map<string, string>();
  get length() {
    return this.#items.size;
  }
  clear() {
    this.#items.clear();
  }
  getItem(key: string) {
    return this.#items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.#items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.#items.delete(key);
  }
  setItem(key: string, value: string) {
    this.#items.set(key, value);
  }
}

describe('request headers', () => {
  it('sends the audience and, once entered, the token as a bearer credential', () => {
    let token: string | null = null;
    const options = { audience: 'deployment:eu-1', token: () => token };
    expect(requestHeaders(options)).toEqual({ 'x-statushub-audience': 'deployment:eu-1' });
    token = 'sha_secret';
    expect(requestHeaders(options)).toEqual({ 'x-statushub-audience': 'deployment:eu-1', authorization: 'Bearer sha_secret' });
  });

  it('sends no audience when none is asked for (sign-in)', () => {
    expect(requestHeaders({})).toEqual({});
  });
});

describe('access tokens in session storage', () => {
  it('remembers a token per deployment and forgets it on request', () => {
    const storage = new MemoryStorage();
    expect(readAccessToken('ap-1', storage)).toBeNull();
    saveAccessToken('ap-1', 'sha_one', storage);
    expect(readAccessToken('ap-1', storage)).toBe('sha_one');
    expect(readAccessToken('eu-1', storage)).toBeNull();
    forgetAccessToken('ap-1', storage);
    expect(readAccessToken('ap-1', storage)).toBeNull();
  });

  it('works without storage (privacy mode) instead of throwing', () => {
    const broken = new MemoryStorage();
    broken.setItem = () => {
      throw new Error('QuotaExceededError');
    };
    expect(() => saveAccessToken('ap-1', 'sha_one', broken)).not.toThrow();
    expect(readAccessToken('ap-1', null)).toBeNull();
  });
});
