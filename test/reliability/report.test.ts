// The README's long-run figures are generated from the committed artifacts; this fails when
// someone edits one without the other (regenerate: `pnpm exec node test/reliability/report.ts --write`).

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { BEGIN, contains, END, README, reliabilityBlock } from './report.ts';

test('the README reliability block is what the committed bench/results artifacts give', () => {
  const readme = readFileSync(README, 'utf8');
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  expect(begin, 'README.md has the generated reliability block').toBeGreaterThan(0);
  expect(readme.slice(begin + BEGIN.length, end).trim()).toBe(reliabilityBlock().trim());
});

test('a fix counts for a run only when the run’s commit has it', () => {
  // 152fe4f (the maximal-ISR fix) is an ancestor of a905fbf, not the other way round.
  expect(contains('a905fbf12b6de8ed1e3fb1f62343fd91aa6863f4', '152fe4f')).toBe(true);
  expect(contains('152fe4f', 'a905fbf12b6de8ed1e3fb1f62343fd91aa6863f4')).toBe(false);
  expect(() => contains('a905fbf', '0000000000000000000000000000000000000000')).toThrow(/git cannot compare/);
});
