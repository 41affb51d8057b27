/**
 * GET /embed.js: a self-contained banner for other sites.
 *
 *   <script src="https://status.example.com/embed.js" data-audience="public" async></script>
 *
 * The script reads the page status and active incidents from its own origin's /graphql (a
 * cross-origin POST without credentials: yoga's CORS allows any origin but never credentials, and
 * the session cookie is SameSite=Lax besides) and renders a small banner in a closed Shadow DOM
 * right after its <script> tag (or inside `data-target="<css selector>"`). Server text only ever
 * reaches the page through textContent. No dependencies, no bundler: plain ES2017.
 */

const query = '{ status { indicator description } activeIncidents { id title impact } page { name } }';

const css = `
:host { all: initial; }
a { display: flex; align-items: center; gap: 8px; box-sizing: border-box; max-width: 100%; padding: 8px 12px;
  border-radius: 6px; border: 1px solid rgba(0,0,0,.12); background: #fff; color: #1f2328; text-decoration: none;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a:hover { text-decoration: underline; }
.icon { flex: none; display: inline-flex; align-items: center; justify-content: center; width: 18px; height: 18px;
  border-radius: 50%; color: #fff; font-size: 12px; font-weight: 700; }
.none .icon { background: #2da44e; } .minor .icon { background: #d4a72c; }
.major .icon { background: #e16f24; } .critical .icon { background: #cf222e; }
.maintenance .icon { background: #0969da; } .unknown .icon { background: #8c959f; }
.text { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.page { font-weight: 600; }
`;

function script(): string {
  return `/* statushub embed: status banner. Server text is set with textContent only. */
(function () {
  'use strict';
  var me = document.currentScript;
  if (!me || !me.src) return;
  var origin = new URL(me.src, location.href).origin;
  var audience = me.getAttribute('data-audience') || 'public';
  var targetSelector = me.getAttribute('data-target');
  var QUERY = ${JSON.stringify(query)};
  var CSS = ${JSON.stringify(css)};
  var ICONS = { none: '\\u2713', minor: '!', major: '!', critical: '\\u2715', maintenance: '\\u2692', unknown: '?' };

  var host = document.createElement('div');
  host.setAttribute('data-statushub-embed', '');
  var target = targetSelector ? document.querySelector(targetSelector) : null;
  if (target) target.appendChild(host);
  else if (me.parentNode) me.parentNode.insertBefore(host, me.nextSibling);
  else return;
  var root = host.attachShadow ? host.attachShadow({ mode: 'closed' }) : host;

  function pagePath() {
    var m = /^deployment:(.+)$/.exec(audience);
    return m ? '/d/' + encodeURIComponent(m[1]) : '/';
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function render(kind, pageName, message, href) {
    while (root.firstChild) root.removeChild(root.firstChild);
    var style = document.createElement('style');
    style.textContent = CSS;
    var link = el('a', kind);
    link.href = origin + href;
    link.target = '_blank';
    link.rel = 'noopener';
    link.setAttribute('aria-live', 'polite');
    link.appendChild(el('span', 'icon', ICONS[kind] || ICONS.unknown)).setAttribute('aria-hidden', 'true');
    var text = el('span', 'text');
    if (pageName) {
      text.appendChild(el('span', 'page', pageName));
      text.appendChild(document.createTextNode(' \\u2014 '));
    }
    text.appendChild(el('span', 'message', message));
    link.appendChild(text);
    root.appendChild(style);
    root.appendChild(link);
  }

  fetch(origin + '/graphql', {
    method: 'POST',
    mode: 'cors',
    credentials: 'omit',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-statushub-audience': audience },
    body: JSON.stringify({ query: QUERY })
  })
    .then(function (response) { return response.json(); })
    .then(function (result) {
      var data = result && result.data;
      if (!data || !data.status) return render('unknown', null, 'Status unavailable', pagePath());
      var name = data.page && data.page.name;
      var incidents = data.activeIncidents || [];
      if (incidents.length) {
        var first = incidents[0];
        var more = incidents.length > 1 ? ' (+' + (incidents.length - 1) + ' more)' : '';
        return render(data.status.indicator, name, String(first.title) + more, '/incidents/' + encodeURIComponent(first.id));
      }
      var kind = data.status.indicator === 'none' && /maintenance/i.test(data.status.description) ? 'maintenance' : data.status.indicator;
      render(kind, name, data.status.description, pagePath());
    })
    .catch(function () { render('unknown', null, 'Status unavailable', pagePath()); });
})();
`;
}

/** Built once: the script depends on nothing but this file. */
export const embedScript = script();

export const embedHeaders = {
  'content-type': 'application/javascript; charset=utf-8',
  'cache-control': 'public, max-age=300',
  'access-control-allow-origin': '*',
  'x-content-type-options': 'nosniff',
};
