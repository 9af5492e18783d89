import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { BrokerConnection } from '../connection.ts';
import { ConnectionError } from '../errors.ts';
import { FakeBroker } from '../testing/fake-broker.ts';

const base = { clientId: 'test', connectTimeoutMs: 2_000, requestTimeoutMs: 2_000 };
let broker: FakeBroker | null = null;

afterEach(async () => {
  await broker?.stop();
  broker = null;
});

describe('SASL on a BrokerConnection', () => {
  it('sends SaslHandshake v1 then the PLAIN token in SaslAuthenticate, after ApiVersions', async () => {
    broker = await FakeBroker.start({
      handlers: {
        [ApiKey.SaslHandshake]: () => ({ errorCode: 0, mechanisms: ['PLAIN'] }),
        [ApiKey.SaslAuthenticate]: () => ({ errorCode: 0, errorMessage: null, authBytes: new Uint8Array(), sessionLifetimeMs: 0 }),
      },
    });
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, { ...base, sasl: { mechanism: 'PLAIN', username: 'broker', password: 's3cret' } });
    try {
      expect(broker.received.map((r) => r.header.apiKey)).toEqual([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);
      const [hello] = broker.requestsOf(ApiKey.SaslHandshake);
      expect(hello.header.apiVersion).toBe(1);
      expect(hello.body.mechanism).toBe('PLAIN');
      const [token] = broker.requestsOf(ApiKey.SaslAuthenticate);
      expect(Buffer.from(token.body.authBytes).toString()).toBe('\0broker\0s3cret');
    } finally {
      conn.close();
    }
  });

  it('fails the open with the broker reason when the credentials are refused', async () => {
    broker = await FakeBroker.start({
      handlers: {
        [ApiKey.SaslHandshake]: () => ({ errorCode: 0, mechanisms: ['PLAIN'] }),
        [ApiKey.SaslAuthenticate]: () => ({
          errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
          errorMessage: 'Authentication failed: Invalid username or password',
          authBytes: new Uint8Array(),
          sessionLifetimeMs: 0,
        }),
      },
    });
    const open = BrokerConnection.open('127.0.0.1', broker.port, { ...base, sasl: { mechanism: 'PLAIN', username: 'x', password: 'y' } });
    await expect(open).rejects.toThrow(ConnectionError);
    await expect(open).rejects.toThrow(/PLAIN authentication as x failed: Authentication failed: Invalid username or password/);
  });

  it('names the offered mechanisms when the broker does not enable the one asked for', async () => {
    broker = await FakeBroker.start({
      handlers: { [ApiKey.SaslHandshake]: () => ({ errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['SCRAM-SHA-512'] }) },
    });
    const open = BrokerConnection.open('127.0.0.1', broker.port, { ...base, sasl: { mechanism: 'PLAIN', username: 'x', password: 'y' } });
    await expect(open).rejects.toThrow(/does not enable SASL mechanism PLAIN on this listener \(it offers: SCRAM-SHA-512\)/);
  });
});
