/**
 * Saves real event histories of every workflow type into test/replay/histories/, for the replay
 * test (test/replay/replay.test.ts): once a workflow has shipped, every open history in
 * production must still replay on the new code. Run it after an e2e run (`npx vitest run
 * --project e2e`) so the test namespace holds fresh executions of each type:
 *
 *   npx tsx scripts/record-histories.ts --label L [--namespace N] [--per-status K] [--since T] [--until T]
 *
 * For each workflow type it keeps up to K of the newest closed executions per close status
 * (completed, failed, canceled), so the branches that end a run differently are covered too.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { stack } from '../test/support/stack.js';
import * as workflows from '../workflows/index.js';

const STATUSES = ['Completed', 'Failed', 'Canceled', 'ContinuedAsNew'] as const;
const outDir = fileURLToPath(new URL('../test/replay/histories/', import.meta.url));

const { values } = parseArgs({
  options: {
    namespace: { type: 'string', default: stack.temporal.testNamespace },
    'per-status': { type: 'string', default: '2' },
    /** Only executions started in this window (ISO times): the e2e run that produced them. */
    since: { type: 'string' },
    until: { type: 'string' },
    /** Names this recording's files (`<label>-completed-1.binpb`): earlier recordings are kept. */
    label: { type: 'string', default: 'recorded' },
  },
});
const perStatus = Number(values['per-status']);

const connection = await Connection.connect({ address: stack.temporal.address });
const client = new Client({ connection, namespace: values.namespace });
let saved = 0;
for (const type of Object.keys(workflows)) {
  for (const status of STATUSES) {
    const window = [
      values.since ? ` AND StartTime >= '${values.since}'` : '',
      values.until ? ` AND StartTime <= '${values.until}'` : '',
    ].join('');
    const query = `WorkflowType = '${type}' AND ExecutionStatus = '${status}'${window}`;
    let n = 0;
    for await (const wf of client.workflow.list({ query })) {
      if (n >= perStatus) break;
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      // Protobuf binary: the JSON route (historyFromJSON) breaks where npm installs several
      // copies of protobufjs, and binary decodes to exactly what the server sent.
      const bytes = proto.temporal.api.history.v1.History.encode(history).finish();
      const dir = `${outDir}${type}`;
      await mkdir(dir, { recursive: true });
      const file = `${dir}/${values.label}-${status.toLowerCase()}-${n + 1}.binpb`;
      await writeFile(file, bytes);
      console.log(`${file}: ${history.events?.length ?? 0} events (${wf.workflowId})`);
      n++;
      saved++;
    }
  }
}
await connection.close();
console.log(`${saved} histories saved in ${outDir}`);
