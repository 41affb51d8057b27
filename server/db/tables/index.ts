export * from './enums.js';
export * from './pages.js';
export * from './catalog.js';
export * from './incidents.js';
export * from './maintenance.js';
export * from './templates.js';
export * from './access.js';
export * from './events.js';
