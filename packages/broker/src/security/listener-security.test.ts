import { describe, expect, test } from 'vitest';
import {
  DEFAULT_SECURITY_PROTOCOL_MAP,
  isSaslProtocol,
  isTlsProtocol,
  listenerJaasConfig,
  listenerSetting,
  parseSecurityProtocolMap,
  securityProtocolOf,
} from './listener-security.ts';

describe('listener.security.protocol.map', () => {
  test("Kafka's default maps each protocol name to itself", () => {
    const m = parseSecurityProtocolMap(DEFAULT_SECURITY_PROTOCOL_MAP);
    expect([...m]).toEqual([
      ['PLAINTEXT', 'PLAINTEXT'],
      ['SSL', 'SSL'],
      ['SASL_PLAINTEXT', 'SASL_PLAINTEXT'],
      ['SASL_SSL', 'SASL_SSL'],
    ]);
    expect(securityProtocolOf('sasl_ssl', m)).toBe('SASL_SSL');
  });

  test('custom listener names, spaces and case', () => {
    const m = parseSecurityProtocolMap(' INTERNAL:SASL_PLAINTEXT , external : ssl,ADMIN:PLAINTEXT ');
    expect(securityProtocolOf('INTERNAL', m)).toBe('SASL_PLAINTEXT');
    expect(securityProtocolOf('EXTERNAL', m)).toBe('SSL');
    expect(() => securityProtocolOf('CLIENT', m)).toThrow('No security protocol defined for listener CLIENT');
  });

  test.each([
    ['INTERNAL', /is not LISTENER_NAME:SECURITY_PROTOCOL/],
    ['INTERNAL:TLS', /unknown security protocol TLS/],
    ['A:SSL,a:PLAINTEXT', /mapped twice/],
  ])('refuses %s', (value, error) => {
    expect(() => parseSecurityProtocolMap(value)).toThrow(error);
  });

  test('protocol kinds', () => {
    expect([isSaslProtocol('SASL_SSL'), isSaslProtocol('SSL'), isTlsProtocol('SASL_SSL'), isTlsProtocol('SASL_PLAINTEXT')]).toEqual([true, false, true, false]);
  });
});

describe('per-listener keys', () => {
  const props = new Map([
    ['ssl.client.auth', 'none'],
    ['listener.name.external.ssl.client.auth', 'required'],
    ['sasl.jaas.config', 'general'],
    ['listener.name.sasl_ssl.plain.sasl.jaas.config', 'plain-on-sasl-ssl'],
  ]);
  const lookup = (k: string) => props.get(k);

  test('listener.name.<listener>.<key> overrides <key>', () => {
    expect(listenerSetting(lookup, 'EXTERNAL', 'ssl.client.auth')).toBe('required');
    expect(listenerSetting(lookup, 'INTERNAL', 'ssl.client.auth')).toBe('none');
    expect(listenerSetting(lookup, 'INTERNAL', 'ssl.cipher.suites')).toBeUndefined();
  });

  test('JAAS per listener and mechanism, else sasl.jaas.config', () => {
    expect(listenerJaasConfig(lookup, 'SASL_SSL', 'PLAIN')).toEqual({ key: 'listener.name.sasl_ssl.plain.sasl.jaas.config', value: 'plain-on-sasl-ssl' });
    expect(listenerJaasConfig(lookup, 'SASL_SSL', 'SCRAM-SHA-512')).toEqual({ key: 'sasl.jaas.config', value: 'general' });
    expect(listenerJaasConfig(() => undefined, 'SASL_SSL', 'PLAIN')).toBeUndefined();
  });
});
