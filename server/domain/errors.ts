import { GraphQLError } from 'graphql';

/**
 * Every expected failure carries one of these `domain/reason` codes in `extensions.code`;
 * the web client switches on them. Anything else is a bug and is masked by yoga.
 */
export const errorCodes = [
  'input/invalid',
  'auth/unauthenticated',
  'auth/forbidden',
  'auth/invalid_credentials',
  'auth/audience_token_required',
  'auth/csrf_header_required',
  'page/not_found',
  'deployment/not_found',
  'deployment/slug_taken',
  'deployment/has_groups',
  'group/not_found',
  'group/has_components',
  'component/not_found',
  'incident/not_found',
  'incident/already_resolved',
  'incident/not_resolved',
  'maintenance/not_found',
  'maintenance/not_editable',
  'template/not_found',
  'template/name_taken',
  'user/not_found',
  'user/email_taken',
  'user/last_admin',
  'token/not_found',
  'subscriber/not_found',
  'customer/not_found',
  'customer/email_taken',
  'publication/leak_suspected',
  'input/too_complex',
  'input/too_large',
  'auth/introspection_disabled',
  'rate/limited',
  'rate/too_many_subscriptions',
  'rate/too_many_streams',
  'live/restarting',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export class DomainError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
}

/**
 * The same answer for a row that does not exist and for one the viewer may not see,
 * so an id from another audience or page reveals nothing.
 */
export function notFound(entity: 'deployment' | 'group' | 'component' | 'incident' | 'maintenance' | 'template' | 'user' | 'token' | 'subscriber' | 'customer'): DomainError {
  const label = entity === 'group' ? 'Component group' : entity[0]!.toUpperCase() + entity.slice(1);
  return new DomainError(`${entity}/not_found`, `${label} not found`);
}

export function forbidden(message = 'Not authorised'): DomainError {
  return new DomainError('auth/forbidden', message);
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** Bad input: names every offending field, changes nothing. */
export class InvalidInputError extends DomainError {
  constructor(readonly issues: FieldIssue[]) {
    const first = issues[0];
    const summary = first ? `Invalid value for ${first.field}: ${first.message}` : 'Invalid input';
    super('input/invalid', issues.length > 1 ? `${summary} (and ${issues.length - 1} more)` : summary, {
      field: first?.field,
      issues,
    });
  }
}

export function invalidInput(field: string, message: string): InvalidInputError {
  return new InvalidInputError([{ field, message }]);
}
