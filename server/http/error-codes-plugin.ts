import type { Plugin } from 'graphql-yoga';
import { GraphQLError } from 'graphql';

/**
 * graphql-js reports bad variables (wrong enum value, missing required input field) without an
 * error code. Give them `input/invalid` so every client-facing failure carries one of our codes.
 * Such errors have no `path`: they are raised before any field resolves.
 */
export function useInputErrorCodes(): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || !result.errors?.length) return;
          let changed = false;
          const errors = result.errors.map((error) => {
            if (error.path || error.extensions?.code) return error;
            changed = true;
            return new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code: 'input/invalid' } });
          });
          if (changed) setResult({ ...result, errors });
        },
      };
    },
  };
}
