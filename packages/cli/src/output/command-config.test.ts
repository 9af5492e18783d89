import { UsageError } from '@sluice/client';
import { describe, expect, it } from 'vitest';
import { clientOptionsFromProperties, parseClientProperties } from './command-config.ts';

describe('--command-config', () => {
  it('reads Java properties: separators, comments, continuations, escapes', () => {
    const props = parseClientProperties(
      '# comment\n! also\nclient.id = app\nrequest.timeout.ms: 5000\nsasl.jaas.config=a \\\n  b\nkey\\=with\\:colon=v\\tx\nempty\n',
    );
    expect([...props]).toEqual([
      ['client.id', 'app'],
      ['request.timeout.ms', '5000'],
      ['sasl.jaas.config', 'a b'],
      ['key=with:colon', 'v\tx'],
      ['empty', ''],
    ]);
  });

  it('applies what the client supports and warns about the rest, as Kafka clients do', () => {
    const warnings: string[] = [];
    const options = clientOptionsFromProperties(
      parseClientProperties(
        'client.id=app\nrequest.timeout.ms=5000\nsocket.connection.setup.timeout.ms=700\nsecurity.protocol=plaintext\nacks=all\nssl.truststore.location=/x\n',
      ),
      (m) => warnings.push(m),
    );
    expect(options).toEqual({ clientId: 'app', requestTimeoutMs: 5000, connectTimeoutMs: 700 });
    expect(warnings).toEqual([
      "The configuration 'acks' was supplied but isn't a known config.",
      "The configuration 'ssl.truststore.location' was supplied but isn't used (security.protocol is PLAINTEXT).",
    ]);
  });

  it('refuses TLS/SASL and bad numbers with usage errors', () => {
    for (const text of ['security.protocol=SSL', 'security.protocol=SASL_PLAINTEXT', 'request.timeout.ms=soon', 'request.timeout.ms=0']) {
      expect(() => clientOptionsFromProperties(parseClientProperties(text), () => {})).toThrow(UsageError);
    }
  });
});
