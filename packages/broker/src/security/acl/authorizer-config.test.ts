import { describe, expect, test } from 'vitest';
import { authorizerEnabled, parseAllowEveryoneIfNoAclFound, parseSuperUsers } from './authorizer-config.ts';

describe('authorizer configuration as Kafka reads it', () => {
  test('authorizer.class.name', () => {
    expect(authorizerEnabled('')).toBe(false);
    expect(authorizerEnabled('  ')).toBe(false);
    expect(authorizerEnabled('org.apache.kafka.metadata.authorizer.StandardAuthorizer')).toBe(true);
    expect(authorizerEnabled('kafka.security.authorizer.AclAuthorizer')).toBe(true);
    expect(() => authorizerEnabled('com.example.RangerAuthorizer')).toThrow(/not supported/);
  });

  test('super.users: semicolon-separated, trimmed, empty parts dropped', () => {
    expect(parseSuperUsers('User:admin;User:ANONYMOUS')).toEqual(['User:admin', 'User:ANONYMOUS']);
    expect(parseSuperUsers(' User:a ; ;User:b;')).toEqual(['User:a', 'User:b']);
    expect(parseSuperUsers('')).toEqual([]);
    expect(() => parseSuperUsers('admin')).toThrow(/not a principal/);
  });

  test('allow.everyone.if.no.acl.found: only "true" (any case) is true', () => {
    expect(parseAllowEveryoneIfNoAclFound('true')).toBe(true);
    expect(parseAllowEveryoneIfNoAclFound(' TRUE ')).toBe(true);
    expect(parseAllowEveryoneIfNoAclFound('yes')).toBe(false);
    expect(parseAllowEveryoneIfNoAclFound('')).toBe(false);
  });
});
