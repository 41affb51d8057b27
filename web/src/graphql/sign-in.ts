import { gql, type TypedDocumentNode } from '@urql/core';

export const SignInMutation: TypedDocumentNode<{ signIn: { __typename: string } }, { email: string; password: string }> = gql`
  mutation SignIn($email: String!, $password: String!) {
    signIn(email: $email, password: $password) {
      __typename
    }
  }
`;
