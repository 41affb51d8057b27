// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../web/src/markdown';

describe('renderMarkdown', () => {
  it('renders headings, lists, code and tables', async () => {
    const html = await renderMarkdown('## Root cause\n\n- a config typo\n- `retry` storm\n\n| a | b |\n|---|---|\n| 1 | 2 |\n');
    expect(html).toContain('<h2>Root cause</h2>');
    expect(html).toContain('<li>a config typo</li>');
    expect(html).toContain('<code>retry</code>');
    expect(html).toContain('<td>2</td>');
  });

  it('strips scripts, event handlers and javascript: links', async () => {
    const html = await renderMarkdown(
      '<script>alert(1)</script>\n\n<img src="x" onerror="alert(2)">\n\n[click](javascript:alert(3))\n\n<iframe src="https://evil.example"></iframe>',
    );
    expect(html).not.toMatch(/<script|onerror|javascript:|<iframe/i);
  });

  it('keeps links but cuts them off from window.opener', async () => {
    const html = await renderMarkdown('[runbook](https://example.com/runbook)');
    expect(html).toContain('href="https://example.com/runbook"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
  });
});
