// Cluster settings from a broker config: which listener followers dial their leaders on
// (inter.broker.listener.name, else security.inter.broker.protocol's listener, else the first),
// and the refusal of an inter-broker listener the follower's fetcher cannot speak.

import { describe, expect, test } from 'vitest';
import { BrokerConfig, ConfigError } from '../config.ts';
import { ClusterNode } from './cluster-node.ts';

const ETCD: [string, string] = ['sluice.metadata.etcd.endpoints', 'http://127.0.0.1:2379'];

describe('cluster settings: the inter-broker listener', () => {
  test('off without etcd endpoints', () => {
    expect(ClusterNode.settingsOf(new BrokerConfig([]))).toBeNull();
  });

  test('inter.broker.listener.name names it', () => {
    const config = new BrokerConfig([
      ETCD,
      ['listeners', 'CLIENT://127.0.0.1:9092,REPLICATION://127.0.0.1:9093'],
      ['listener.security.protocol.map', 'CLIENT:SASL_PLAINTEXT,REPLICATION:PLAINTEXT'],
      ['inter.broker.listener.name', 'replication'],
    ]);
    expect(ClusterNode.settingsOf(config)?.interBrokerListener).toBe('REPLICATION');
  });

  test('unset: the listener named after security.inter.broker.protocol, else the first listener', () => {
    const named = new BrokerConfig([ETCD, ['listeners', 'SASL_PLAINTEXT://127.0.0.1:9092,PLAINTEXT://127.0.0.1:9093']]);
    expect(ClusterNode.settingsOf(named)?.interBrokerListener).toBe('PLAINTEXT');
    const first = new BrokerConfig([
      ETCD,
      ['listeners', 'EXTERNAL://127.0.0.1:9092,INTERNAL://127.0.0.1:9093'],
      ['listener.security.protocol.map', 'EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT'],
    ]);
    expect(ClusterNode.settingsOf(first)?.interBrokerListener).toBe('EXTERNAL');
  });

  test('an SSL or SASL inter-broker listener is refused, naming it', () => {
    const config = new BrokerConfig([
      ETCD,
      ['listeners', 'PLAINTEXT://127.0.0.1:9092,SECURE://127.0.0.1:9093'],
      ['listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,SECURE:SASL_PLAINTEXT'],
      ['inter.broker.listener.name', 'SECURE'],
    ]);
    expect(() => ClusterNode.settingsOf(config)).toThrow(ConfigError);
    expect(() => ClusterNode.settingsOf(config)).toThrow(/inter-broker listener SECURE is SASL_PLAINTEXT/);
  });
});
