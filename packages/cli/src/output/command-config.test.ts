import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('refuses security it cannot honour and bad numbers with usage errors', () => {
    for (const text of [
      'security.protocol=TLS',
      'security.protocol=SSL\nssl.truststore.type=JKS\nssl.truststore.location=/x.jks',
      'security.protocol=SASL_PLAINTEXT',
      'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN',
      'security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\nsasl.jaas.config=x required;',
      'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u";',
      'request.timeout.ms=soon',
      'request.timeout.ms=0',
    ]) {
      expect(() => clientOptionsFromProperties(parseClientProperties(text), () => {}), text).toThrow(UsageError);
    }
  });

  it('SSL / SASL_SSL / SASL_PLAINTEXT: a PEM trust store, the mechanism and the JAAS username and password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cc-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
    const warnings: string[] = [];
    const ssl = clientOptionsFromProperties(
      parseClientProperties(`security.protocol=SSL\nssl.truststore.location=${ca}\nssl.endpoint.identification.algorithm=https\n`),
      (m) => warnings.push(m),
    );
    expect(ssl.tls?.ca).toContain('ca');
    expect(ssl.sasl).toBeUndefined();
    expect(warnings).toEqual(["The configuration 'ssl.endpoint.identification.algorithm' was supplied but isn't used by the sluice command."]);
    const saslSsl = clientOptionsFromProperties(
      parseClientProperties(
        `security.protocol=sasl_ssl\nssl.truststore.type=PEM\nssl.truststore.location=${ca}\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="erin" password="p=w;d";\n`,
      ),
      () => {},
    );
    expect(saslSsl.tls?.ca).toContain('ca');
    expect(saslSsl.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'erin', password: 'p=w;d' });
    const plain = clientOptionsFromProperties(
      parseClientProperties(
        'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="b";',
      ),
      () => {},
    );
    expect(plain).toEqual({ sasl: { mechanism: 'PLAIN', username: 'a', password: 'b' } });
  });
});
