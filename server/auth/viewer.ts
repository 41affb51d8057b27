import type { PageRow } from '../db/tables/index.js';
import type { StaffRole, TokenScope } from '../domain/vocabulary.js';
import type { Audience } from './audience.js';

export type Actor =
  | { type: 'anonymous' }
  | { type: 'user'; id: string; name: string; email: string; role: StaffRole }
  | { type: 'api_token'; id: string; name: string; scopes: TokenScope[] }
  | { type: 'audience_token'; id: string; deploymentId: string }
  | { type: 'system'; name: string };

/** Everything a request is allowed to be: which page, which audience, acting as whom. */
export interface Viewer {
  page: PageRow;
  audience: Audience;
  actor: Actor;
  /** When the credentials it was resolved from expire (session, token); open streams end then. */
  credentialExpiresAt?: Date | null;
}

export type Permission = Exclude<TokenScope, 'admin'> | 'admin';

const rolePermissions: Record<StaffRole, readonly Permission[]> = {
  admin: ['read:internal', 'write:incidents', 'write:components', 'write:maintenance', 'write:templates', 'admin'],
  editor: ['read:internal', 'write:incidents', 'write:components', 'write:maintenance', 'write:templates'],
  viewer: ['read:internal'],
};

/**
 * Reading as an audience alone, never as a particular person: what a live payload (and a
 * notification) is built as, so it shows exactly what every member of that audience may see.
 */
export function audienceViewer(page: PageRow, audience: Audience): Viewer {
  return {
    page,
    audience,
    actor: { type: 'api_token', id: 'live', name: 'live', scopes: audience.kind === 'internal' ? ['read:internal'] : [] },
  };
}

/** The actor start-up work, the maintenance scheduler and the seed run as: recorded as `system` in the event log. */
export function systemViewer(page: PageRow, name = 'system'): Viewer {
  return { page, audience: { kind: 'internal' }, actor: { type: 'system', name } };
}

/** What the actor may do, independent of the audience it reads as. */
export function actorCan(actor: Actor, permission: Permission): boolean {
  switch (actor.type) {
    case 'user':
      return rolePermissions[actor.role].includes(permission);
    case 'api_token':
      return actor.scopes.includes('admin') || actor.scopes.includes(permission);
    case 'system':
      return true;
    default:
      return false;
  }
}

export function can(viewer: Viewer, permission: Permission): boolean {
  return actorCan(viewer.actor, permission);
}

export function isInternal(viewer: Viewer): boolean {
  return viewer.audience.kind === 'internal';
}

/** How the actor is recorded in the event log. */
export function actorRef(actor: Actor): { actorType: string; actorId: string | null; actorName: string } {
  switch (actor.type) {
    case 'user':
      return { actorType: 'user', actorId: actor.id, actorName: actor.name };
    case 'api_token':
      return { actorType: 'api_token', actorId: actor.id, actorName: actor.name };
    case 'audience_token':
      return { actorType: 'audience_token', actorId: actor.id, actorName: 'audience token' };
    case 'system':
      return { actorType: 'system', actorId: null, actorName: actor.name };
    default:
      return { actorType: 'anonymous', actorId: null, actorName: 'anonymous' };
  }
}
