import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { BrokerConnection } from './connection.ts';
import { ConnectionError, RequestTimeoutError, UnsupportedApiError } from './errors.ts';
import { AsVersion, FakeBroker } from './testing/fake-broker.ts';

const options = { clientId: 'test', clientSoftwareName: 'sluice-cli', connectTimeoutMs: 2_000, requestTimeoutMs: 2_000 };
let broker: FakeBroker | null = null;

afterEach(async () => {
  await broker?.stop();
  broker = null;
});

describe('BrokerConnection', () => {
  it('opens with ApiVersions and picks the highest version both sides speak', async () => {
    broker = await FakeBroker.start({
      apiVersions: [
        { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 9 },
        { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 5 },
        { apiKey: ApiKey.Fetch, minVersion: 0, maxVersion: 99 },
        { apiKey: ApiKey.Produce, minVersion: 12, maxVersion: 15 },
      ],
    });
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, options);
    try {
      const hello = broker.requestsOf(ApiKey.ApiVersions);
      expect(hello).toHaveLength(1);
      expect(hello[0].header.apiVersion).toBe(5); // our highest (the broker's is higher)
      expect(hello[0].body.clientSoftwareName).toBe('sluice-cli');
      expect(conn.version(ApiKey.Metadata)).toBe(5); // the broker's max is lower
      expect(conn.version(ApiKey.Fetch)).toBe(13); // ours is lower
      expect(conn.supports(ApiKey.Produce)).toBe(false); // no overlap (ours 3-11)
      expect(() => conn.version(ApiKey.Produce)).toThrow(UnsupportedApiError);
      expect(() => conn.version(ApiKey.CreateTopics)).toThrow(/does not serve it/);
    } finally {
      conn.close();
    }
  });

  it('names itself sluice-client in ApiVersions unless told otherwise', async () => {
    broker = await FakeBroker.start({});
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, { clientId: 'test', connectTimeoutMs: 2_000, requestTimeoutMs: 2_000 });
    try {
      const hello = broker.requestsOf(ApiKey.ApiVersions);
      expect(hello[0].body.clientSoftwareName).toBe('sluice-client');
      expect(hello[0].body.clientSoftwareVersion).toBe('0.1.0');
    } finally {
      conn.close();
    }
  });

  it("retries ApiVersions at the broker's version after an UNSUPPORTED_VERSION answer in v0", async () => {
    const ranges = [
      { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 2 },
      { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 8 },
    ];
    broker = await FakeBroker.start({
      apiVersions: ranges,
      handlers: {
        [ApiKey.ApiVersions]: (req) =>
          req.header.apiVersion > 2
            ? new AsVersion(0, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: [ranges[0]] })
            : { errorCode: 0, apiKeys: ranges, throttleTimeMs: 0 },
      },
    });
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, options);
    try {
      expect(broker.requestsOf(ApiKey.ApiVersions).map((r) => r.header.apiVersion)).toEqual([5, 2]);
      expect(conn.version(ApiKey.Metadata)).toBe(8);
    } finally {
      conn.close();
    }
  });

  it('matches pipelined answers to their requests', async () => {
    broker = await FakeBroker.start({
      handlers: {
        [ApiKey.Metadata]: async (req) => {
          // The later requests' handlers finish first; answers must still pair up by id.
          const name = req.body.topics![0].name as string;
          await new Promise((r) => setTimeout(r, 30 - Number(name.slice(1)) * 10));
          return { brokers: [], clusterId: null, controllerId: -1, topics: [{ errorCode: 0, name, partitions: [] }] };
        },
      },
    });
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, options);
    try {
      const answers = await Promise.all(['t0', 't1', 't2'].map((name) => conn.request(ApiKey.Metadata, { topics: [{ name }] })));
      expect(answers.map((a) => a.topics[0].name)).toEqual(['t0', 't1', 't2']);
    } finally {
      conn.close();
    }
  });

  it('fails a request the broker never answers, then refuses further requests', async () => {
    broker = await FakeBroker.start({ handlers: { [ApiKey.Metadata]: () => null } });
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, options);
    await expect(conn.request(ApiKey.Metadata, { topics: [] }, { timeoutMs: 100 })).rejects.toThrow(RequestTimeoutError);
    expect(conn.isOpen).toBe(false);
    await expect(conn.request(ApiKey.Metadata, { topics: [] })).rejects.toThrow(ConnectionError);
  });

  it('sends a request that gets no answer (acks=0) without waiting for one', async () => {
    broker = await FakeBroker.start({ handlers: { [ApiKey.Produce]: () => null } });
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, options);
    try {
      await conn.send(ApiKey.Produce, { acks: 0, timeoutMs: 1000, topicData: [] });
      await new Promise((r) => setTimeout(r, 50));
      expect(broker.requestsOf(ApiKey.Produce)).toHaveLength(1);
      expect(broker.requestsOf(ApiKey.Produce)[0].body.acks).toBe(0);
    } finally {
      conn.close();
    }
  });

  it('reports a refused connection as one clear ConnectionError with a hint', async () => {
    // Find a port nobody listens on: bind, note it, close.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const err = await BrokerConnection.open('127.0.0.1', port, options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).message).toBe(`127.0.0.1:${port}: cannot connect: connection refused`);
    expect((err as ConnectionError).hint).toMatch(/--bootstrap-server/);
  });

  it('fails pending requests when the broker closes the connection', async () => {
    broker = await FakeBroker.start({ handlers: { [ApiKey.Metadata]: () => null } });
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, options);
    const pending = conn.request(ApiKey.Metadata, { topics: [] });
    await new Promise((r) => setTimeout(r, 50));
    await broker.stop();
    broker = null;
    await expect(pending).rejects.toThrow(/closed by the broker/);
  });
});
