import { gql, type TypedDocumentNode } from '@urql/core';

/** A deployment's customers and bulk subscribing (CSV import, "every customer at once"): admin only. */

export interface Customer {
  id: string;
  name: string;
  email: string;
  createdAt: string;
}

export const DeploymentCustomersQuery: TypedDocumentNode<
  { customers: Customer[]; deployments: { id: string; autoSubscribeCustomers: boolean | null }[] },
  { deployment: string }
> = gql`
  query DeploymentCustomers($deployment: String!) {
    customers(deployment: $deployment) {
      id
      name
      email
      createdAt
    }
    deployments {
      id
      autoSubscribeCustomers
    }
  }
`;

export interface CustomerInput {
  deployment: string;
  name: string;
  email: string;
}

export const CreateCustomerMutation: TypedDocumentNode<{ createCustomer: Customer }, { input: CustomerInput }> = gql`
  mutation CreateCustomer($input: CustomerInput!) {
    createCustomer(input: $input) {
      id
      name
      email
      createdAt
    }
  }
`;

export const DeleteCustomerMutation: TypedDocumentNode<{ deleteCustomer: string }, { id: string }> = gql`
  mutation DeleteCustomer($id: ID!) {
    deleteCustomer(id: $id)
  }
`;

export const SubscribeDeploymentCustomersMutation: TypedDocumentNode<
  { subscribeDeploymentCustomers: { created: number; alreadySubscribed: number } },
  { deployment: string }
> = gql`
  mutation SubscribeDeploymentCustomers($deployment: String!) {
    subscribeDeploymentCustomers(deployment: $deployment) {
      created
      alreadySubscribed
    }
  }
`;

export const SetAutoSubscribeMutation: TypedDocumentNode<
  { updateDeployment: { id: string; autoSubscribeCustomers: boolean | null } },
  { id: string; autoSubscribeCustomers: boolean }
> = gql`
  mutation SetAutoSubscribeCustomers($id: ID!, $autoSubscribeCustomers: Boolean!) {
    updateDeployment(id: $id, patch: { autoSubscribeCustomers: $autoSubscribeCustomers }) {
      id
      autoSubscribeCustomers
    }
  }
`;

export interface SubscriberImportResult {
  created: number;
  skipped: number;
  errors: { line: number; field: string; message: string }[];
}

export const ImportSubscribersMutation: TypedDocumentNode<
  { importSubscribers: SubscriberImportResult },
  { audience: string; csv: string; dryRun: boolean }
> = gql`
  mutation ImportSubscribers($audience: String!, $csv: String!, $dryRun: Boolean!) {
    importSubscribers(audience: $audience, csv: $csv, dryRun: $dryRun) {
      created
      skipped
      errors {
        line
        field
        message
      }
    }
  }
`;
