import { pgEnum } from 'drizzle-orm/pg-core';
import * as v from '../../domain/vocabulary.js';

export const componentStatusEnum = pgEnum('component_status', v.componentStatuses);
export const incidentStatusEnum = pgEnum('incident_status', v.incidentStatuses);
export const impactEnum = pgEnum('impact', v.impacts);
export const severityEnum = pgEnum('severity', v.severities);
export const visibilityEnum = pgEnum('visibility', v.visibilities);
export const deploymentAccessEnum = pgEnum('deployment_access', v.deploymentAccesses);
export const maintenanceStatusEnum = pgEnum('maintenance_status', v.maintenanceStatuses);
export const incidentRoleEnum = pgEnum('incident_role', v.incidentRoles);
export const staffRoleEnum = pgEnum('staff_role', v.staffRoles);
export const templateKindEnum = pgEnum('template_kind', v.templateKinds);
export const channelKindEnum = pgEnum('channel_kind', v.channelKinds);
export const subscriberStateEnum = pgEnum('subscriber_state', v.subscriberStates);
export const deliveryStatusEnum = pgEnum('delivery_status', v.deliveryStatuses);
export const subscriberAudienceEnum = pgEnum('subscriber_audience', ['public', 'deployment']);
