// packages/broker/observability/prometheus-rules.yml with Prometheus's own tool:
// - `promtool check rules`: every rule parses, names and labels are valid;
// - `promtool test rules rules.test.yml`: each alert fires on a broker in trouble and stays
//   silent on a healthy one, recording rules compute what they say;
// - every alert of the file has a test that expects it to fire;
// - the tests can fail: the same tests against the rules with a threshold changed fail.
// (test/prometheus.test.ts evaluates the same rules against a live broker.)

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promtool, requirePrometheus, RULES_FILE, RULES_TEST_FILE } from './support/prometheus.ts';

const rules = readFileSync(RULES_FILE, 'utf8');
const tests = readFileSync(RULES_TEST_FILE, 'utf8');

describe('prometheus-rules.yml', () => {
  let scratch: string;

  beforeAll(() => {
    requirePrometheus();
    scratch = mkdtempSync(join(tmpdir(), 'sluice-rules-'));
  });

  afterAll(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('passes promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES_FILE]);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code, r.output).toBe(0);
  });

  it('passes its unit tests (promtool test rules)', () => {
    const r = promtool(['test', 'rules', RULES_TEST_FILE]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });

  it('has a unit test that expects each alert to fire', () => {
    const alerts = [...rules.matchAll(/^\s*- alert: (\w+)/gm)].map((m) => m[1]);
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    // An alert_rule_test entry names the alert and lists at least one expected alert.
    const firing = new Set([...tests.matchAll(/alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels:/g)].map((m) => m[1]));
    expect(alerts.filter((a) => !firing.has(a))).toEqual([]);
  });

  it('covers the alerts the issue asks for that a single broker can have', () => {
    const exprs = [...rules.matchAll(/- alert: \w+\n(?:\s*#.*\n)*\s*expr: (.*)/g)].map((m) => m[1]).join('\n');
    expect(exprs.split('\n').length).toBe([...rules.matchAll(/- alert: /g)].length);
    for (const series of [
      'sluice_log_flush_failures_total', // storage errors
      'sluice_log_offline_partitions', // offline partitions
      'KAFKA_STORAGE_ERROR',
      'deriv(sluice_group_lag[10m])', // consumer lag growing
      'sluice:log_flush_duration_seconds:p99_5m', // fsync latency
      'sluice_log_dir_available_bytes', // disk filling
    ]) {
      expect(exprs).toContain(series);
    }
  });

  it('the unit tests fail when a rule changes', () => {
    // Same tests, rules with the fsync threshold raised tenfold: SluiceFsyncSlow no longer fires.
    const mutated = rules.replace('sluice:log_flush_duration_seconds:p99_5m > 0.1', 'sluice:log_flush_duration_seconds:p99_5m > 1');
    expect(mutated).not.toBe(rules);
    writeFileSync(join(scratch, 'prometheus-rules.yml'), mutated);
    copyFileSync(RULES_TEST_FILE, join(scratch, 'rules.test.yml'));
    const r = promtool(['test', 'rules', 'rules.test.yml'], scratch);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('alertname: SluiceFsyncSlow');
  });
});
