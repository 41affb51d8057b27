import type { CombinedError } from '@urql/core';
import type { ErrorCode } from '../../server/domain/errors';

export type { ErrorCode };

// Our codes are `domain/reason`; yoga's own (GRAPHQL_VALIDATION_FAILED …) are not meant for people.
const domainCode = /^[a-z]+\/[a-z_]+$/;

/** The server's `domain/reason` code of the first GraphQL error that has one. */
export function errorCodeOf(error: CombinedError | undefined | null): ErrorCode | undefined {
  for (const e of error?.graphQLErrors ?? []) {
    const code = e.extensions?.code;
    if (typeof code === 'string' && domainCode.test(code)) return code as ErrorCode;
  }
  return undefined;
}

/** What to tell a person; falls back to a generic sentence rather than showing internals. */
export function errorMessageOf(error: CombinedError | undefined | null): string {
  if (!error) return '';
  if (error.networkError) return 'The status server could not be reached. Check your connection and try again.';
  const expected = error.graphQLErrors.find((e) => typeof e.extensions?.code === 'string' && domainCode.test(e.extensions.code));
  if (expected) return expected.message;
  return 'Something went wrong while loading the status. Please try again.';
}
