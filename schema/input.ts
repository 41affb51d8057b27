/** GraphQL gives `null` for optional input fields sent as null; creates treat that as "use the default". */
export function stripNulls<T extends object>(input: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null)) as never;
}
