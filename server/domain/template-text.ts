/**
 * Template wording: pure, so the server (declaring from a template) and the console (previewing
 * a draft while it is typed) fill placeholders by the same rule.
 */

/** Values for a template's placeholders; the keys are the placeholder names. */
export interface TemplateVars {
  service?: string | null;
  impact?: string | null;
  next_update?: string | null;
}

export const templatePlaceholders = ['service', 'impact', 'next_update'] as const;

/**
 * Fill `{service}`, `{impact}` and `{next_update}`. Unknown placeholders, and known ones without a
 * value, are left as written so the author sees what still needs filling in.
 */
export function renderTemplate(source: string, vars: TemplateVars): string {
  return source.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    const value = (templatePlaceholders as readonly string[]).includes(name) ? vars[name as keyof TemplateVars] : undefined;
    return value == null || value === '' ? whole : value;
  });
}
