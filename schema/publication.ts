import { builder } from './builder.js';
import { can, isInternal } from '../server/auth/viewer.js';
import { invalidInput } from '../server/domain/errors.js';
import { findingKinds, type Finding } from '../server/domain/publication-guard.js';
import { limits } from '../server/domain/validate.js';
import { scanTexts, type PublishOptions } from '../server/services/publication.js';

export const PublicationFindingKindEnum = builder.enumType('PublicationFindingKind', { values: findingKinds });

const PublicationFinding = builder.objectRef<Finding>('PublicationFinding');

PublicationFinding.implement({
  description: 'Something in a text about to go public that looks like a secret or an internal detail.',
  fields: (t) => ({
    kind: t.expose('kind', { type: PublicationFindingKindEnum }),
    match: t.exposeString('match', { description: 'What was found; for a secret only its first characters, never the whole.' }),
    index: t.exposeInt('index', { description: 'Where it starts in the text (UTF-16 code units).' }),
  }),
});

/** The mutations that publish text take this argument; a refusal is `publication/leak_suspected`. */
export const leakOverrideArg = {
  description: 'Publish despite the publication guard (`publication/leak_suspected`: what looks like a secret or an internal detail); recorded in the audit log.',
} as const;

export const publishOptions = (allowLeakOverride: boolean | null | undefined): PublishOptions => ({ allowLeakOverride: allowLeakOverride ?? false });

builder.queryFields((t) => ({
  checkPublication: t.field({
    type: [PublicationFinding],
    description: 'What the publication guard would find in this text if it were published (empty: nothing). Staff and writers only.',
    authScopes: (_, __, ctx) => isInternal(ctx.viewer) || can(ctx.viewer, 'write:incidents') || can(ctx.viewer, 'write:maintenance') || can(ctx.viewer, 'write:templates'),
    args: { text: t.arg.string({ required: true }) },
    resolve: (_, { text }) => {
      if (text.length > limits.body) throw invalidInput('text', `must be at most ${limits.body} characters`);
      return scanTexts([{ field: 'text', text }]);
    },
  }),
}));
