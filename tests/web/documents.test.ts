import { parse, print, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../schema/index.js';
import { PageEventsSubscription, StatusPageEventsSubscription } from '../../web/src/graphql/live.js';
import { CheckPublicationQuery, ConsoleViewerQuery, SignOutMutation } from '../../web/src/graphql/console.js';
import { SignInMutation } from '../../web/src/graphql/sign-in.js';
import { DeploymentSummaryQuery, InternalSummaryQuery, PublicSummaryQuery } from '../../web/src/graphql/summary.js';

/** urql builds its own AST objects; print and re-parse them with graphql-js before validating. */
function errorsOf(document: unknown): string[] {
  return validate(schema, parse(print(document as DocumentNode))).map((e) => e.message);
}

describe('web app operations match the schema', () => {
  it.each([
    ['PublicSummary', PublicSummaryQuery],
    ['DeploymentSummary', DeploymentSummaryQuery],
    ['InternalSummary', InternalSummaryQuery],
    ['PageEvents', PageEventsSubscription],
    ['StatusPageEvents', StatusPageEventsSubscription],
    ['ConsoleViewer', ConsoleViewerQuery],
    ['SignOut', SignOutMutation],
    ['CheckPublication', CheckPublicationQuery],
  ])('%s is a valid operation', (_name, document) => {
    expect(errorsOf(document)).toEqual([]);
  });

  // signIn is being added to the schema separately; validate it as soon as it exists.
  it.skipIf(!schema.getMutationType()?.getFields().signIn)('SignIn is a valid operation', () => {
    expect(errorsOf(SignInMutation)).toEqual([]);
  });
});
