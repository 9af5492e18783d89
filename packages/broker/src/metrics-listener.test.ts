import { describe, expect, it } from 'vitest';
import { metricsListenerProblem, metricsUrl, parseMetricsListener } from './metrics-listener.ts';

describe('sluice.metrics.listener', () => {
  it('parses host, port and path', () => {
    expect(parseMetricsListener('http://127.0.0.1:9404/metrics')).toEqual({ host: '127.0.0.1', port: 9404, path: '/metrics' });
    expect(parseMetricsListener('http://0.0.0.0:0/prom')).toEqual({ host: '0.0.0.0', port: 0, path: '/prom' });
    expect(parseMetricsListener('http://[::1]:9404/metrics')).toEqual({ host: '::1', port: 9404, path: '/metrics' });
    expect(parseMetricsListener('http://localhost:9404')).toEqual({ host: 'localhost', port: 9404, path: '/' });
  });

  it('is disabled when empty', () => {
    expect(parseMetricsListener('')).toBeNull();
    expect(parseMetricsListener('  ')).toBeNull();
    expect(metricsListenerProblem('')).toBeNull();
  });

  it('names the problem with a bad value', () => {
    expect(metricsListenerProblem('127.0.0.1:9404')).toMatch(/not a URL|only http/);
    expect(metricsListenerProblem('https://127.0.0.1:9404/metrics')).toMatch(/only http/);
    expect(metricsListenerProblem('http://127.0.0.1/metrics')).toMatch(/port is required/);
    expect(metricsListenerProblem('http://127.0.0.1:9404/metrics?x=1')).toMatch(/only http:\/\/host:port\/path/);
    expect(metricsListenerProblem('http://127.0.0.1:99999/metrics')).toMatch(/not a URL/);
  });

  it('reports the URL to scrape, loopback for a wildcard bind', () => {
    expect(metricsUrl({ host: '0.0.0.0', port: 0, path: '/metrics' }, 40123)).toBe('http://127.0.0.1:40123/metrics');
    expect(metricsUrl({ host: '::1', port: 9404, path: '/m' }, 9404)).toBe('http://[::1]:9404/m');
  });
});
