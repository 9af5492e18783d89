// Hostile tokens into the SASL mechanisms: random bytes, mutations of valid messages, and huge
// tokens must always produce a step (never throw, never succeed without the password), and must
// not take time that grows badly with the input (the parsers are linear regular expressions).
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { JwksKeySet, JwtTokenValidator } from './jwt.ts';
import { OAuthBearerSaslServer } from './oauthbearer.ts';
import { PlainSaslServer, StaticPlainCredentials } from './plain.ts';
import { credentialFromPassword, SCRAM_SHA_256, SCRAM_SHA_512 } from './scram-credential.ts';
import { ScramSaslServer } from './scram-server.ts';
import type { SaslServer, SaslStep } from './sasl-server.ts';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const plainCreds = new StaticPlainCredentials({ alice: 'alice-secret' });
const scramCreds = {
  scramCredential: (u: string, m: string) =>
    u === 'alice' ? credentialFromPassword(m === 'SCRAM-SHA-512' ? SCRAM_SHA_512 : SCRAM_SHA_256, 'alice-secret', 4096, Buffer.alloc(16, 7)) : undefined,
};

// OAUTHBEARER with a JWKS whose private key nobody has: no token can validate.
const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const oauth = new JwtTokenValidator(JwksKeySet.fromJson(JSON.stringify({ keys: [{ ...(publicKey.export({ format: 'jwk' }) as object), kid: 'k' }] })));
const fakeJwt = `${Buffer.from('{"alg":"ES256","kid":"k"}').toString('base64url')}.${Buffer.from('{"sub":"a","exp":9999999999,"iat":1}').toString('base64url')}.${'A'.repeat(86)}`;

// [mechanism, new server, seed tokens, tokens that legitimately succeed (the right password)]
const servers: Array<[string, () => SaslServer, string[], string[]]> = [
  [
    'PLAIN',
    () => new PlainSaslServer(plainCreds),
    ['\u0000alice\u0000alice-secret', 'alice\u0000alice\u0000x'],
    ['\u0000alice\u0000alice-secret', 'alice\u0000alice\u0000alice-secret'],
  ],
  [
    'SCRAM-SHA-256',
    () => new ScramSaslServer(SCRAM_SHA_256, scramCreds, { nonce: () => 'S' }),
    ['n,,n=alice,r=abc', 'n,a=alice,n=alice,r=abc,tokenauth=false', 'c=biws,r=abcS,p=AAAA'],
    [],
  ],
  ['SCRAM-SHA-512', () => new ScramSaslServer(SCRAM_SHA_512, scramCreds, { nonce: () => 'S' }), ['n,,n=alice,r=abc', 'c=biws,r=abcS,p=AAAA'], []],
  [
    'OAUTHBEARER',
    () => new OAuthBearerSaslServer(oauth),
    [`n,,\u0001auth=Bearer ${fakeJwt}\u0001\u0001`, 'n,a=a,\u0001x=y\u0001auth=Bearer a.b.c\u0001\u0001'],
    [],
  ],
];

function mutate(seed: Uint8Array, rnd: () => number): Uint8Array {
  const out = Array.from(seed);
  const edits = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rnd() * (out.length + 1));
    const byte = rnd() < 0.5 ? Math.floor(rnd() * 256) : (',=\u0000/+n'.charCodeAt(Math.floor(rnd() * 7)) as number);
    const kind = rnd();
    if (kind < 0.33) out.splice(at, 0, byte);
    else if (kind < 0.66) out.splice(at, 1);
    else out[at] = byte;
  }
  return Uint8Array.from(out);
}

describe.each(servers)('%s under hostile input', (_name, make, seeds, valid) => {
  test('3000 random and mutated tokens, one and two steps deep: always a step, success only with the password', () => {
    const rnd = prng(7);
    for (let i = 0; i < 3000; i++) {
      const server = make();
      const seed = Buffer.from(seeds[i % seeds.length] as string);
      const token = i % 3 === 0 ? Uint8Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)) : mutate(seed, rnd);
      let step: SaslStep = server.evaluate(token);
      if (step.kind === 'challenge') step = server.evaluate(mutate(Buffer.from('c=biws,r=abcS,p=AAAA'), rnd));
      if (step.kind === 'success') expect(valid).toContain(Buffer.from(token).toString('utf8'));
      expect(['challenge', 'failure', 'success']).toContain(step.kind);
    }
  });

  test('a 10 MB token is refused quickly', () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
    for (const prefix of ['', 'n,,n=', '\u0000', 'n,,n=alice,r=']) {
      const token = Buffer.concat([Buffer.from(prefix), big, Buffer.from(',')]);
      const start = performance.now();
      expect(make().evaluate(token).kind).toBe('failure');
      expect(performance.now() - start).toBeLessThan(2000);
    }
  });

  test('worst cases just under the 64 KiB message caps do not overflow the pattern engine', () => {
    const escapes = '=2C'.repeat(21_000);
    const proof = 'A'.repeat(64_000);
    for (const text of [
      `n,,n=${escapes},r=abc`,
      `n,a=${escapes},n=a,r=abc`,
      `n,,n=a,r=abc${',x=y'.repeat(15_000)}`,
      `c=biws,r=abcS,p=${proof}`,
      `c=${proof},r=abcS,p=AAAA`,
      `n,a=${escapes},\u0001auth=Bearer x\u0001\u0001`,
      `n,,\u0001${'k=v\u0001'.repeat(15_000)}\u0001`,
      `n,,\u0001auth=Bearer ${proof}\u0001\u0001`,
    ]) {
      const server = make();
      if (text.startsWith('c=')) server.evaluate(Buffer.from('n,,n=alice,r=abc'));
      const token = Buffer.from(text);
      const start = performance.now();
      // Refused outright, or (OAUTHBEARER, a well-formed but invalid token) the error challenge.
      expect(['failure', 'challenge']).toContain(server.evaluate(token).kind);
      expect(performance.now() - start).toBeLessThan(2000);
    }
  });
});
