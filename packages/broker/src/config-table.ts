// The broker's configuration table: every key Sluice reads, with Kafka's names, types, defaults,
// validators and docs (Kafka's KafkaConfig/LogConfig definitions), the SASL/authorizer and SSL
// sections included. config.ts parses and validates values against it (BrokerConfig).

import type { ConfigDef, ConfigValue } from './config.ts';
import { metricsListenerProblem } from './metrics-listener.ts';
import { authorizerEnabled, parseSuperUsers } from './security/acl/authorizer-config.ts';
import { DEFAULT_SECURITY_PROTOCOL_MAP, parseSecurityProtocolMap, SECURITY_PROTOCOLS } from './security/listener-security.ts';
import { SslPrincipalMapper } from './security/principal/ssl-principal-mapper.ts';
import { testFaultsProblem } from './test-faults.ts';

/**
 * Kafka's Long.MAX_VALUE ("never", "unlimited") as a JS number: every long above 2^53 - 1 parses
 * to this sentinel, and it prints as Kafka prints Long.MAX_VALUE (formatConfigValue), so the text
 * "9223372036854775807" round-trips to the same value.
 */
export const LONG_MAX = Number.MAX_SAFE_INTEGER;

const atLeast = (min: number) => (v: ConfigValue) => (typeof v === 'number' && v < min ? `must be >= ${min}` : null);
const between = (min: number, max: number) => (v: ConfigValue) => (typeof v === 'number' && (v < min || v > max) ? `must be between ${min} and ${max}` : null);
const oneOf =
  (...allowed: string[]) =>
  (v: ConfigValue) =>
    typeof v === 'string' && !allowed.includes(v) ? `must be one of ${allowed.join(', ')}` : null;
const listOf =
  (...allowed: string[]) =>
  (v: ConfigValue) =>
    Array.isArray(v) && v.some((item) => !allowed.includes(item)) ? `each item must be one of ${allowed.join(', ')}` : null;

const problemOf = (check: () => unknown) => {
  try {
    check();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
};
const sensitive = { sensitive: true, perListener: true } as const;

/**
 * Listeners, SASL and the authorizer (issue 13). Keys marked `perListener` may also be set as
 * `listener.name.<listener, lower case>.<key>`, which wins for that listener; `sasl.jaas.config`
 * and `connections.max.reauth.ms` also per mechanism, `listener.name.<l>.<mechanism>.<key>`
 * (Kafka's rules, security/listener-security.ts).
 */
const LISTENER_SASL_AUTHORIZER_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'listener.security.protocol.map',
    type: 'string',
    default: DEFAULT_SECURITY_PROTOCOL_MAP,
    doc: 'Listener name to security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL); the default maps each protocol name to itself.',
    validator: (v) => (typeof v === 'string' ? problemOf(() => parseSecurityProtocolMap(v)) : null),
  },
  {
    name: 'inter.broker.listener.name',
    type: 'string',
    default: null,
    doc: "Cluster mode: the listener brokers use between themselves (followers fetch from the leader's advertised endpoint of this name; PLAINTEXT only for now); must name a listener when set. Unset: the listener named after security.inter.broker.protocol, else the first listener.",
  },
  {
    name: 'security.inter.broker.protocol',
    type: 'string',
    default: 'PLAINTEXT',
    doc: "Cluster mode: Kafka's older form of inter.broker.listener.name (the listener of this name), used when that is unset.",
    validator: oneOf(...SECURITY_PROTOCOLS),
  },
  {
    name: 'sasl.enabled.mechanisms',
    type: 'list',
    default: ['GSSAPI'],
    perListener: true,
    doc: "SASL mechanisms a SASL listener serves: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (Kafka's default GSSAPI is refused at start on a SASL listener).",
  },
  {
    name: 'sasl.mechanism.inter.broker.protocol',
    type: 'string',
    default: 'GSSAPI',
    doc: 'Reserved for cluster mode: the mechanism brokers use between themselves.',
  },
  {
    name: 'sasl.server.max.receive.size',
    type: 'int',
    default: 524288,
    perListener: true,
    doc: 'Largest frame read on a SASL connection before it has authenticated; a larger one closes the connection.',
    validator: atLeast(1),
  },
  {
    name: 'connections.max.reauth.ms',
    type: 'long',
    default: 0,
    perListener: true,
    doc: 'KIP-368: a SASL session lasts at most this long (SessionLifetimeMs); the client must re-authenticate before. 0: no limit.',
    validator: atLeast(0),
  },
  {
    name: 'sasl.jaas.config',
    type: 'string',
    default: null,
    ...sensitive,
    doc: 'JAAS login configuration; PLAIN credentials come from PlainLoginModule\'s user_<name>="<password>" options (usually set per listener and mechanism: listener.name.<l>.plain.sasl.jaas.config).',
  },
  {
    name: 'sasl.oauthbearer.jwks.endpoint.url',
    type: 'string',
    default: null,
    perListener: true,
    doc: 'OAUTHBEARER: the JWKS (file: URL, or https on localhost) the token signatures are checked against.',
  },
  {
    name: 'sasl.oauthbearer.jwks.endpoint.refresh.ms',
    type: 'long',
    default: 3600000,
    perListener: true,
    doc: 'OAUTHBEARER: how often the JWKS is read again.',
    validator: atLeast(0),
  },
  { name: 'sasl.oauthbearer.expected.audience', type: 'list', default: [], perListener: true, doc: "OAUTHBEARER: a token's aud must contain one of these." },
  { name: 'sasl.oauthbearer.expected.issuer', type: 'string', default: null, perListener: true, doc: "OAUTHBEARER: a token's iss must equal this." },
  {
    name: 'sasl.oauthbearer.clock.skew.seconds',
    type: 'int',
    default: 30,
    perListener: true,
    doc: 'OAUTHBEARER: tolerated clock difference for exp, nbf and iat.',
    validator: atLeast(0),
  },
  { name: 'sasl.oauthbearer.sub.claim.name', type: 'string', default: 'sub', perListener: true, doc: 'OAUTHBEARER: the claim holding the principal name.' },
  { name: 'sasl.oauthbearer.scope.claim.name', type: 'string', default: 'scope', perListener: true, doc: 'OAUTHBEARER: the claim holding the scopes.' },
  {
    name: 'sluice.authentication.timeout.ms',
    type: 'long',
    default: 30000,
    perListener: true,
    doc: 'A SASL connection that has not authenticated this long after it opened (or after its re-authentication began) is closed.',
    validator: atLeast(1),
  },
  {
    name: 'authorizer.class.name',
    type: 'string',
    default: '',
    doc: "Empty: no authorization. org.apache.kafka.metadata.authorizer.StandardAuthorizer (or kafka.security.authorizer.AclAuthorizer): ACLs with Kafka's StandardAuthorizer semantics, stored in sluice-acls.json in the first log dir.",
    validator: (v) => (typeof v === 'string' ? problemOf(() => authorizerEnabled(v)) : null),
  },
  {
    name: 'super.users',
    type: 'string',
    default: '',
    doc: 'Principals allowed everything, separated by ";" (User:admin;User:ANONYMOUS).',
    validator: (v) => (typeof v === 'string' ? problemOf(() => parseSuperUsers(v)) : null),
  },
  {
    name: 'allow.everyone.if.no.acl.found',
    type: 'boolean',
    default: false,
    doc: 'With an authorizer: a resource no ACL applies to is open to everyone (default: denied).',
  },
];

/**
 * TLS (ssl.*), Kafka's names; every one may be set per listener. Validated here; the TLS listener
 * wiring consumes them (keystore/truststore as PEM or PKCS12).
 */
const SSL_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'ssl.keystore.type',
    type: 'string',
    default: 'JKS',
    perListener: true,
    doc: "PEM, PKCS12, or JKS (Kafka's default; read as PKCS12, as Java does since JDK 9 — a real JKS file is refused with the keytool command that converts it).",
    validator: oneOf('JKS', 'PKCS12', 'PEM'),
  },
  {
    name: 'ssl.keystore.location',
    type: 'string',
    default: null,
    perListener: true,
    doc: 'The server key store file (PKCS12, or PEM holding the key and the certificate chain).',
  },
  { name: 'ssl.keystore.password', type: 'string', default: null, ...sensitive, doc: 'Password of the key store file.' },
  { name: 'ssl.key.password', type: 'string', default: null, ...sensitive, doc: 'Password of the private key in the key store.' },
  { name: 'ssl.keystore.certificate.chain', type: 'string', default: null, ...sensitive, doc: 'ssl.keystore.type=PEM: the certificate chain, inline PEM.' },
  {
    name: 'ssl.keystore.key',
    type: 'string',
    default: null,
    ...sensitive,
    doc: 'ssl.keystore.type=PEM: the private key, inline PEM (PKCS#8; encrypted when ssl.key.password is set).',
  },
  {
    name: 'ssl.truststore.type',
    type: 'string',
    default: 'JKS',
    perListener: true,
    doc: 'PEM or PKCS12: the CA certificates client certificates are checked against.',
    validator: oneOf('JKS', 'PKCS12', 'PEM'),
  },
  { name: 'ssl.truststore.location', type: 'string', default: null, perListener: true, doc: 'The trust store file.' },
  { name: 'ssl.truststore.password', type: 'string', default: null, ...sensitive, doc: 'Password of the trust store file.' },
  { name: 'ssl.truststore.certificates', type: 'string', default: null, ...sensitive, doc: 'ssl.truststore.type=PEM: the trusted certificates, inline PEM.' },
  {
    name: 'ssl.client.auth',
    type: 'string',
    default: 'none',
    perListener: true,
    doc: 'Client certificates (mutual TLS): none, requested or required.',
    validator: oneOf('none', 'requested', 'required'),
  },
  {
    name: 'ssl.enabled.protocols',
    type: 'list',
    default: ['TLSv1.2', 'TLSv1.3'],
    perListener: true,
    doc: 'TLS versions accepted: TLSv1.2 and/or TLSv1.3.',
    validator: listOf('TLSv1.2', 'TLSv1.3'),
  },
  {
    name: 'ssl.protocol',
    type: 'string',
    default: 'TLSv1.3',
    perListener: true,
    doc: "Accepted for compatibility (Java's SSLContext protocol); ssl.enabled.protocols decides.",
  },
  { name: 'ssl.cipher.suites', type: 'list', default: [], perListener: true, doc: "Cipher suites allowed (IANA names); empty: the TLS library's defaults." },
  {
    name: 'ssl.principal.mapping.rules',
    type: 'string',
    default: 'DEFAULT',
    perListener: true,
    doc: "How a client certificate's subject becomes a principal name (Kafka's RULE:pattern/replacement/[LU] syntax).",
    validator: (v) => (typeof v === 'string' ? problemOf(() => new SslPrincipalMapper(v)) : null),
  },
  {
    name: 'ssl.endpoint.identification.algorithm',
    type: 'string',
    default: 'https',
    perListener: true,
    doc: 'Accepted for compatibility (a client-side setting; the broker does not verify client host names).',
  },
  {
    name: 'sluice.ssl.handshake.timeout.ms',
    type: 'long',
    default: 10000,
    doc: 'A TLS connection whose handshake has not finished by then is closed.',
    validator: atLeast(1),
  },
  {
    name: 'sluice.ssl.ktls',
    type: 'boolean',
    default: true,
    doc: 'Hand TLS keys to the kernel (kTLS) after the handshake where the kernel has it, so file ranges go out by sendfile.',
  },
];

export const BROKER_CONFIGS: readonly ConfigDef[] = [
  { name: 'node.id', type: 'int', default: 1, doc: "This broker's id.", validator: atLeast(0) },
  { name: 'broker.id', type: 'int', default: null, doc: 'Alias of node.id (older name).' },
  { name: 'listeners', type: 'list', default: ['PLAINTEXT://127.0.0.1:9092'], doc: 'Listeners to bind, e.g. PLAINTEXT://0.0.0.0:9092.' },
  { name: 'advertised.listeners', type: 'list', default: null, doc: 'Listeners handed to clients in Metadata; defaults to listeners.' },
  { name: 'log.dirs', type: 'list', default: null, doc: 'Data directories; the first holds meta.properties.' },
  { name: 'log.dir', type: 'string', default: '/tmp/sluice-logs', doc: 'Data directory used when log.dirs is not set.' },
  { name: 'num.partitions', type: 'int', default: 1, doc: 'Partitions of auto-created topics and of CreateTopics with -1.', validator: atLeast(1) },
  {
    name: 'default.replication.factor',
    type: 'int',
    default: 1,
    doc: 'Replication factor reported for new topics (single node: only 1 is valid).',
    validator: atLeast(1),
  },
  { name: 'auto.create.topics.enable', type: 'boolean', default: true, doc: 'Create unknown topics on Metadata/Produce requests.' },
  { name: 'delete.topic.enable', type: 'boolean', default: true, doc: 'Allow DeleteTopics.' },
  { name: 'log.segment.bytes', type: 'int', default: 1073741824, doc: 'Segment size before a roll.', validator: atLeast(14) },
  { name: 'log.roll.ms', type: 'long', default: null, doc: 'Age of a segment before a roll; overrides log.roll.hours.' },
  { name: 'log.roll.hours', type: 'int', default: 168, doc: 'Age of a segment before a roll, in hours.', validator: atLeast(1) },
  {
    name: 'log.roll.jitter.ms',
    type: 'long',
    default: null,
    doc: 'Accepted for compatibility; not enforced (segments roll without jitter). Overrides log.roll.jitter.hours.',
  },
  {
    name: 'log.roll.jitter.hours',
    type: 'int',
    default: 0,
    doc: 'Accepted for compatibility; not enforced (segments roll without jitter).',
    validator: atLeast(0),
  },
  { name: 'log.retention.ms', type: 'long', default: null, doc: 'Time retention; -1 keeps forever. Overrides minutes/hours.' },
  { name: 'log.retention.minutes', type: 'int', default: null, doc: 'Time retention in minutes.' },
  { name: 'log.retention.hours', type: 'int', default: 168, doc: 'Time retention in hours.' },
  { name: 'log.retention.bytes', type: 'long', default: -1, doc: 'Size retention per partition; -1 unlimited.' },
  { name: 'log.retention.check.interval.ms', type: 'long', default: 300000, doc: 'How often retention runs.', validator: atLeast(1) },
  { name: 'log.cleanup.policy', type: 'list', default: ['delete'], doc: 'delete, compact or both.', validator: listOf('delete', 'compact') },
  { name: 'log.index.interval.bytes', type: 'int', default: 4096, doc: 'Bytes between sparse index entries.', validator: atLeast(0) },
  { name: 'log.index.size.max.bytes', type: 'int', default: 10485760, doc: 'Max size of an offset index before a roll.', validator: atLeast(4096) },
  {
    name: 'log.flush.interval.messages',
    type: 'long',
    default: LONG_MAX,
    doc: 'fsync after this many messages (default: leave it to the OS).',
    validator: atLeast(1),
  },
  { name: 'log.flush.interval.ms', type: 'long', default: null, doc: 'fsync a partition whose data is older than this (default: leave it to the OS).' },
  { name: 'log.flush.scheduler.interval.ms', type: 'long', default: LONG_MAX, doc: 'How often the time-based flush is checked.' },
  {
    name: 'log.message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    doc: 'CreateTime or LogAppendTime.',
    validator: oneOf('CreateTime', 'LogAppendTime'),
  },
  {
    name: 'log.segment.delete.delay.ms',
    type: 'long',
    default: 60000,
    doc: 'Accepted for compatibility; not enforced (deleted segments are unlinked at once; open sends keep their file).',
    validator: atLeast(0),
  },
  {
    name: 'log.preallocate',
    type: 'boolean',
    default: false,
    doc: 'Accepted for compatibility; not enforced (mmap mode extends segment files by sluice.log.preallocate.step.bytes instead).',
  },
  { name: 'log.cleaner.enable', type: 'boolean', default: true, doc: 'Run the log cleaner (compaction of topics whose cleanup.policy contains compact).' },
  {
    name: 'log.cleaner.backoff.ms',
    type: 'long',
    default: 15000,
    doc: 'Pause between two passes of the log cleaner over the compacted partitions.',
    validator: atLeast(0),
  },
  {
    name: 'log.cleaner.delete.retention.ms',
    type: 'long',
    default: 86400000,
    doc: 'How long compaction keeps a tombstone after it first saw it (the delete horizon).',
    validator: atLeast(0),
  },
  {
    name: 'log.cleaner.min.compaction.lag.ms',
    type: 'long',
    default: 0,
    doc: 'A segment whose newest record is younger than this is not compacted.',
    validator: atLeast(0),
  },
  {
    name: 'log.cleaner.max.compaction.lag.ms',
    type: 'long',
    default: LONG_MAX,
    doc: 'Accepted for compatibility; not enforced (compaction runs on the dirty ratio only).',
    validator: atLeast(1),
  },
  {
    name: 'log.cleaner.min.cleanable.ratio',
    type: 'double',
    default: 0.5,
    doc: 'Compact a partition once its dirty bytes / all bytes is above this.',
    validator: between(0, 1),
  },
  {
    name: 'sluice.log.cleaner.dedupe.buffer.bytes',
    type: 'long',
    default: 33554432,
    doc: "Memory of the log cleaner's key -> offset map (24 bytes per key); a clean stops where it fills and the next goes on.",
    validator: atLeast(1024),
  },
  {
    name: 'log.message.timestamp.difference.max.ms',
    type: 'long',
    default: LONG_MAX,
    doc: 'Accepted for compatibility (Kafka 3.x; removed in Kafka 4.0); not enforced.',
    validator: atLeast(0),
  },
  {
    name: 'log.message.timestamp.before.max.ms',
    type: 'long',
    default: LONG_MAX,
    doc: 'Accepted for compatibility; not enforced (record timestamps are not checked against the broker clock).',
    validator: atLeast(0),
  },
  {
    name: 'log.message.timestamp.after.max.ms',
    type: 'long',
    default: LONG_MAX,
    doc: 'Accepted for compatibility; not enforced (record timestamps are not checked against the broker clock).',
    validator: atLeast(0),
  },
  {
    name: 'log.message.downconversion.enable',
    type: 'boolean',
    default: true,
    doc: 'Accepted for compatibility (Kafka 3.x; removed in Kafka 4.0); not enforced (Sluice serves only record batch v2 and never down-converts).',
  },
  {
    name: 'log.local.retention.ms',
    type: 'long',
    default: -2,
    doc: 'Accepted for compatibility; not enforced (no tiered storage). -2: use the retention time.',
    validator: atLeast(-2),
  },
  {
    name: 'log.local.retention.bytes',
    type: 'long',
    default: -2,
    doc: 'Accepted for compatibility; not enforced (no tiered storage). -2: use the retention size.',
    validator: atLeast(-2),
  },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: false,
    doc: 'Accepted for compatibility; not enforced: a single node has no other replica to elect, and in cluster mode an out-of-sync replica is never elected (false).',
  },
  { name: 'message.max.bytes', type: 'int', default: 1048588, doc: 'Largest record batch accepted.', validator: atLeast(0) },
  { name: 'socket.request.max.bytes', type: 'int', default: 104857600, doc: 'Largest request frame accepted.', validator: atLeast(1) },
  { name: 'connections.max.idle.ms', type: 'long', default: 600000, doc: 'Idle connections are closed after this long.' },
  { name: 'max.connections', type: 'int', default: 2147483647, doc: 'Total connections accepted.', validator: atLeast(0) },
  { name: 'max.connections.per.ip', type: 'int', default: 2147483647, doc: 'Connections accepted from one address.', validator: atLeast(0) },
  { name: 'queued.max.requests', type: 'int', default: 500, doc: 'Requests in flight per connection before reading pauses.', validator: atLeast(1) },
  {
    name: 'socket.send.buffer.bytes',
    type: 'int',
    default: 102400,
    doc: "SO_SNDBUF of client connections' sockets (set by the native writer when it takes a connection); -1 leaves the kernel's autotuning. Kafka's default: a bounded buffer halves fetch fan-out CPU per GB against autotuning (bench/README.md).",
    validator: (v) => (typeof v === 'number' && v !== -1 && v < 1 ? 'must be -1 or >= 1' : null),
  },
  {
    name: 'sluice.writer.threads',
    type: 'int',
    default: 0,
    doc: 'Threads of the native writer that finish queued sends (fetch data, TLS), connections spread over them; 0: one per core, at most 8.',
    validator: between(0, 256),
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    default: 1,
    doc: 'acks=all needs this many in-sync replicas (cluster mode; a single node is always its one).',
    validator: atLeast(1),
  },
  {
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    doc: 'Sluice stores batches as the producer compressed them and never recompresses: only producer is accepted.',
    validator: (v) => (v !== 'producer' ? 'Sluice stores batches as sent and never recompresses; only "producer" is supported' : null),
  },
  {
    name: 'producer.id.expiration.ms',
    type: 'int',
    default: 86400000,
    doc: "An idempotent producer's state in a partition is dropped once its last batch is this old.",
    validator: atLeast(1),
  },
  { name: 'offsets.topic.num.partitions', type: 'int', default: 50, doc: 'Partitions of the internal offsets log.', validator: atLeast(1) },
  { name: 'offsets.retention.minutes', type: 'int', default: 10080, doc: 'Committed offsets of empty groups expire after this.' },
  {
    name: 'offsets.retention.check.interval.ms',
    type: 'long',
    default: 600000,
    doc: 'How often expired committed offsets are removed.',
    validator: atLeast(1),
  },
  { name: 'offset.metadata.max.bytes', type: 'int', default: 4096, doc: 'Largest metadata string accepted with a committed offset.', validator: atLeast(0) },
  {
    name: 'transaction.state.log.num.partitions',
    type: 'int',
    default: 50,
    doc: 'Partitions of the internal transaction state log (__transaction_state), when it is created.',
    validator: atLeast(1),
  },
  {
    name: 'transaction.state.log.segment.bytes',
    type: 'int',
    default: 104857600,
    doc: 'Segment size of __transaction_state, when it is created (small, so compaction works early).',
    validator: atLeast(1),
  },
  {
    name: 'transaction.state.log.load.buffer.size',
    type: 'int',
    default: 5242880,
    doc: 'Bytes read per step while loading __transaction_state at start.',
    validator: atLeast(1),
  },
  {
    name: 'transaction.state.log.replication.factor',
    type: 'int',
    default: 3,
    doc: 'Accepted for compatibility; a single node creates __transaction_state with replication factor 1.',
    validator: atLeast(1),
  },
  { name: 'transaction.state.log.min.isr', type: 'int', default: 2, doc: 'Accepted for compatibility; a single node is the whole ISR.', validator: atLeast(1) },
  {
    name: 'transaction.max.timeout.ms',
    type: 'int',
    default: 900000,
    doc: 'Largest transaction timeout a transactional producer may ask for.',
    validator: atLeast(1),
  },
  {
    name: 'transactional.id.expiration.ms',
    type: 'int',
    default: 604800000,
    doc: 'A transactional id with no transaction open is removed after this long without a request.',
    validator: atLeast(1),
  },
  {
    name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    type: 'int',
    default: 10000,
    doc: 'How often transactions open past their timeout are aborted.',
    validator: atLeast(1),
  },
  {
    name: 'transaction.remove.expired.transaction.cleanup.interval.ms',
    type: 'int',
    default: 3600000,
    doc: 'How often expired transactional ids are removed.',
    validator: atLeast(1),
  },
  {
    name: 'sluice.transaction.marker.retry.backoff.ms',
    type: 'int',
    default: 100,
    doc: 'Wait before writing again the transaction markers a partition refused with a retriable error.',
    validator: atLeast(1),
  },
  { name: 'group.max.size', type: 'int', default: 2147483647, doc: 'Members a group may have.', validator: atLeast(1) },
  { name: 'group.initial.rebalance.delay.ms', type: 'int', default: 3000, doc: 'Delay of the first rebalance of an empty group.', validator: atLeast(0) },
  { name: 'group.min.session.timeout.ms', type: 'int', default: 6000, doc: 'Smallest session timeout a member may ask for.' },
  { name: 'group.max.session.timeout.ms', type: 'int', default: 1800000, doc: 'Largest session timeout a member may ask for.' },
  {
    name: 'group.consumer.session.timeout.ms',
    type: 'int',
    default: 45000,
    doc: 'KIP-848 consumer groups: a member is fenced after this long without a heartbeat (between group.consumer.min/max.session.timeout.ms).',
  },
  {
    name: 'group.consumer.min.session.timeout.ms',
    type: 'int',
    default: 45000,
    doc: 'KIP-848 consumer groups: lower bound of group.consumer.session.timeout.ms.',
    validator: atLeast(1),
  },
  {
    name: 'group.consumer.max.session.timeout.ms',
    type: 'int',
    default: 60000,
    doc: 'KIP-848 consumer groups: upper bound of group.consumer.session.timeout.ms.',
    validator: atLeast(1),
  },
  {
    name: 'group.consumer.heartbeat.interval.ms',
    type: 'int',
    default: 5000,
    doc: 'KIP-848 consumer groups: the heartbeat interval members are given (between group.consumer.min/max.heartbeat.interval.ms, below the session timeout).',
  },
  {
    name: 'group.consumer.min.heartbeat.interval.ms',
    type: 'int',
    default: 5000,
    doc: 'KIP-848 consumer groups: lower bound of group.consumer.heartbeat.interval.ms.',
    validator: atLeast(1),
  },
  {
    name: 'group.consumer.max.heartbeat.interval.ms',
    type: 'int',
    default: 15000,
    doc: 'KIP-848 consumer groups: upper bound of group.consumer.heartbeat.interval.ms.',
    validator: atLeast(1),
  },
  { name: 'group.consumer.max.size', type: 'int', default: 2147483647, doc: 'KIP-848 consumer groups: members a group may have.', validator: atLeast(1) },
  {
    name: 'group.consumer.assignors',
    type: 'list',
    default: ['uniform', 'range'],
    doc: "KIP-848 consumer groups: server-side assignors (uniform, range, or Kafka's class names); the first is the default.",
    validator: (v) =>
      Array.isArray(v) &&
      (v.length === 0 ||
        v.some(
          (a) =>
            ![
              'uniform',
              'range',
              'org.apache.kafka.coordinator.group.assignor.UniformAssignor',
              'org.apache.kafka.coordinator.group.assignor.RangeAssignor',
              'org.apache.kafka.coordinator.group.api.assignor.UniformAssignor',
              'org.apache.kafka.coordinator.group.api.assignor.RangeAssignor',
            ].includes(a),
        ))
        ? 'must list uniform and/or range'
        : null,
  },
  {
    name: 'group.consumer.migration.policy',
    type: 'string',
    default: 'bidirectional',
    doc: 'KIP-848: conversion between classic and consumer groups. Sluice converts only empty groups, whatever the value (see packages/broker/README.md).',
    validator: oneOf('disabled', 'upgrade', 'downgrade', 'bidirectional'),
  },
  {
    name: 'sluice.transfer.mode',
    type: 'string',
    default: 'sendfile',
    doc: 'How fetch data goes from segment files to sockets: sendfile, splice or copy.',
    validator: oneOf('sendfile', 'splice', 'copy'),
  },
  {
    name: 'sluice.log.append.mode',
    type: 'string',
    default: 'pwrite',
    doc: 'How appends reach segment files: pwrite (default, chosen by bench/: faster and cheaper per GB on these machines) or mmap.',
    validator: oneOf('mmap', 'pwrite'),
  },
  {
    name: 'sluice.log.preallocate.step.bytes',
    type: 'int',
    default: 33554432,
    doc: 'mmap mode: the segment file is extended (fallocate) this far ahead of the write position.',
    validator: atLeast(4096),
  },
  { name: 'sluice.flush.on.ack.enable', type: 'boolean', default: false, doc: 'fsync before answering acks=1/-1 produce requests (group commit).' },
  {
    name: 'sluice.test.fault.storage',
    type: 'list',
    default: [],
    doc: 'Tests only: storage faults to inject, <topic>-<partition>:<write|sync|read|allocate>:<skip>:<EIO|ENOSPC> (see test-faults.ts).',
    validator: (v) => (Array.isArray(v) ? testFaultsProblem(v) : null),
  },
  {
    name: 'sluice.test.fault.transaction.markers.hold',
    type: 'boolean',
    default: false,
    doc: "Tests only: the transaction coordinator's markers are never written (a transaction stays prepared), to test recovery after a crash between EndTxn and its markers.",
  },
  {
    name: 'sluice.shutdown.timeout.ms',
    type: 'long',
    default: 10000,
    doc: 'Graceful stop: how long in-flight requests may take to be answered before connections are closed anyway.',
    validator: atLeast(0),
  },
  {
    name: 'sluice.connection.pending.max.bytes',
    type: 'long',
    default: 67108864,
    doc: 'Output queued for one connection before its reading pauses.',
    validator: atLeast(1024),
  },
  {
    name: 'sluice.log.level',
    type: 'string',
    default: 'info',
    doc: 'trace, debug, info, warn, error or silent.',
    validator: oneOf('trace', 'debug', 'info', 'warn', 'error', 'silent'),
  },
  {
    name: 'sluice.metrics.listener',
    type: 'string',
    default: 'http://127.0.0.1:9404/metrics',
    doc: 'Prometheus scrape endpoint, http://host:port/path (port 0: a free port); empty disables it.',
    validator: (v) => (typeof v === 'string' ? metricsListenerProblem(v) : null),
  },
  {
    name: 'cluster.id',
    type: 'string',
    default: null,
    doc: "Cluster id to format a new data dir with (generated when absent; in cluster mode, must match the cluster's).",
  },
  {
    name: 'sluice.metadata.etcd.endpoints',
    type: 'list',
    default: [],
    doc: "Cluster mode: etcd client URLs (http://host:port, comma-separated) holding the cluster's metadata, membership and leadership. Empty: a single node.",
    validator: (v) =>
      Array.isArray(v) ? (v.find((e) => !/^https?:\/\/[^/\s]+\/?$/.test(e)) === undefined ? null : 'each endpoint must be http://host:port') : null,
  },
  {
    name: 'sluice.metadata.etcd.prefix',
    type: 'string',
    default: '/sluice',
    doc: 'Cluster mode: the etcd key prefix of this cluster (several clusters can share one etcd).',
    validator: (v) => (typeof v === 'string' && !/^\/?[A-Za-z0-9._/-]+$/.test(v) ? 'must be a key path of [A-Za-z0-9._/-]' : null),
  },
  {
    name: 'broker.session.timeout.ms',
    type: 'int',
    default: 9000,
    doc: "Cluster mode: the TTL of this broker's etcd lease; a broker that cannot renew it for this long is considered gone.",
    validator: atLeast(2000),
  },
  {
    name: 'replica.lag.time.max.ms',
    type: 'long',
    default: 30000,
    doc: "Cluster mode: a follower that has not caught up with the leader's log end for this long leaves the ISR.",
    validator: atLeast(1),
  },
  {
    name: 'replica.fetch.wait.max.ms',
    type: 'int',
    default: 500,
    doc: "Cluster mode: how long a follower's fetch waits at the leader for new data.",
    validator: atLeast(0),
  },
  {
    name: 'replica.fetch.max.bytes',
    type: 'int',
    default: 1048576,
    doc: 'Cluster mode: bytes a follower fetches per partition per request.',
    validator: atLeast(0),
  },
  {
    name: 'replica.fetch.response.max.bytes',
    type: 'int',
    default: 10485760,
    doc: 'Cluster mode: bytes a follower fetches per request.',
    validator: atLeast(0),
  },
  {
    name: 'replica.socket.timeout.ms',
    type: 'int',
    default: 30000,
    doc: "Cluster mode: timeout of a follower's requests to its leader.",
    validator: atLeast(1),
  },
  { name: 'broker.rack', type: 'string', default: null, doc: 'Rack of this broker, for rack-aware replica placement and Metadata.' },
  ...LISTENER_SASL_AUTHORIZER_CONFIGS,
  ...SSL_CONFIGS,
];
