import { expect, test } from 'vitest';
import { DenialLogLimiter } from './denial-log.ts';

test('one line per denial per interval, with the count suppressed in between', () => {
  let t = 0;
  const d = new DenialLogLimiter({ intervalMs: 1000, now: () => t });
  expect(d.record('User:a', '10.0.0.1', 4, 2, 'orders')).toEqual({ suppressed: 0 });
  for (let i = 0; i < 500; i++) expect(d.record('User:a', '10.0.0.1', 4, 2, 'orders')).toBeNull();
  // A different operation, resource, host or principal is a different line.
  expect(d.record('User:a', '10.0.0.1', 3, 2, 'orders')).toEqual({ suppressed: 0 });
  expect(d.record('User:a', '10.0.0.1', 4, 2, 'payments')).toEqual({ suppressed: 0 });
  expect(d.record('User:a', '10.0.0.2', 4, 2, 'orders')).toEqual({ suppressed: 0 });
  expect(d.record('User:b', '10.0.0.1', 4, 2, 'orders')).toEqual({ suppressed: 0 });
  t = 999;
  expect(d.record('User:a', '10.0.0.1', 4, 2, 'orders')).toBeNull();
  t = 1000;
  expect(d.record('User:a', '10.0.0.1', 4, 2, 'orders')).toEqual({ suppressed: 501 });
  expect(d.record('User:a', '10.0.0.1', 4, 2, 'orders')).toBeNull();
});

test('memory is bounded: the oldest denial is forgotten first', () => {
  const t = 0;
  const d = new DenialLogLimiter({ intervalMs: 1000, maxKeys: 100, now: () => t });
  for (let i = 0; i < 10_000; i++) d.record('User:a', 'h', 4, 2, `topic-${i}`);
  expect(d.size).toBe(100);
  // topic-0 was forgotten, so it logs again; topic-9999 is remembered.
  expect(d.record('User:a', 'h', 4, 2, 'topic-0')).toEqual({ suppressed: 0 });
  expect(d.record('User:a', 'h', 4, 2, 'topic-9999')).toBeNull();
  expect(d.size).toBe(100);
});
