import { createRouter, createWebHistory, type RouteLocationNormalized } from 'vue-router';
import DeploymentPage from './views/DeploymentPage.vue';
import PublicPage from './views/PublicPage.vue';

const single = (value: unknown): string | undefined => (Array.isArray(value) ? value[0] : value) ?? undefined;

export const routes = [
  { path: '/', name: 'public', component: PublicPage },
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
  { path: '/internal', name: 'internal', component: () => import('./views/InternalConsole.vue') },
  { path: '/:path(.*)*', name: 'not-found', component: () => import('./views/NotFoundPage.vue') },
];

export function createHubRouter() {
  return createRouter({ history: createWebHistory(), routes });
}
