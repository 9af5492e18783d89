import { describe, expect, test } from 'vitest';
import {
  BROKER_CONFIGS,
  BrokerConfig,
  brokerConfigDef,
  brokerConfigSynonyms,
  ConfigError,
  formatConfigValue,
  LONG_MAX,
  parseConfigValue,
  usesTls,
} from './config.ts';

const def = (name: string) => {
  const d = brokerConfigDef(name);
  if (d === undefined) throw new Error(`no broker config ${name}`);
  return d;
};

describe('parseConfigValue', () => {
  test.each(['true', 'TRUE', 'True', ' tRuE '])("booleans are case-insensitive, as Kafka's ConfigDef: %j", (text) => {
    expect(parseConfigValue(def('auto.create.topics.enable'), text)).toBe(true);
  });

  test.each(['yes', '1', '', 'truee'])('anything but true/false is refused: %j', (text) => {
    expect(() => parseConfigValue(def('auto.create.topics.enable'), text)).toThrow(ConfigError);
  });

  test('Long.MAX_VALUE parses to the sentinel and prints back as Kafka prints it', () => {
    const flush = def('log.flush.interval.messages');
    const value = parseConfigValue(flush, '9223372036854775807');
    expect(value).toBe(LONG_MAX);
    expect(formatConfigValue('long', value)).toBe('9223372036854775807');
    expect(parseConfigValue(flush, formatConfigValue('long', value)!)).toBe(LONG_MAX);
    // The default is the same sentinel.
    expect(formatConfigValue('long', flush.default)).toBe('9223372036854775807');
  });

  test('longs between 2^53 and Long.MAX_VALUE are the sentinel too; beyond a long is refused', () => {
    const longDef = def('log.retention.bytes');
    expect(parseConfigValue(longDef, '9007199254740993')).toBe(LONG_MAX);
    expect(() => parseConfigValue(longDef, '9223372036854775808')).toThrow(/out of long range/);
    expect(parseConfigValue(longDef, '-9223372036854775808')).toBe(-LONG_MAX);
    expect(formatConfigValue('long', -LONG_MAX)).toBe('-9223372036854775808');
    expect(() => parseConfigValue(longDef, '-9223372036854775809')).toThrow(/out of long range/);
  });

  test('ints: range checked, a leading + accepted as Java does', () => {
    expect(parseConfigValue(def('num.partitions'), '+3')).toBe(3);
    expect(() => parseConfigValue(def('num.partitions'), '2147483648')).toThrow(/out of int range/);
    expect(() => parseConfigValue(def('num.partitions'), '1.5')).toThrow(/integer/);
  });
});

describe('formatConfigValue', () => {
  test.each([
    [0.5, '0.5'],
    [1, '1.0'],
    [0, '0.0'],
    [0.001, '0.001'],
    [0.0001, '1.0E-4'],
    [0.00015, '1.5E-4'],
    [12345678, '1.2345678E7'],
  ])("doubles as Java's Double.toString: %d -> %s", (value, text) => {
    expect(formatConfigValue('double', value)).toBe(text);
  });

  test('lists comma-joined, null stays null, ints and longs as digits', () => {
    expect(formatConfigValue('list', ['compact', 'delete'])).toBe('compact,delete');
    expect(formatConfigValue('list', [])).toBe('');
    expect(formatConfigValue('long', null)).toBeNull();
    expect(formatConfigValue('int', 2147483647)).toBe('2147483647');
    expect(formatConfigValue('long', 604800000)).toBe('604800000');
  });
});

describe('broker config validation', () => {
  test('compression.type accepts only producer: Sluice never recompresses', () => {
    expect(new BrokerConfig([['compression.type', 'producer']]).str('compression.type')).toBe('producer');
    for (const codec of ['gzip', 'zstd', 'uncompressed', 'lz4', 'snappy']) {
      expect(() => new BrokerConfig([['compression.type', codec]])).toThrow(/only "producer"/);
    }
  });

  test('log.cleaner.min.cleanable.ratio is between 0 and 1', () => {
    expect(new BrokerConfig([['log.cleaner.min.cleanable.ratio', '1']]).get('log.cleaner.min.cleanable.ratio')).toBe(1);
    expect(new BrokerConfig([['log.cleaner.min.cleanable.ratio', '0']]).get('log.cleaner.min.cleanable.ratio')).toBe(0);
    expect(() => new BrokerConfig([['log.cleaner.min.cleanable.ratio', '1.01']])).toThrow(/between 0 and 1/);
    expect(() => new BrokerConfig([['log.cleaner.min.cleanable.ratio', '-0.1']])).toThrow(/between 0 and 1/);
  });

  test('booleans from a properties file are case-insensitive', () => {
    expect(new BrokerConfig([['auto.create.topics.enable', 'FALSE']]).bool('auto.create.topics.enable')).toBe(false);
  });
});

test("brokerConfigSynonyms: Kafka's groups, in precedence order", () => {
  expect(brokerConfigSynonyms('log.retention.hours')).toEqual(['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']);
  expect(brokerConfigSynonyms('log.roll.ms')).toEqual(['log.roll.ms', 'log.roll.hours']);
  expect(brokerConfigSynonyms('log.roll.jitter.hours')).toEqual(['log.roll.jitter.ms', 'log.roll.jitter.hours']);
  expect(brokerConfigSynonyms('log.flush.interval.ms')).toEqual(['log.flush.interval.ms', 'log.flush.scheduler.interval.ms']);
  // The scheduler interval is only the flush interval's default, not the other way round.
  expect(brokerConfigSynonyms('log.flush.scheduler.interval.ms')).toEqual(['log.flush.scheduler.interval.ms']);
  expect(brokerConfigSynonyms('log.segment.bytes')).toEqual(['log.segment.bytes']);
});

describe('startup line and metrics listener', () => {
  test('nonDefaults lists keys set to something other than their default', () => {
    const config = new BrokerConfig([
      ['num.partitions', '3'],
      ['sluice.log.level', 'info'], // set, but to the default
      ['listeners', 'PLAINTEXT://127.0.0.1:9092'], // the default list
    ]);
    expect(config.nonDefaults()).toEqual({ 'num.partitions': 3 });
  });

  test('sluice.metrics.listener must be http://host:port/path or empty', () => {
    expect(() => new BrokerConfig([['sluice.metrics.listener', '127.0.0.1:9404']])).toThrow(ConfigError);
    expect(() => new BrokerConfig([['sluice.metrics.listener', 'http://127.0.0.1/metrics']])).toThrow(/port is required/);
    expect(new BrokerConfig([['sluice.metrics.listener', '']]).str('sluice.metrics.listener')).toBe('');
    expect(new BrokerConfig([['sluice.metrics.listener', 'http://0.0.0.0:0/metrics']]).str('sluice.metrics.listener')).toBe('http://0.0.0.0:0/metrics');
  });

  test("socket.send.buffer.bytes is Kafka's (102400, -1 = the OS's); sluice.writer.threads 0 means per core", () => {
    const defaults = new BrokerConfig([]);
    expect(defaults.int('socket.send.buffer.bytes')).toBe(102400);
    expect(defaults.int('sluice.writer.threads')).toBe(0);
    expect(new BrokerConfig([['socket.send.buffer.bytes', '-1']]).int('socket.send.buffer.bytes')).toBe(-1);
    expect(() => new BrokerConfig([['socket.send.buffer.bytes', '0']])).toThrow(/must be -1 or >= 1/);
    expect(() => new BrokerConfig([['socket.send.buffer.bytes', '-2']])).toThrow(/must be -1 or >= 1/);
    expect(new BrokerConfig([['sluice.writer.threads', '3']]).int('sluice.writer.threads')).toBe(3);
    expect(() => new BrokerConfig([['sluice.writer.threads', '-1']])).toThrow(ConfigError);
  });
});

describe('listeners and security keys (issue 13)', () => {
  test("several listeners, protocols from Kafka's default map and from an explicit one", () => {
    const c = new BrokerConfig([
      ['listeners', 'PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9093,CLIENT://127.0.0.1:9094'],
      ['listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT'],
    ]);
    expect(c.listeners.map((l) => [l.name, l.securityProtocol])).toEqual([
      ['PLAINTEXT', 'PLAINTEXT'],
      ['SASL_PLAINTEXT', 'SASL_PLAINTEXT'],
      ['CLIENT', 'SASL_PLAINTEXT'],
    ]);
  });

  test("a listener missing from the map is refused with Kafka's message", () => {
    expect(() => new BrokerConfig([['listeners', 'CLIENT://127.0.0.1:9094']])).toThrow(/No security protocol defined for listener CLIENT/);
  });

  test('duplicate listener names, unknown advertised or inter-broker listeners are refused', () => {
    expect(() => new BrokerConfig([['listeners', 'PLAINTEXT://:9092,PLAINTEXT://:9093']])).toThrow(/defined twice/);
    expect(() => new BrokerConfig([['advertised.listeners', 'OTHER://h:1']])).toThrow(/advertised.listeners/);
    expect(() => new BrokerConfig([['inter.broker.listener.name', 'INTERNAL']])).toThrow(/inter.broker.listener.name/);
    expect(new BrokerConfig([['inter.broker.listener.name', 'plaintext']]).get('inter.broker.listener.name')).toBe('plaintext');
  });

  test('advertised.listeners per listener: an entry replaces its listener, the others advertise themselves', () => {
    const c = new BrokerConfig([
      ['listeners', 'PLAINTEXT://0.0.0.0:9092,SASL_PLAINTEXT://0.0.0.0:9093'],
      ['advertised.listeners', 'SASL_PLAINTEXT://broker.example:19093'],
    ]);
    expect(c.advertisedListeners.map((l) => `${l.name}://${l.host}:${l.port}`)).toEqual(['PLAINTEXT://0.0.0.0:9092', 'SASL_PLAINTEXT://broker.example:19093']);
    expect([...c.explicitlyAdvertised]).toEqual(['SASL_PLAINTEXT']);
  });

  test('SSL and SASL_SSL listeners run TLS; PLAINTEXT and SASL_PLAINTEXT do not', () => {
    const c = new BrokerConfig([['listeners', 'PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093,SASL_SSL://127.0.0.1:9094,SASL_PLAINTEXT://127.0.0.1:9095']]);
    expect(c.listeners.map((l) => [l.name, usesTls(l.securityProtocol)])).toEqual([
      ['PLAINTEXT', false],
      ['SSL', true],
      ['SASL_SSL', true],
      ['SASL_PLAINTEXT', false],
    ]);
  });

  test('per-listener and per-mechanism keys win over the broker-wide key', () => {
    const c = new BrokerConfig([
      ['listeners', 'PLAINTEXT://:9092,SASL_PLAINTEXT://:9093'],
      ['sasl.enabled.mechanisms', 'PLAIN'],
      ['listener.name.sasl_plaintext.sasl.enabled.mechanisms', 'SCRAM-SHA-512,PLAIN'],
      ['connections.max.reauth.ms', '1000'],
      ['listener.name.sasl_plaintext.scram-sha-512.connections.max.reauth.ms', '5000'],
      ['listener.name.sasl_plaintext.plain.sasl.jaas.config', 'x required user_a="b";'],
    ]);
    expect(c.listenerValue('SASL_PLAINTEXT', 'sasl.enabled.mechanisms')).toEqual(['SCRAM-SHA-512', 'PLAIN']);
    expect(c.listenerValue('PLAINTEXT', 'sasl.enabled.mechanisms')).toEqual(['PLAIN']);
    expect(c.listenerValue('SASL_PLAINTEXT', 'connections.max.reauth.ms', 'SCRAM-SHA-512')).toBe(5000);
    expect(c.listenerValue('SASL_PLAINTEXT', 'connections.max.reauth.ms', 'PLAIN')).toBe(1000);
    expect(c.listenerValue('SASL_PLAINTEXT', 'sasl.jaas.config', 'PLAIN')).toBe('x required user_a="b";');
    expect(c.listenerKeyName('SASL_PLAINTEXT', 'sasl.jaas.config', 'PLAIN')).toBe('listener.name.sasl_plaintext.plain.sasl.jaas.config');
    // Passwords never reach the startup line.
    expect(c.nonDefaults()['listener.name.sasl_plaintext.plain.sasl.jaas.config']).toBe('[hidden]');
  });

  test('per-listener keys are validated like their base key; keys that are not per-listener are refused', () => {
    expect(() => new BrokerConfig([['listener.name.plaintext.ssl.client.auth', 'sometimes']])).toThrow(/must be one of none, requested, required/);
    expect(() => new BrokerConfig([['listener.name.plaintext.num.partitions', '3']])).toThrow(/cannot be set per listener/);
    expect(() => new BrokerConfig([['listener.name.nosuch.sasl.enabled.mechanisms', 'PLAIN']])).toThrow(/there is no listener NOSUCH/);
  });

  test("every sasl.* and ssl.* key of Kafka's listener configuration may be set per listener", () => {
    // The keys issue 13 names as accepted in the `listener.name.<listener>.<key>` form.
    const keys = [
      'sasl.enabled.mechanisms',
      'sasl.mechanism.inter.broker.protocol',
      'sasl.server.max.receive.size',
      'connections.max.reauth.ms',
      'sasl.jaas.config',
      'sasl.oauthbearer.jwks.endpoint.url',
      'sasl.oauthbearer.expected.audience',
      'sasl.oauthbearer.expected.issuer',
      'ssl.keystore.type',
      'ssl.keystore.location',
      'ssl.keystore.password',
      'ssl.key.password',
      'ssl.keystore.certificate.chain',
      'ssl.keystore.key',
      'ssl.truststore.type',
      'ssl.truststore.location',
      'ssl.truststore.password',
      'ssl.truststore.certificates',
      'ssl.client.auth',
      'ssl.enabled.protocols',
      'ssl.cipher.suites',
      'ssl.principal.mapping.rules',
    ];
    expect(keys.filter((k) => def(k).perListener !== true)).toEqual([]);
    // Kafka's OAUTHBEARER broker setup names its JWKS validator class per listener and mechanism.
    const oauth = new BrokerConfig([
      ['listeners', 'SASL_SSL://:9093'],
      [
        'listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class',
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
      ],
    ]);
    expect(oauth.listenerKeyName('SASL_SSL', 'sasl.server.callback.handler.class', 'OAUTHBEARER')).toBe(
      'listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class',
    );
    expect(
      () =>
        new BrokerConfig([
          ['listeners', 'SASL_SSL://:9093'],
          [
            'listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class',
            'org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler',
          ],
        ]),
    ).toThrow(/runs no Java callback handlers/);
    // sasl.oauthbearer.* per mechanism too (Kafka's validator reads `<mechanism>.<key>` first).
    const perMechanism = new BrokerConfig([
      ['listeners', 'SASL_SSL://:9093'],
      ['sasl.oauthbearer.jwks.endpoint.url', 'file:///broker-wide.json'],
      ['listener.name.sasl_ssl.oauthbearer.sasl.oauthbearer.jwks.endpoint.url', 'file:///jwks.json'],
    ]);
    expect(perMechanism.listenerValue('SASL_SSL', 'sasl.oauthbearer.jwks.endpoint.url', 'OAUTHBEARER')).toBe('file:///jwks.json');
    expect(perMechanism.listenerValue('SASL_SSL', 'sasl.oauthbearer.jwks.endpoint.url')).toBe('file:///broker-wide.json');
  });

  test('Java-only TLS knobs of a copied server.properties are accepted; a Java SSL engine factory is refused', () => {
    const c = new BrokerConfig([
      ['listeners', 'SSL://:9093'],
      ['ssl.keymanager.algorithm', 'SunX509'],
      ['listener.name.ssl.ssl.trustmanager.algorithm', 'PKIX'],
      ['ssl.secure.random.implementation', 'SHA1PRNG'],
      ['ssl.provider', 'SunJSSE'],
      ['listener.name.ssl.oauthbearer.sasl.login.callback.handler.class', 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler'],
    ]);
    expect(c.str('ssl.keymanager.algorithm')).toBe('SunX509');
    expect(() => new BrokerConfig([['ssl.engine.factory.class', 'com.example.MyFactory']])).toThrow(/no Java SSL engine factories/);
    for (const key of BROKER_CONFIGS.map((d) => d.name).filter((n) => n.startsWith('ssl.') || n.startsWith('sasl.'))) {
      expect(def(key).perListener, key).toBe(true);
    }
  });

  test("authorizer keys read as Kafka reads them; Kafka's own class name works unchanged", () => {
    const c = new BrokerConfig([
      ['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'],
      ['super.users', 'User:admin;User:ANONYMOUS'],
      ['allow.everyone.if.no.acl.found', 'false'],
    ]);
    expect(c.str('authorizer.class.name')).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(() => new BrokerConfig([['authorizer.class.name', 'com.example.MyAuthorizer']])).toThrow(/not supported/);
    expect(() => new BrokerConfig([['super.users', 'admin']])).toThrow(/not a principal/);
  });

  test('ssl keys are validated; passwords are sensitive', () => {
    expect(() => new BrokerConfig([['ssl.enabled.protocols', 'TLSv1.1']])).toThrow(/TLSv1.2, TLSv1.3/);
    expect(() => new BrokerConfig([['ssl.principal.mapping.rules', 'RULE:(']])).toThrow(ConfigError);
    expect(def('ssl.keystore.password').sensitive).toBe(true);
    expect(def('ssl.keystore.location').sensitive).toBeUndefined();
  });
});
