import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { InvalidInputError, type FieldIssue } from '../domain/errors.js';
import { findInvalidText, invalidTextReason } from '../domain/validate.js';

/**
 * Every string argument of every field, whether written in the document or passed as a variable,
 * is checked before execution: a NUL or an unpaired surrogate answers `input/invalid` naming the
 * argument (`input.title`), for arguments that go through zod and for those that do not (ids,
 * filters). Without it, PostgreSQL would refuse the NUL mid-request and the caller would get
 * yoga's masked "Unexpected error.".
 */
export function useInputTextCheck(): Plugin {
  const check = ({ args, setResultAndStopExecution }: { args: { document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null }; setResultAndStopExecution: (result: never) => void }) => {
    const issues = invalidArguments(args.document, args.operationName ?? null, args.variableValues ?? {});
    if (issues.length) setResultAndStopExecution({ errors: [new InvalidInputError(issues)] } as never);
  };
  return { onExecute: check, onSubscribe: check };
}

export function invalidArguments(document: DocumentNode, operationName: string | null, variables: Record<string, unknown>): FieldIssue[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const operation = document.definitions.find((def) => def.kind === Kind.OPERATION_DEFINITION && (!operationName || def.name?.value === operationName));
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return [];
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();

  const value = (node: ValueNode, path: string): void => {
    if (node.kind === Kind.STRING) {
      const reason = invalidTextReason(node.value);
      if (reason) issues.push({ field: path, message: reason });
    } else if (node.kind === Kind.VARIABLE) {
      findInvalidText(variables[node.name.value], path, issues);
    } else if (node.kind === Kind.LIST) {
      node.values.forEach((item, i) => value(item, `${path}.${i}`));
    } else if (node.kind === Kind.OBJECT) {
      for (const field of node.fields) value(field.value, `${path}.${field.name.value}`);
    }
  };
  const selections = (set: SelectionSetNode | undefined): void => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        for (const arg of selection.arguments ?? []) value(arg.value, arg.name.value);
        selections(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        selections(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        selections(fragments.get(selection.name.value)?.selectionSet);
      }
    }
  };
  selections(operation.selectionSet);
  return issues;
}
