import { z } from 'zod';
import { InvalidInputError, type FieldIssue } from './errors.js';

// NUL (PostgreSQL refuses it in text) and UTF-16 halves without their pair (they would be stored as
// U+FFFD): never part of a status page's text, and refused with a typed error wherever they appear.
const invalidCharacters = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why this string cannot be stored, or null when it can. */
export function invalidTextReason(value: string): string | null {
  const match = invalidCharacters.exec(value);
  if (!match) return null;
  return match[0] === '\u0000' ? 'must not contain a NUL character' : 'must be valid Unicode (an unpaired surrogate)';
}

/** Every string in a value (object keys included) that cannot be stored, with its path. */
export function findInvalidText(value: unknown, path: string, issues: FieldIssue[] = []): FieldIssue[] {
  if (typeof value === 'string') {
    const reason = invalidTextReason(value);
    if (reason) issues.push({ field: path, message: reason });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => findInvalidText(item, `${path}.${i}`, issues));
  } else if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) {
      const reason = invalidTextReason(key);
      if (reason) issues.push({ field: path, message: `keys ${reason}` });
      findInvalidText(item, path ? `${path}.${key}` : key, issues);
    }
  }
  return issues;
}

/** Parse service input with zod; failures become one typed error naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const unstorable = findInvalidText(input, '');
  if (unstorable.length) throw new InvalidInputError(unstorable);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidInputError(
    result.error.issues.map((issue) => ({
      field: issue.path.length ? issue.path.join('.') : 'input',
      message: issue.message,
    })),
  );
}

/** Field sizes shared by every input: a status page is not a document store. */
export const limits = { name: 200, title: 300, description: 2_000, message: 10_000, body: 50_000, url: 2_000 } as const;

export const text = {
  name: z.string().trim().min(1, 'must not be empty').max(limits.name, `must be at most ${limits.name} characters`),
  title: z.string().trim().min(1, 'must not be empty').max(limits.title, `must be at most ${limits.title} characters`),
  description: z.string().max(limits.description, `must be at most ${limits.description} characters`),
  message: z.string().trim().min(1, 'must not be empty').max(limits.message, `must be at most ${limits.message} characters`),
  note: z.string().max(limits.message, `must be at most ${limits.message} characters`),
  body: z.string().max(limits.body, `must be at most ${limits.body} characters`),
  slug: z
    .string()
    .min(1, 'must not be empty')
    .max(63, 'must be at most 63 characters')
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be lowercase letters, digits and dashes'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(limits.url),
};

export const id = z.uuid({ error: 'must be a valid id' });

/** A malformed id names nothing: lookups answer not_found, exactly as for a missing row. */
export function isId(value: string): boolean {
  return id.safeParse(value).success;
}

/** Drop keys whose value is undefined ("leave as is"); nulls are kept (they clear a field). */
export function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * One field list, two parsers: `create` fills defaults for absent fields; `patch` accepts any
 * subset and returns only the fields given, so an update never resets what it did not name.
 */
export function inputSchema<F extends z.ZodRawShape, D extends Partial<z.input<z.ZodObject<F>>>>(fields: F, defaults: D) {
  const full = z.object(fields);
  const partial = full.partial();
  return {
    create: (input: Omit<z.input<typeof full>, keyof D> & Partial<z.input<typeof full>>): z.output<typeof full> =>
      parseInput(full, { ...defaults, ...defined(input as object) }),
    patch: (input: Partial<z.input<typeof full>>): Partial<z.output<typeof full>> => defined(parseInput(partial, input) as object) as never,
  };
}
