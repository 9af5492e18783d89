// Security with real clients over TLS (issue 13's "Done when"), against one broker process started
// from a Kafka-style server.properties whose TLS and SASL settings are all in the per-listener
// form (`listener.name.<listener>.<key>`: no broker-wide key store, trust store or client auth,
// so each TLS listener works only through its own keys):
//   PLAINTEXT  the admin listener; User:ANONYMOUS is in super.users.
//   SASL_SSL   PLAIN, SCRAM-SHA-512 and OAUTHBEARER (JWKS file), PKCS12 key store.
//   SSL        mTLS (ssl.client.auth=required), PEM key store, principal from the certificate.
// Kafka's own tools over the admin listener create a SCRAM user (kafka-configs) and add, list and
// remove ACLs (kafka-acls); that user, through kcat and the Java consumer over SASL_SSL, is refused
// with TOPIC_AUTHORIZATION_FAILED without a topic ACL, reads with it, and a wrong password is
// refused. The Java client also produces and consumes over mTLS, and produces with OAUTHBEARER
// reading a test-signed JWT from a file; kafkajs logs in over SASL_SSL with each mechanism.
// Certificates and keys are made at test time.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, type KafkaConfig, logLevel, ResourcePatternTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ClientCommand, type ClientRun, consumedRecords, ensureJavaClient, runClient } from './clients/support.ts';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { KAFKA_TOOL, kafkaToolsLibs, runKafkaTool } from './support/kafka-tools.ts';
import { kcat, requireKcat } from './support/kcat.ts';
import { makeTestJwtIssuer } from './support/test-jwt.ts';
import { listenerPort, makeTestPki, STORE_PASSWORD, type TestPki } from './support/tls-certs.ts';

const TOPIC = 'secured';
const RECORDS = ['one', 'two', 'three'];
const AUDIENCE = 'sluice-test';
const ISSUER = 'https://issuer.sluice.test';
// JVMs (Kafka's tools, the Java client) start slowly on a loaded 2-core machine.
const JVM_TEST_TIMEOUT_MS = 180_000;

let pki: TestPki;
let broker: BrokerProcess;
let libs: string;
let java: ClientCommand;
let saslSsl: string;
let ssl: string;
/** Signs the OAUTHBEARER tokens; its JWKS is the broker's sasl.oauthbearer.jwks.endpoint.url. */
const issuer = makeTestJwtIssuer();

/** The server.properties an operator would copy from a Kafka broker (paths filled in). */
function serverProperties(jwksFile: string): string {
  return [
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users=User:ANONYMOUS',
    'allow.everyone.if.no.acl.found=false',
    '',
    '# SASL_SSL: PLAIN, SCRAM-SHA-512 and OAUTHBEARER over TLS with a PKCS12 key store.',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512,OAUTHBEARER',
    'listener.name.sasl_ssl.ssl.keystore.type=PKCS12',
    `listener.name.sasl_ssl.ssl.keystore.location=${pki.serverP12}`,
    `listener.name.sasl_ssl.ssl.keystore.password=${STORE_PASSWORD}`,
    `listener.name.sasl_ssl.ssl.key.password=${STORE_PASSWORD}`,
    'listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_frank="frank-secret";',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
    'listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
    // The JWKS URL in the per-mechanism form Kafka's OAuthBearerValidatorCallbackHandler documents.
    `listener.name.sasl_ssl.oauthbearer.sasl.oauthbearer.jwks.endpoint.url=${pathToFileURL(jwksFile).href}`,
    `listener.name.sasl_ssl.sasl.oauthbearer.expected.audience=${AUDIENCE}`,
    `listener.name.sasl_ssl.sasl.oauthbearer.expected.issuer=${ISSUER}`,
    '',
    '# SSL: mutual TLS with a PEM key store; the principal is the certificate CN.',
    'listener.name.ssl.ssl.keystore.type=PEM',
    `listener.name.ssl.ssl.keystore.location=${pki.serverPemFile}`,
    'listener.name.ssl.ssl.truststore.type=PEM',
    `listener.name.ssl.ssl.truststore.location=${pki.caPem}`,
    'listener.name.ssl.ssl.client.auth=required',
    'listener.name.ssl.ssl.principal.mapping.rules=RULE:^CN=([^,]+),.*$/$1/,DEFAULT',
    '',
    '# Java-only TLS knobs Kafka configurations carry (accepted, no effect on rustls).',
    'ssl.protocol=TLSv1.3',
    'ssl.enabled.protocols=TLSv1.2,TLSv1.3',
    'ssl.keymanager.algorithm=SunX509',
    'ssl.trustmanager.algorithm=PKIX',
    'ssl.endpoint.identification.algorithm=https',
    '',
  ].join('\n');
}

/** A Java client whose every Kafka client starts from `settings` (sluice.client.config). */
function javaWith(name: string, settings: Record<string, string>, systemProperties: string[] = []): ClientCommand {
  const file = join(pki.dir, `${name}.properties`);
  writeFileSync(
    file,
    Object.entries(settings)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  // C1 and the serial collector: these JVMs live seconds on a shared 2-core machine.
  return { ...java, args: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', `-Dsluice.client.config=${file}`, ...systemProperties, ...java.args] };
}

const javaTrust = () => ({ 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': pki.caPem });
const javaScram = (user: string, password: string) =>
  javaWith(`scram-${user}-${password}`, {
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`,
    ...javaTrust(),
  });

const kcatScram = (user: string, password: string) => [
  '-X',
  'security.protocol=SASL_SSL',
  '-X',
  `ssl.ca.location=${pki.caPem}`,
  '-X',
  'sasl.mechanisms=SCRAM-SHA-512',
  '-X',
  `sasl.username=${user}`,
  '-X',
  `sasl.password=${password}`,
];
/** Consumes TOPIC from the start without a group; `-q` leaves only errors on stderr, not librdkafka's log. */
const kcatConsume = (user: string, password: string, quiet = true) =>
  kcat(['-b', saslSsl, ...kcatScram(user, password), '-C', '-t', TOPIC, '-e', ...(quiet ? ['-q'] : []), '-f', '%s\n'], undefined, 60_000);
const lines = (text: string) => text.split('\n').filter((l) => l !== '');

/** Runs one of Kafka's tools against the admin listener; fails with its output unless it exits 0. */
async function kafkaTool(mainClass: string, args: string[]): Promise<string> {
  const r = await runKafkaTool(libs, mainClass, ['--bootstrap-server', broker.bootstrap, ...args], { timeoutMs: 120_000 });
  expect(r.code, `${mainClass} ${args.join(' ')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const failure = (run: ClientRun) => `exit ${run.code}\n${run.stderr.slice(0, 3000)}`;

beforeAll(async () => {
  requireKcat();
  libs = kafkaToolsLibs();
  java = ensureJavaClient();
  pki = makeTestPki();
  const jwksFile = join(pki.dir, 'jwks.json');
  writeFileSync(jwksFile, issuer.jwks);
  const config = join(pki.dir, 'server.properties');
  writeFileSync(config, serverProperties(jwksFile));
  broker = await startBroker({ configFile: config, overrides: { listeners: 'PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0' } });
  saslSsl = `localhost:${listenerPort(broker.output(), 'SASL_SSL')}`;
  ssl = `localhost:${listenerPort(broker.output(), 'SSL')}`;
  const produced = await kcat(['-b', broker.bootstrap, '-P', '-t', TOPIC], `${RECORDS.join('\n')}\n`);
  expect(produced.code, produced.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
  pki?.remove();
});

describe("Kafka's tools over the admin listener; a SCRAM user over SASL_SSL", () => {
  test(
    'kafka-configs creates a SCRAM-SHA-512 user; without a topic ACL kcat and the Java consumer get TOPIC_AUTHORIZATION_FAILED',
    async () => {
      const created = await kafkaTool(KAFKA_TOOL.configs, [
        '--alter',
        '--entity-type',
        'users',
        '--entity-name',
        'erin',
        '--add-config',
        'SCRAM-SHA-512=[iterations=4096,password=erin-secret]',
      ]);
      expect(created).toContain('Completed updating config for user erin.');
      // The group only: what is refused below is the topic.
      await kafkaTool(KAFKA_TOOL.acls, ['--add', '--allow-principal', 'User:erin', '--operation', 'Read', '--group', 'erin-group']);
      const [viaKcat, viaJava] = await Promise.all([
        kcatConsume('erin', 'erin-secret'),
        runClient(javaScram('erin', 'erin-secret'), ['consume', saslSsl, TOPIC, 'erin-group', String(RECORDS.length), '30000'], 120_000),
      ]);
      expect(viaKcat.code).not.toBe(0);
      expect(viaKcat.stderr).toMatch(/Topic authorization failed/);
      expect(viaJava.code, failure(viaJava)).toBe(1);
      expect(viaJava.stderr).toMatch(/TopicAuthorizationException: Not authorized to access topics: \[secured\]/);
    },
    JVM_TEST_TIMEOUT_MS,
  );

  test(
    'kafka-acls adds and lists READ on the topic; then both read; a wrong password is refused',
    async () => {
      await kafkaTool(KAFKA_TOOL.acls, ['--add', '--allow-principal', 'User:erin', '--operation', 'Read', '--topic', TOPIC]);
      const listed = await kafkaTool(KAFKA_TOOL.acls, ['--list', '--topic', TOPIC]);
      expect(listed).toContain(`ResourcePattern(resourceType=TOPIC, name=${TOPIC}, patternType=LITERAL)`);
      expect(listed).toContain('(principal=User:erin, host=*, operation=READ, permissionType=ALLOW)');
      const [viaKcat, viaJava, wrongKcat, wrongJava] = await Promise.all([
        kcatConsume('erin', 'erin-secret'),
        runClient(javaScram('erin', 'erin-secret'), ['consume', saslSsl, TOPIC, 'erin-group', String(RECORDS.length), '60000'], 120_000),
        kcatConsume('erin', 'not-her-password', false),
        runClient(javaScram('erin', 'not-her-password'), ['consume', saslSsl, TOPIC, 'erin-group', '1', '30000'], 120_000),
      ]);
      expect(viaKcat.code, viaKcat.stderr).toBe(0);
      expect(lines(viaKcat.stdout)).toEqual(RECORDS);
      expect(viaJava.code, failure(viaJava)).toBe(0);
      expect(consumedRecords(viaJava).map((r) => r.value)).toEqual(RECORDS);
      expect(wrongKcat.code).not.toBe(0);
      expect(wrongKcat.stderr).toMatch(/SASL authentication error: Authentication failed/);
      expect(wrongJava.code).toBe(1);
      expect(wrongJava.stderr).toMatch(/SaslAuthenticationException/);
      const metrics = await (await fetch(broker.metricsUrl!)).text();
      const failed = /sluice_authentication_failure_total\{listener="SASL_SSL",mechanism="SCRAM-SHA-512",reason="invalid-proof"\} (\d+)/.exec(metrics);
      expect(Number(failed?.[1])).toBeGreaterThanOrEqual(2);
      expect(metrics).toMatch(/sluice_authentication_success_total\{listener="SASL_SSL",mechanism="SCRAM-SHA-512"\} [1-9]/);
    },
    JVM_TEST_TIMEOUT_MS,
  );

  test(
    'kafka-acls removes the ACL; the user is refused again',
    async () => {
      await kafkaTool(KAFKA_TOOL.acls, ['--remove', '--force', '--allow-principal', 'User:erin', '--operation', 'Read', '--topic', TOPIC]);
      const listed = await kafkaTool(KAFKA_TOOL.acls, ['--list', '--topic', TOPIC]);
      expect(listed).not.toContain('User:erin');
      const denied = await kcatConsume('erin', 'erin-secret');
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/Topic authorization failed/);
    },
    JVM_TEST_TIMEOUT_MS,
  );
});

describe('the Java client over mTLS and with OAUTHBEARER', () => {
  test(
    'mTLS (PEM key store): the certificate principal produces and consumes; OAUTHBEARER (a JWT read from a file) produces',
    async () => {
      await kafkaTool(KAFKA_TOOL.acls, [
        '--add',
        '--allow-principal',
        'User:alice',
        '--allow-principal',
        'User:oauth-client',
        '--producer',
        '--consumer',
        '--topic',
        'tls-clients',
        '--group',
        'alice-group',
      ]);
      const clientPem = join(pki.dir, 'client-all.pem');
      writeFileSync(clientPem, readFileSync(pki.clientKey, 'utf8') + readFileSync(pki.clientCert, 'utf8'));
      const mtls = javaWith('mtls', { 'security.protocol': 'SSL', 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': clientPem, ...javaTrust() });

      const now = Math.floor(Date.now() / 1000);
      const tokenFile = join(pki.dir, 'token.jwt');
      writeFileSync(tokenFile, issuer.token({ sub: 'oauth-client', iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 3600, scope: 'kafka' }));
      const tokenUrl = pathToFileURL(tokenFile).href;
      const oauth = javaWith(
        'oauth',
        {
          'security.protocol': 'SASL_SSL',
          'sasl.mechanism': 'OAUTHBEARER',
          'sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
          'sasl.login.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler',
          'sasl.oauthbearer.token.endpoint.url': tokenUrl,
          ...javaTrust(),
        },
        // Kafka 4 clients read token URLs only from the URLs this system property allows.
        [`-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${tokenUrl}`],
      );

      const [viaMtls, viaOauth] = await Promise.all([
        runClient(mtls, ['produce', ssl, 'tls-clients', '5', 'none', 'true', '-mtls'], 120_000),
        runClient(oauth, ['produce', saslSsl, 'tls-clients', '5', 'zstd', 'true', '-oauth'], 120_000),
      ]);
      expect(viaMtls.code, failure(viaMtls)).toBe(0);
      expect(viaOauth.code, failure(viaOauth)).toBe(0);

      const consumed = await runClient(mtls, ['consume', ssl, 'tls-clients', 'alice-group', '10', '60000'], 120_000);
      expect(consumed.code, failure(consumed)).toBe(0);
      expect(
        consumedRecords(consumed)
          .map((r) => r.value)
          .sort(),
      ).toEqual([...Array.from({ length: 5 }, (_, i) => `value-none-${i}-mtls`), ...Array.from({ length: 5 }, (_, i) => `value-zstd-${i}-oauth`)].sort());
      const metrics = await (await fetch(broker.metricsUrl!)).text();
      expect(metrics).toMatch(/sluice_authentication_success_total\{listener="SASL_SSL",mechanism="OAUTHBEARER"\} [1-9]/);
    },
    JVM_TEST_TIMEOUT_MS,
  );
});

describe('kafkajs over SASL_SSL', () => {
  const kafka = (sasl: KafkaConfig['sasl'], bootstrap = saslSsl) =>
    new Kafka({
      clientId: 'sasl-ssl-kafkajs',
      brokers: [bootstrap],
      ssl: bootstrap === saslSsl ? { ca: [readFileSync(pki.caPem, 'utf8')] } : false,
      sasl,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
  async function produceAs(sasl: KafkaConfig['sasl'], value: string): Promise<void> {
    const producer = kafka(sasl).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: 'kafkajs-tls', messages: [{ value }] });
    } finally {
      await producer.disconnect();
    }
  }
  const now = () => Math.floor(Date.now() / 1000);
  const oauth = (claims: Record<string, unknown>) => ({
    mechanism: 'oauthbearer' as const,
    oauthBearerProvider: async () => ({ value: issuer.token(claims) }),
  });

  test('PLAIN, SCRAM-SHA-512 and OAUTHBEARER produce once granted; a token for another audience is refused', async () => {
    // ACLs through kafkajs's admin on the PLAINTEXT listener (User:ANONYMOUS is a super user).
    const admin = kafka(undefined, broker.bootstrap).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'kafkajs-tls', numPartitions: 1 }] });
      await admin.createAcls({
        acl: ['User:frank', 'User:erin', 'User:oauth-client'].map((principal) => ({
          resourceType: AclResourceTypes.TOPIC,
          resourceName: 'kafkajs-tls',
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal,
          host: '*',
          operation: AclOperationTypes.WRITE,
          permissionType: AclPermissionTypes.ALLOW,
        })),
      });
    } finally {
      await admin.disconnect();
    }
    await produceAs({ mechanism: 'plain', username: 'frank', password: 'frank-secret' }, 'plain');
    await produceAs({ mechanism: 'scram-sha-512', username: 'erin', password: 'erin-secret' }, 'scram');
    await produceAs(oauth({ sub: 'oauth-client', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 600 }), 'oauthbearer');
    await expect(produceAs(oauth({ sub: 'oauth-client', iss: ISSUER, aud: 'someone-else', iat: now(), exp: now() + 600 }), 'x')).rejects.toThrow();
    await expect(produceAs({ mechanism: 'plain', username: 'frank', password: 'wrong' }, 'x')).rejects.toThrow(/SASL|authentication/i);
    const read = await kcat(['-b', broker.bootstrap, '-C', '-t', 'kafkajs-tls', '-e', '-q', '-f', '%s\n']);
    expect(lines(read.stdout)).toEqual(['plain', 'scram', 'oauthbearer']);
    const metrics = await (await fetch(broker.metricsUrl!)).text();
    expect(metrics).toMatch(/sluice_authentication_failure_total\{listener="SASL_SSL",mechanism="OAUTHBEARER",reason="[a-z-]+"\} [1-9]/);
  });
});
