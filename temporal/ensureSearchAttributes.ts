import type { Connection } from '@temporalio/client';

type OperatorConnection = Pick<Connection, 'operatorService'>;

import { SEARCH_ATTRIBUTE_TYPES } from './searchAttributes.js';

export class SearchAttributesMissingError extends Error {
  readonly code = 'SEARCH_ATTRIBUTES_MISSING';
  constructor(
    readonly namespace: string,
    readonly missing: string[],
    cause: unknown,
  ) {
    super(
      `namespace ${namespace} lacks the search attributes ${missing.join(', ')} and they could not be added ` +
        `(${cause instanceof Error ? cause.message : String(cause)}); add them with ` +
        missing
          .map(
            (n) =>
              `\`temporal operator search-attribute create -n ${namespace} --name ${n} --type ${SEARCH_ATTRIBUTE_TYPES[n]}\``,
          )
          .join(', '),
      { cause },
    );
    this.name = 'SearchAttributesMissingError';
  }
}

/**
 * Adds the search attributes Pulp Manager's workflows set, where the namespace lacks them: a
 * workflow that sets an unregistered attribute fails its workflow task, and a child started
 * with one is refused, so an upgrade that forgot to register them would stop every group. Where
 * the server does not let this client add them (Temporal Cloud, a restricted role), the error
 * says which ones to add and how. Returns the names it added.
 */
export async function ensureSearchAttributes(
  connection: OperatorConnection,
  namespace: string,
): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.keys(SEARCH_ATTRIBUTE_TYPES).filter((n) => customAttributes?.[n] === undefined);
  if (missing.length === 0) return [];
  // IndexedValueType: KEYWORD = 2, INT = 3 (temporal.api.enums.v1).
  const searchAttributes = Object.fromEntries(
    missing.map((n) => [n, SEARCH_ATTRIBUTE_TYPES[n] === 'Int' ? 3 : 2]),
  );
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    throw new SearchAttributesMissingError(namespace, missing, err);
  }
  return missing;
}
