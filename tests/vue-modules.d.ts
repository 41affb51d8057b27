// For the root type-check only: tests that import .vue files see them as components. The files
// themselves are checked by vue-tsc (web/tsconfig.json).
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<any, any, any>;
  export default component;
}
