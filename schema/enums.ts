import * as v from '../server/domain/vocabulary.js';
import { builder } from './builder.js';

/** GraphQL enums, generated from the shared vocabulary so no list is written twice. */

export const ComponentStatusEnum = builder.enumType('ComponentStatus', { values: v.componentStatuses });
export const IncidentStatusEnum = builder.enumType('IncidentStatus', { values: v.incidentStatuses });
export const UpdateStatusEnum = builder.enumType('UpdateStatus', {
  description: 'Statuses an incident update may carry (postmortem is reached by publishing one).',
  values: v.updateStatuses,
});
export const ImpactEnum = builder.enumType('Impact', { values: v.impacts });
export const SeverityEnum = builder.enumType('Severity', { values: v.severities });
export const VisibilityEnum = builder.enumType('Visibility', { values: v.visibilities });
export const DeploymentAccessEnum = builder.enumType('DeploymentAccess', { values: v.deploymentAccesses });
export const MaintenanceStatusEnum = builder.enumType('MaintenanceStatus', { values: v.maintenanceStatuses });
export const IncidentRoleEnum = builder.enumType('IncidentRole', { values: v.incidentRoles });
export const StaffRoleEnum = builder.enumType('StaffRole', { values: v.staffRoles });
export const TemplateKindEnum = builder.enumType('TemplateKind', { values: v.templateKinds });
export const TokenScopeEnum = builder.enumType('TokenScope', {
  description: 'API token scopes; `admin` implies all others. Values map to `read:internal`, `write:incidents`, …',
  values: Object.fromEntries(v.tokenScopes.map((scope) => [scope.replace(':', '_'), { value: scope }])) as Record<
    string,
    { value: v.TokenScope }
  >,
});
export const ChannelKindEnum = builder.enumType('ChannelKind', { values: v.channelKinds });
export const SubscriberStateEnum = builder.enumType('SubscriberState', { values: v.subscriberStates });
export const DeliveryStatusEnum = builder.enumType('DeliveryStatus', { values: v.deliveryStatuses });
