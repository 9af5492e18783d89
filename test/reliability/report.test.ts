// The README's long-run figures are generated from the committed artifacts; this fails when
// someone edits one without the other (regenerate: `pnpm exec node test/reliability/report.ts --write`).

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { BEGIN, END, README, reliabilityBlock } from './report.ts';

test('the README reliability block is what the committed bench/results artifacts give', () => {
  const readme = readFileSync(README, 'utf8');
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  expect(begin, 'README.md has the generated reliability block').toBeGreaterThan(0);
  expect(readme.slice(begin + BEGIN.length, end).trim()).toBe(reliabilityBlock().trim());
});
