// Listeners, SASL, the authorizer and TLS (issue 13): their rows of the broker's config table
// (config-table.ts), with Kafka's names, defaults and validators.

import type { ConfigDef } from '../config.ts';
import { atLeast, listOf, oneOf, problemOf } from '../config-validators.ts';
import { authorizerEnabled, parseSuperUsers } from './acl/authorizer-config.ts';
import { DEFAULT_SECURITY_PROTOCOL_MAP, parseSecurityProtocolMap, SECURITY_PROTOCOLS } from './listener-security.ts';
import { SslPrincipalMapper } from './principal/ssl-principal-mapper.ts';

const sensitive = { sensitive: true, perListener: true } as const;

/** Kafka's JWKS-validating OAUTHBEARER callback handler: its 4.x name, then its 3.x name. */
const OAUTHBEARER_VALIDATOR_CLASSES = [
  'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
  'org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler',
];

/**
 * Listeners, SASL and the authorizer (issue 13). Keys marked `perListener` may also be set as
 * `listener.name.<listener, lower case>.<key>`, which wins for that listener; `sasl.jaas.config`
 * and `connections.max.reauth.ms` also per mechanism, `listener.name.<l>.<mechanism>.<key>`
 * (Kafka's rules, security/listener-security.ts).
 */
export const LISTENER_SASL_AUTHORIZER_CONFIGS: readonly ConfigDef[] = [
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
    perListener: true,
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
    name: 'sasl.server.callback.handler.class',
    type: 'string',
    default: null,
    perListener: true,
    doc: "Accepted as a copied Kafka server.properties sets it for OAUTHBEARER (listener.name.<l>.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler): Sluice always validates tokens against sasl.oauthbearer.jwks.endpoint.url. Any other class is refused at start (Sluice runs no Java callback handlers; Kafka's unsecured validator is never used).",
    validator: (v) =>
      typeof v === 'string' && v !== '' && !OAUTHBEARER_VALIDATOR_CLASSES.includes(v)
        ? `Sluice runs no Java callback handlers; only Kafka's JWKS validator (${OAUTHBEARER_VALIDATOR_CLASSES[0]}) is accepted, and its checks are built in`
        : null,
  },
  {
    name: 'sasl.login.callback.handler.class',
    type: 'string',
    default: null,
    perListener: true,
    doc: "The broker's own SASL login (inter-broker, set per listener and mechanism in Kafka): accepted and reserved for cluster mode, which replicates over PLAINTEXT only for now.",
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
export const SSL_CONFIGS: readonly ConfigDef[] = [
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
  // Java-only TLS knobs a copied Kafka server.properties often sets: accepted, without effect
  // (the TLS library is rustls, its randomness and key handling are its own).
  {
    name: 'ssl.keymanager.algorithm',
    type: 'string',
    default: 'SunX509',
    perListener: true,
    doc: "Accepted for compatibility (Java's KeyManagerFactory); no effect.",
  },
  {
    name: 'ssl.trustmanager.algorithm',
    type: 'string',
    default: 'PKIX',
    perListener: true,
    doc: "Accepted for compatibility (Java's TrustManagerFactory); no effect.",
  },
  {
    name: 'ssl.secure.random.implementation',
    type: 'string',
    default: null,
    perListener: true,
    doc: "Accepted for compatibility (Java's SecureRandom); no effect.",
  },
  { name: 'ssl.provider', type: 'string', default: null, perListener: true, doc: 'Accepted for compatibility (a Java security provider name); no effect.' },
  {
    name: 'ssl.engine.factory.class',
    type: 'string',
    default: null,
    perListener: true,
    doc: 'A Java SslEngineFactory class: refused when set (TLS runs in rustls in the data plane).',
    validator: (v) => (typeof v === 'string' && v !== '' ? 'Sluice runs no Java SSL engine factories (TLS runs in rustls); remove this key' : null),
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
