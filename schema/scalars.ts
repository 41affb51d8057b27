import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.js';

// Years both PostgreSQL's timestamptz and an ISO-8601 string (4 digits) represent; JS dates reach
// year 275760 and year 0, which the database refuses or stores as something else.
const firstYear = 1;
const lastYear = 9999;

function toDate(value: unknown): Date {
  const date = typeof value === 'string' && value.length <= 64 ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError('DateTime must be an ISO-8601 string', { extensions: { code: 'input/invalid' } });
  }
  const year = date.getUTCFullYear();
  if (year < firstYear || year > lastYear) {
    throw new GraphQLError(`DateTime must be between the years ${firstYear} and ${lastYear}`, { extensions: { code: 'input/invalid' } });
  }
  return date;
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 timestamp in UTC.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: toDate,
  parseLiteral: (ast) => toDate(ast.kind === Kind.STRING ? ast.value : undefined),
});
