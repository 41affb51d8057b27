import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from './index.js';

/** `npm run schema:print` writes schema/schema.graphql; a test fails when it is stale. */
export const printedSchemaPath = fileURLToPath(new URL('./schema.graphql', import.meta.url));
export const printedSchema = () => printSchema(schema) + '\n';

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(printedSchemaPath, printedSchema());
  console.log(`wrote ${printedSchemaPath}`);
}
