import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { printedSchema, printedSchemaPath } from '../../schema/print.js';

it('schema/schema.graphql matches the schema the code builds', () => {
  const committed = readFileSync(printedSchemaPath, 'utf8');
  expect(committed, 'schema/schema.graphql is stale: run `npm run schema:print` and commit the result').toBe(printedSchema());
});
