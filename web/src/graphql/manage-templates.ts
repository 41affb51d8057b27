import { gql, type TypedDocumentNode } from '@urql/core';
import type { Impact, IncidentStatus, TemplateKind } from '../../../server/domain/vocabulary';

/** Incident and maintenance wording templates. */

export interface ManagedTemplate {
  id: string;
  name: string;
  kind: TemplateKind;
  title: string;
  body: string;
  status: IncidentStatus | null;
  impact: Impact | null;
  updatedAt: string;
}

export const ManageTemplatesQuery: TypedDocumentNode<{ templates: ManagedTemplate[] }, Record<string, never>> = gql`
  query ManageTemplates {
    templates {
      id
      name
      kind
      title
      body
      status
      impact
      updatedAt
    }
  }
`;

export interface TemplateVars {
  service?: string | null;
  impact?: string | null;
  nextUpdate?: string | null;
}

/** The server's rendering of one saved template, for the preview. */
export const TemplatePreviewQuery: TypedDocumentNode<
  { templates: { id: string; rendered: { title: string; body: string } }[] },
  { kind: TemplateKind; vars: TemplateVars }
> = gql`
  query TemplatePreview($kind: TemplateKind, $vars: TemplateVarsInput!) {
    templates(kind: $kind) {
      id
      rendered(vars: $vars) {
        title
        body
      }
    }
  }
`;

export type UpdateStatusValue = 'investigating' | 'identified' | 'monitoring' | 'resolved';

export interface TemplateInput {
  name: string;
  kind?: TemplateKind;
  title: string;
  body: string;
  status?: UpdateStatusValue | null;
  impact?: Impact | null;
}
export type TemplatePatch = Partial<TemplateInput>;

export const CreateTemplateMutation: TypedDocumentNode<{ createTemplate: { id: string } }, { input: TemplateInput; allowLeakOverride?: boolean }> = gql`
  mutation CreateTemplate($input: TemplateInput!, $allowLeakOverride: Boolean) {
    createTemplate(input: $input, allowLeakOverride: $allowLeakOverride) {
      id
    }
  }
`;

export const UpdateTemplateMutation: TypedDocumentNode<{ updateTemplate: { id: string } }, { id: string; patch: TemplatePatch; allowLeakOverride?: boolean }> = gql`
  mutation UpdateTemplate($id: ID!, $patch: TemplatePatch!, $allowLeakOverride: Boolean) {
    updateTemplate(id: $id, patch: $patch, allowLeakOverride: $allowLeakOverride) {
      id
    }
  }
`;

export const DeleteTemplateMutation: TypedDocumentNode<{ deleteTemplate: string }, { id: string }> = gql`
  mutation DeleteTemplate($id: ID!) {
    deleteTemplate(id: $id)
  }
`;
