import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './enums.js';
import './page.js';
import './deployment.js';
import './component-group.js';
import './component.js';
import './incident.js';
import './incident-response.js';
import './publication.js';
import './template.js';
import './maintenance.js';
import './staff.js';
import './token.js';
import './event.js';
import './live.js';

export const schema = lexicographicSortSchema(builder.toSchema());
