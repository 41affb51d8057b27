import { createRouter, createWebHistory, type RouteLocationNormalized } from 'vue-router';
import DeploymentPage from './views/DeploymentPage.vue';
import PublicPage from './views/PublicPage.vue';

const single = (value: unknown): string | undefined => (Array.isArray(value) ? value[0] : value) ?? undefined;

/** Integer ≥ 1 from a query parameter, else 1. */
const pageNumber = (value: unknown): number => {
  const n = Number(single(value));
  return Number.isInteger(n) && n >= 1 ? n : 1;
};

export const routes = [
  { path: '/', name: 'public', component: PublicPage },
  {
    path: '/history',
    name: 'history',
    component: () => import('./views/HistoryPage.vue'),
    props: (route: RouteLocationNormalized) => ({ page: pageNumber(route.query.page) }),
  },
  {
    path: '/incidents/:id',
    name: 'incident',
    component: () => import('./views/IncidentPage.vue'),
    props: (route: RouteLocationNormalized) => ({ id: String(route.params.id) }),
  },
  {
    path: '/d/:deployment',
    name: 'deployment',
    component: DeploymentPage,
    props: (route: RouteLocationNormalized) => ({
      deployment: String(route.params.deployment),
      linkToken: single(route.query.access_token),
    }),
  },
  // Staff only: loaded on demand so the public pages do not ship its code.
  {
    path: '/internal',
    component: () => import('./views/console/ConsoleLayout.vue'),
    children: [
      { path: '', name: 'console', component: () => import('./views/console/ConsoleOverview.vue') },
      { path: 'incidents', name: 'console-incidents', component: () => import('./views/console/IncidentsConsole.vue') },
      { path: 'incidents/new', name: 'console-declare', component: () => import('./views/console/DeclareIncident.vue') },
      {
        path: 'incidents/:id',
        name: 'console-incident',
        component: () => import('./views/console/IncidentConsole.vue'),
        props: (route: RouteLocationNormalized) => ({ id: String(route.params.id) }),
      },
      { path: 'metrics', name: 'console-metrics', component: () => import('./views/console/ResponseMetrics.vue') },
      { path: 'components', name: 'console-components', component: () => import('./views/console/ManageComponents.vue') },
      { path: 'groups', name: 'console-groups', component: () => import('./views/console/ManageGroups.vue') },
      { path: 'deployments', name: 'console-deployments', component: () => import('./views/console/ManageDeployments.vue') },
      { path: 'maintenance', name: 'console-maintenance', component: () => import('./views/console/ManageMaintenance.vue') },
      { path: 'templates', name: 'console-templates', component: () => import('./views/console/ManageTemplates.vue') },
      { path: 'users', name: 'console-users', component: () => import('./views/console/ManageUsers.vue') },
      { path: 'tokens', name: 'console-tokens', component: () => import('./views/console/ManageTokens.vue') },
      { path: 'subscribers', name: 'console-subscribers', component: () => import('./views/console/ManageSubscribers.vue') },
      { path: 'audit', name: 'console-audit', component: () => import('./views/console/AuditLog.vue') },
    ],
  },
  { path: '/:path(.*)*', name: 'not-found', component: () => import('./views/NotFoundPage.vue') },
];

export function createHubRouter() {
  return createRouter({ history: createWebHistory(), routes });
}

/**
 * What a view's client and cache belong to: the console keeps one (its layout holds the
 * `internal` client and subscription) across its sections; every other page gets a fresh one.
 */
export function viewKey(route: Pick<RouteLocationNormalized, 'path' | 'query'>): string {
  if (route.path === '/internal' || route.path.startsWith('/internal/')) return '/internal';
  // An incident page reads as the deployment in `?deployment=`: another audience, another view.
  if (route.path.startsWith('/incidents/')) return `${route.path}?deployment=${single(route.query.deployment) ?? ''}`;
  return route.path;
}
