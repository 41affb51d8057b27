import { parse, print, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../schema/index.js';
import * as access from '../../web/src/graphql/manage-access.js';
import * as catalog from '../../web/src/graphql/manage-catalog.js';
import * as maintenance from '../../web/src/graphql/manage-maintenance.js';
import * as templates from '../../web/src/graphql/manage-templates.js';

/** urql builds its own AST objects; print and re-parse them with graphql-js before validating. */
function errorsOf(document: unknown): string[] {
  return validate(schema, parse(print(document as DocumentNode))).map((e) => e.message);
}

const isDocument = (value: unknown): value is DocumentNode => typeof value === 'object' && value !== null && (value as DocumentNode).kind === 'Document';

// Every document the management screens export, found by shape so a new one cannot be forgotten.
const documents = Object.entries({ ...access, ...catalog, ...maintenance, ...templates }).filter(([, value]) => isDocument(value));

describe('console management operations match the schema', () => {
  it('finds every exported document', () => {
    expect(documents.length).toBeGreaterThanOrEqual(30);
  });

  it.each(documents)('%s is a valid operation', (_name, document) => {
    expect(errorsOf(document)).toEqual([]);
  });
});
