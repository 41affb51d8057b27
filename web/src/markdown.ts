/**
 * Markdown → sanitised HTML, for postmortems. marked does not sanitise, so its output goes
 * through DOMPurify before it reaches `v-html`. Both load on first use: the status pages only
 * pay for them when a postmortem is on screen.
 */
export async function renderMarkdown(source: string): Promise<string> {
  const [{ marked }, { default: DOMPurify }] = await Promise.all([import('marked'), import('dompurify')]);
  const html = marked.parse(source, { async: false, gfm: true, breaks: false });
  const purify = DOMPurify(window);
  // Links in a postmortem lead off the page: never let them reach back through window.opener.
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') node.setAttribute('rel', 'noopener noreferrer nofollow');
  });
  return purify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'] });
}
