// Cluster settings from a broker config: which listener followers dial their leaders on
// (inter.broker.listener.name, else security.inter.broker.protocol's listener, else the first),
// and how followers secure that connection (TLS trust, SASL mechanism and credentials) or why not;
// the broker's unclean.leader.election.enable for the controller.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BrokerConfig, ConfigError } from '../config.ts';
import { ClusterNode } from './cluster-node.ts';

const ETCD: [string, string] = ['sluice.metadata.etcd.endpoints', 'http://127.0.0.1:2379'];

test("the broker's unclean.leader.election.enable reaches the controller's settings (Kafka's default false)", () => {
  expect(ClusterNode.settingsOf(new BrokerConfig([ETCD]))?.uncleanLeaderElection).toBe(false);
  expect(ClusterNode.settingsOf(new BrokerConfig([ETCD, ['unclean.leader.election.enable', 'true']]))?.uncleanLeaderElection).toBe(true);
});

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

  const SASL_LISTENERS: Array<[string, string]> = [
    ETCD,
    ['listeners', 'CLIENT://127.0.0.1:9092,SECURE://127.0.0.1:9093'],
    ['listener.security.protocol.map', 'CLIENT:PLAINTEXT,SECURE:SASL_PLAINTEXT'],
    ['inter.broker.listener.name', 'SECURE'],
  ];

  test("a SASL inter-broker listener: the mechanism and this broker's credentials from its JAAS config", () => {
    const config = new BrokerConfig([
      ...SASL_LISTENERS,
      ['sasl.enabled.mechanisms', 'SCRAM-SHA-512'],
      ['sasl.mechanism.inter.broker.protocol', 'SCRAM-SHA-512'],
      [
        'listener.name.secure.scram-sha-512.sasl.jaas.config',
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="b-secret";',
      ],
    ]);
    expect(ClusterNode.settingsOf(config)?.fetcher.security).toEqual({
      tls: undefined,
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'broker', password: 'b-secret' },
    });
  });

  test('a SASL inter-broker listener without a usable mechanism or credentials is refused, naming the key', () => {
    // Kafka's default mechanism, GSSAPI, is not one the fetcher speaks.
    expect(() => ClusterNode.settingsOf(new BrokerConfig(SASL_LISTENERS))).toThrow(ConfigError);
    expect(() => ClusterNode.settingsOf(new BrokerConfig(SASL_LISTENERS))).toThrow(
      /sasl.mechanism.inter.broker.protocol: GSSAPI cannot be used between brokers/,
    );
    const noJaas = new BrokerConfig([...SASL_LISTENERS, ['sasl.mechanism.inter.broker.protocol', 'PLAIN']]);
    expect(() => ClusterNode.settingsOf(noJaas)).toThrow(
      /its JAAS config \(listener.name.secure.plain.sasl.jaas.config\) must give this broker's username and password/,
    );
  });

  test('an SSL inter-broker listener trusts its PEM trust store, and refuses another store type', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-interbroker-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n');
    const listeners: Array<[string, string]> = [
      ETCD,
      ['listeners', 'CLIENT://127.0.0.1:9092,SECURE://127.0.0.1:9093'],
      ['listener.security.protocol.map', 'CLIENT:PLAINTEXT,SECURE:SSL'],
      ['inter.broker.listener.name', 'SECURE'],
      ['listener.name.secure.ssl.truststore.location', ca],
    ];
    const pem = new BrokerConfig([...listeners, ['listener.name.secure.ssl.truststore.type', 'PEM']]);
    expect(ClusterNode.settingsOf(pem)?.fetcher.security?.tls?.ca).toContain('not really');
    expect(ClusterNode.settingsOf(pem)?.fetcher.security?.sasl).toBeUndefined();
    const jks = new BrokerConfig([...listeners, ['listener.name.secure.ssl.truststore.type', 'JKS']]);
    expect(() => ClusterNode.settingsOf(jks)).toThrow(/listener.name.secure.ssl.truststore.type: the inter-broker listener SECURE needs a PEM trust store/);
  });

  test('an inter-broker listener that is not a listener stops the start, naming it', () => {
    expect(() => new BrokerConfig([ETCD, ['inter.broker.listener.name', 'REPLICATION']])).toThrow(
      /inter.broker.listener.name.*REPLICATION is not one of the listeners/,
    );
  });
});
