import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { type ReplayResult, Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowsEntry } from '../../temporal/workflowsPath.js';
import * as workflows from '../../workflows/index.js';

/**
 * Every history recorded from real runs (scripts/record-histories.ts) must replay on the
 * current workflow code: a change to a shipped workflow's command sequence without a patch
 * would freeze every run of it still open in production (README "Changing a workflow").
 */
const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface RecordedHistory {
  workflowId: string;
  type: string;
  file: string;
  history: unknown;
}

async function recordedHistories(type?: string): Promise<RecordedHistory[]> {
  const out: RecordedHistory[] = [];
  const types = type ? [type] : await readdir(historiesDir);
  for (const t of types) {
    for (const file of (await readdir(`${historiesDir}${t}`)).sort()) {
      const history = proto.temporal.api.history.v1.History.decode(
        await readFile(`${historiesDir}${t}/${file}`),
      );
      out.push({ workflowId: `${t}/${file}`, type: t, file, history });
    }
  }
  return out;
}

async function replay(workflowsPath: string, histories: RecordedHistory[]): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  const iterable = histories.map((h) => ({ workflowId: h.workflowId, history: h.history }));
  for await (const r of Worker.runReplayHistories({ workflowsPath, replayName: 'replay-test' }, iterable)) {
    results.push(r);
  }
  return results;
}

/** Workflows added since the last recording: record their histories with the next release. */
const NOT_SHIPPED_YET = new Set<string>([]);

const failures = (results: ReplayResult[]) =>
  results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error?.message}`);

describe('replay of recorded histories', () => {
  it('has recorded histories of every shipped workflow type', async () => {
    const types = new Set((await recordedHistories()).map((h) => h.type));
    for (const type of Object.keys(workflows).filter((t) => !NOT_SHIPPED_YET.has(t))) {
      expect(types, type).toContain(type);
    }
  });

  it('replays every recorded history on the current workflow code', async () => {
    const histories = await recordedHistories();
    const results = await replay(workflowsEntry(), histories);
    expect(results).toHaveLength(histories.length);
    expect(failures(results)).toEqual([]);
  });

  it('fails replay when a shipped workflow changes its commands without a patch', async () => {
    const histories = await recordedHistories('repoSyncWorkflow');
    expect(histories.length).toBeGreaterThan(0);
    const results = await replay(fixture('unpatchedChange.ts'), histories);
    expect(results).toHaveLength(histories.length);
    for (const r of results) {
      expect(r.error, r.workflowId).toBeDefined();
      expect(r.error?.name, r.workflowId).toBe('DeterminismViolationError');
    }
  });

  it('replays when the same change is behind patched()', async () => {
    const histories = await recordedHistories('repoSyncWorkflow');
    const results = await replay(fixture('patchedChange.ts'), histories);
    expect(failures(results)).toEqual([]);
  });
});
