// The protocol fuzzer against a SASL_PLAINTEXT listener: every fuzzed connection starts
// unauthenticated, so this exercises the authentication entry point (what may pass before a
// login, SaslHandshake, SaslAuthenticate and the mechanisms behind it, the v0 raw-token flow, the
// SASL frame limit). The broker must stay up, close what it refuses, and keep serving the
// well-behaved client on its PLAINTEXT listener.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from '../support/broker-process.ts';
import { runFuzz } from './fuzzer.ts';

const SECONDS = 10;

let broker: BrokerProcess;
let saslPort: number;

beforeAll(async () => {
  broker = await startBroker({
    overrides: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
      'sasl.server.max.receive.size': 65536,
      'auto.create.topics.enable': false,
      'sluice.log.level': 'error',
      'sluice.metrics.listener': '',
    },
  });
  const m = /SASL_PLAINTEXT:\/\/[^:]+:(\d+)/.exec(broker.output());
  if (m === null) throw new Error(`no SASL listener in:\n${broker.output()}`);
  saslPort = Number(m[1]);
});

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

test(`${SECONDS} s of fuzzed frames at a SASL listener: no crash, refusals close, the good client served throughout`, { timeout: 120_000 }, async () => {
  const report = await runFuzz(broker, { seconds: SECONDS, seed: 0x5a51, connections: 4, targetPort: saslPort });
  process.stdout.write(`fuzz (SASL): ${JSON.stringify(report)}\n`);
  expect(report.brokerAlive, broker.output().slice(-3000)).toBe(true);
  expect(report.goodFailures).toEqual([]);
  expect(report.framesSent).toBeGreaterThan(200);
  // Nearly everything is refused before a login: connections get closed, not answered.
  expect(report.closedByBroker).toBeGreaterThan(50);
  expect(report.goodMaxLatencyMs).toBeLessThan(5000);
});
