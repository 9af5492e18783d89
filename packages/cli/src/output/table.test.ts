import { describe, expect, it } from 'vitest';
import { formatTable } from './table.ts';

describe('formatTable', () => {
  it('aligns columns to the widest cell and shows null as -', () => {
    const out = formatTable(
      ['TOPIC', 'PARTITION', 'LAG'],
      [
        ['orders', 0, 12],
        ['a', 10, null],
      ],
    );
    expect(out).toBe(['TOPIC   PARTITION  LAG', 'orders  0          12', 'a       10         -', ''].join('\n'));
  });

  it('prints only the header when there are no rows', () => {
    expect(formatTable(['GROUP', 'STATE'], [])).toBe('GROUP  STATE\n');
  });
});
