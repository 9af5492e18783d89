// The cluster-fault tables of both READMEs are generated from the committed summaries; this fails
// when someone edits one without the other (regenerate: `pnpm exec node test/cluster-faults/report.ts --write`).

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { blockIn, HARNESS_README, PROMISES_BLOCK, promisesBlock, ROOT_README, RUNS_BLOCK, runsBlock } from './report.ts';

test('test/cluster-faults/README.md has the runs table the committed summaries give', () => {
  expect(blockIn(readFileSync(HARNESS_README, 'utf8'), RUNS_BLOCK)).toBe(runsBlock());
});

test('the root README has the per-fault promise table the committed summaries give', () => {
  expect(blockIn(readFileSync(ROOT_README, 'utf8'), PROMISES_BLOCK)).toBe(promisesBlock());
});
