import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSearchAttributes } from '../../temporal/ensureSearchAttributes.js';
import { SEARCH_ATTRIBUTE_TYPES, SEARCH_ATTRIBUTES } from '../../temporal/searchAttributes.js';
import { stack } from '../support/stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const declared = Object.entries(SEARCH_ATTRIBUTE_TYPES)
  .map(([name, type]) => `${name}=${type}`)
  .sort();

describe('search attributes: one list, registered everywhere', () => {
  it('the typed keys and the registration list name the same attributes', () => {
    expect(
      Object.values(SEARCH_ATTRIBUTES)
        .map((k) => k.name)
        .sort(),
    ).toEqual(Object.keys(SEARCH_ATTRIBUTE_TYPES).sort());
  });

  it('dev/temporal.sh and the compose namespace job register exactly that list', async () => {
    const dev = await readFile(`${root}dev/temporal.sh`, 'utf8');
    expect(/^PM_SEARCH_ATTRIBUTES="([^"]+)"/m.exec(dev)?.[1]?.split(' ').sort()).toEqual(declared);
    const compose = await readFile(`${root}deploy/compose/temporal/create-namespace.sh`, 'utf8');
    expect(/^for attr in ([^;]+); do/m.exec(compose)?.[1]?.split(' ').sort()).toEqual(declared);
  });
});

describe('ensureSearchAttributes (real dev server)', () => {
  let connection: Connection;
  const namespace = `pm-sa-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    connection = await Connection.connect({ address: stack.temporal.address });
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
  });

  afterAll(async () => {
    await connection?.operatorService.deleteNamespace({ namespace }).catch((err: unknown) => {
      console.warn(`could not delete namespace ${namespace}: ${String(err)}`);
    });
    await connection?.close();
  });

  it('adds what a namespace lacks (an upgrade that forgot them), then nothing', async () => {
    expect((await ensureSearchAttributes(connection, namespace)).sort()).toEqual(
      Object.keys(SEARCH_ATTRIBUTE_TYPES).sort(),
    );
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    for (const name of Object.keys(SEARCH_ATTRIBUTE_TYPES))
      expect(customAttributes?.[name], name).toBeDefined();
    expect(await ensureSearchAttributes(connection, namespace)).toEqual([]);
  });
});
