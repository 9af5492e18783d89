import { describe, expect, test } from 'vitest';
import { ScramClient, ScramClientError } from './scram-client.ts';

// RFC 7677 section 3: the SCRAM-SHA-256 example exchange.
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';

describe('ScramClient', () => {
  test('reproduces RFC 7677 example messages', () => {
    const c = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    expect(c.firstMessage()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(c.finalMessage(SERVER_FIRST)).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(() => c.verifyServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow();
  });

  test('refuses a wrong server signature, a server error, a foreign nonce and too few iterations', () => {
    const c = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    c.finalMessage(SERVER_FIRST);
    expect(() => c.verifyServerFinal('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(ScramClientError);
    expect(() => c.verifyServerFinal('e=invalid-proof')).toThrow(/invalid-proof/);
    const d = new ScramClient('SCRAM-SHA-512', 'user', 'pencil', 'abc');
    expect(() => d.finalMessage('r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).toThrow(/nonce/);
    expect(() => d.finalMessage('r=abc123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=100')).toThrow(/iterations/);
  });

  test('escapes , and = in the user name', () => {
    expect(new ScramClient('SCRAM-SHA-512', 'a,b=c', 'p', 'n').firstMessage()).toBe('n,,n=a=2Cb=3Dc,r=n');
  });
});
