// The PromQL helpers the Prometheus tests rely on: finding the vector selectors of an expression
// and substituting Grafana's variables. If these missed a selector, the end-to-end test would
// check less than it claims.

import { describe, expect, it } from 'vitest';
import { escapeRegex, substituteGrafanaVariables, vectorSelectors } from './support/promql.ts';

describe('vectorSelectors', () => {
  it('finds selectors inside functions, aggregations and binary operations', () => {
    expect(vectorSelectors('histogram_quantile(0.99, sum by (api, le) (rate(sluice_request_local_time_seconds_bucket{instance=~"a"}[5m])))')).toEqual([
      'sluice_request_local_time_seconds_bucket{instance=~"a"}',
    ]);
    expect(vectorSelectors('sum(rate(a_total{mode=~"sendfile|splice"}[1m])) / sum without (mode) (rate(a_total[1m]))')).toEqual([
      'a_total{mode=~"sendfile|splice"}',
      'a_total',
    ]);
    expect(vectorSelectors('sluice:group_lag:sum > 1000 and deriv(sluice:group_lag:sum[10m]) > 0')).toEqual(['sluice:group_lag:sum', 'sluice:group_lag:sum']);
    expect(vectorSelectors('time() - max(process_start_time_seconds)')).toEqual(['process_start_time_seconds']);
    expect(vectorSelectors('predict_linear(x_bytes[6h], 24 * 3600) < 0 or y offset 5m')).toEqual(['x_bytes', 'y']);
  });

  it('skips label lists, strings, numbers, durations and keywords', () => {
    expect(vectorSelectors('a * on (instance) group_left (dir) b')).toEqual(['a', 'b']);
    expect(vectorSelectors('label_replace(up{job="x"}, "dst", "$1", "src", "(.*)")')).toEqual(['up{job="x"}']);
    expect(vectorSelectors('sum(rate(c{l="}{"}[5m:1s])) > bool 1e9')).toEqual(['c{l="}{"}']);
    expect(vectorSelectors('{__name__="m", a="b"}')).toEqual(['{__name__="m", a="b"}']);
    expect(vectorSelectors('1 - 0.5')).toEqual([]);
  });
});

describe('substituteGrafanaVariables', () => {
  const vars = { template: { instance: escapeRegex('127.0.0.1:9404'), topic: 'orders' }, rateInterval: '10s', interval: '2s', range: '1m' };

  it('replaces built-ins and template variables, both spellings', () => {
    expect(
      substituteGrafanaVariables('rate(m{instance=~"$instance", topic=~"${topic}"}[$__rate_interval]) + increase(m[$__range]) + m[$__interval]', vars),
    ).toBe('rate(m{instance=~"127\\\\.0\\\\.0\\\\.1:9404", topic=~"orders"}[10s]) + increase(m[1m]) + m[2s]');
  });

  it('refuses an unknown variable', () => {
    expect(() => substituteGrafanaVariables('m{a="$nope"}', vars)).toThrow(/unknown Grafana variable \$nope/);
  });
});
