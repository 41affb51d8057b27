/**
 * The web app's client-side routes (web/src/router.ts): only these, and the built files, are
 * answered with index.html; any other path is a 404, not the app's page with 200 (a probe for
 * `/readyz` or `/wp-login.php` must not look like success). Keep in step with the router;
 * tests/hardening/health.test.ts checks both lists against each other.
 */
const pageRoutes: RegExp[] = [/^\/$/, /^\/history\/?$/, /^\/incidents\/[^/]+\/?$/, /^\/d\/[^/]+\/?$/, /^\/internal(\/.*)?$/];

export function isPageRoute(path: string): boolean {
  return pageRoutes.some((route) => route.test(path));
}
