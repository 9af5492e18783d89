import { describe, expect, test } from 'vitest';
import { ErrorCode } from '@sluice/protocol';
import { PlainSaslServer, StaticPlainCredentials } from './plain.ts';

const creds = new StaticPlainCredentials({ alice: 'alice-secret', 'bob@corp': 'pässwörd', admin: 'admin-secret' });
const tok = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const run = (s: string | Uint8Array) => new PlainSaslServer(creds).evaluate(typeof s === 'string' ? tok(s) : s);

describe('SASL/PLAIN server', () => {
  test.each([
    ['no authzid', '\u0000alice\u0000alice-secret', 'alice'],
    ['authzid equal to the username', 'alice\u0000alice\u0000alice-secret', 'alice'],
    ['UTF-8 password', '\u0000bob@corp\u0000pässwörd', 'bob@corp'],
  ])('accepts %s', (_what, token, user) => {
    const step = run(token);
    expect(step).toEqual({ kind: 'success', token: new Uint8Array(0), authorizationId: user });
  });

  test.each([
    ['wrong password', '\u0000alice\u0000wrong', 'Authentication failed: Invalid username or password', 'invalid-proof'],
    ['password of another user', '\u0000alice\u0000admin-secret', 'Authentication failed: Invalid username or password', 'invalid-proof'],
    ['unknown user, same words as a wrong password', '\u0000mallory\u0000alice-secret', 'Authentication failed: Invalid username or password', 'invalid-proof'],
    ['password prefix', '\u0000alice\u0000alice-secre', 'Authentication failed: Invalid username or password', 'invalid-proof'],
    ['password with a suffix', '\u0000alice\u0000alice-secretX', 'Authentication failed: Invalid username or password', 'invalid-proof'],
    ['case differs', '\u0000Alice\u0000alice-secret', 'Authentication failed: Invalid username or password', 'invalid-proof'],
    [
      'authzid of another user (impersonation)',
      'admin\u0000alice\u0000alice-secret',
      'Authentication failed: Client requested an authorization id that is different from username',
      'other-error',
    ],
    ['empty username', '\u0000\u0000alice-secret', 'Authentication failed: username not specified', 'invalid-encoding'],
    ['empty password', '\u0000alice\u0000', 'Authentication failed: password not specified', 'invalid-encoding'],
    ['one field', 'alice', 'Invalid SASL/PLAIN response: expected 3 tokens, got 1', 'invalid-encoding'],
    ['two fields', 'alice\u0000alice-secret', 'Invalid SASL/PLAIN response: expected 3 tokens, got 2', 'invalid-encoding'],
    ['four fields', '\u0000alice\u0000alice-secret\u0000x', 'Invalid SASL/PLAIN response: expected 3 tokens, got 4', 'invalid-encoding'],
    ['many fields', '\u0000\u0000\u0000\u0000\u0000\u0000', 'Invalid SASL/PLAIN response: expected 3 tokens, got 4', 'invalid-encoding'],
    ['empty token', '', 'Invalid SASL/PLAIN response: expected 3 tokens, got 1', 'invalid-encoding'],
  ])('refuses %s', (_what, token, message, reason) => {
    const step = run(token);
    expect(step).toMatchObject({ kind: 'failure', errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, clientMessage: message, reason });
  });

  test('refuses invalid UTF-8', () => {
    const step = run(Uint8Array.from([0, 0x61, 0, 0xff, 0xfe]));
    expect(step).toMatchObject({ kind: 'failure', reason: 'invalid-encoding' });
  });

  test('one exchange per instance: a token after the outcome is ILLEGAL_SASL_STATE', () => {
    const ok = new PlainSaslServer(creds);
    expect(ok.evaluate(tok('\u0000alice\u0000alice-secret')).kind).toBe('success');
    expect(ok.evaluate(tok('\u0000alice\u0000alice-secret'))).toMatchObject({ kind: 'failure', errorCode: ErrorCode.ILLEGAL_SASL_STATE });
    const failed = new PlainSaslServer(creds);
    expect(failed.evaluate(tok('\u0000alice\u0000nope')).kind).toBe('failure');
    // A retry on the same exchange must not be a second guess.
    expect(failed.evaluate(tok('\u0000alice\u0000alice-secret'))).toMatchObject({ kind: 'failure', errorCode: ErrorCode.ILLEGAL_SASL_STATE });
  });

  test('the detail for the log names the user; the client message does not', () => {
    const step = run('\u0000mallory\u0000x');
    if (step.kind !== 'failure') throw new Error('expected failure');
    expect(step.detail).toContain('mallory');
    expect(step.clientMessage).not.toContain('mallory');
  });

  test('an empty credential table lets nobody in', () => {
    const none = new PlainSaslServer(new StaticPlainCredentials({}));
    expect(none.evaluate(tok('\u0000\u0000')).kind).toBe('failure');
    expect(new PlainSaslServer(new StaticPlainCredentials({})).evaluate(tok('\u0000a\u0000b')).kind).toBe('failure');
  });
});

describe('StaticPlainCredentials', () => {
  test('matches only the exact password of an existing user', () => {
    expect(creds.passwordMatches('alice', 'alice-secret')).toBe(true);
    expect(creds.passwordMatches('alice', '')).toBe(false);
    expect(creds.passwordMatches('nobody', '')).toBe(false);
    // The unknown-user sentinel (32 zero bytes) is not a password anyone can send to get in.
    expect(creds.passwordMatches('nobody', '\u0000'.repeat(32))).toBe(false);
    expect(creds.size).toBe(3);
  });
});
