// The security cores (issue 13, phase 1): sans-io SASL mechanisms (PLAIN, SCRAM, OAUTHBEARER), credential stores, the ACL
// authorizer and principal mapping. The connection and handler wiring imports from here; see
// README.md for how they plug in.

export {
  type ConfigLookup,
  DEFAULT_SECURITY_PROTOCOL_MAP,
  isSaslProtocol,
  isTlsProtocol,
  listenerJaasConfig,
  listenerSetting,
  parseSecurityProtocolMap,
  SECURITY_PROTOCOLS,
  type SecurityProtocol,
  securityProtocolOf,
} from './listener-security.ts';
export { ANONYMOUS_PRINCIPAL, parseKafkaPrincipal, USER_TYPE, userPrincipal } from './principal/kafka-principal.ts';
export { NoMatchingRuleError, rfc2253FromNodeSubject, SslPrincipalMapper } from './principal/ssl-principal-mapper.ts';

export { type SaslAuthenticatorOptions, SaslAuthenticator, type SaslGate, type SaslOutcome, type UnframedTokenGate } from './sasl/sasl-authenticator.ts';
export { type CredentialSources, SUPPORTED_SASL_MECHANISMS, saslServerFactory } from './sasl/mechanisms.ts';
export { genericFailureMessage, type SaslFailureReason, type SaslServer, type SaslStep } from './sasl/sasl-server.ts';
export { PLAIN, type PlainCredentialSource, PlainSaslServer, StaticPlainCredentials } from './sasl/plain.ts';
export { PLAIN_LOGIN_MODULE, plainCredentialsFromJaasConfig, plainCredentialsFromJaasFile } from './sasl/plain-credentials.ts';
export { type JaasLoginModule, JaasParseError, kafkaServerSection, parseJaasConfig, parseJaasFile } from './sasl/jaas.ts';
export {
  type ClientInitialResponse,
  OAUTHBEARER,
  type OAuthBearerTokenValidator,
  OAuthBearerSaslServer,
  parseClientInitialResponse,
  type TokenValidation,
} from './sasl/oauthbearer.ts';
export { JwksKeySet, type JwtValidation, type JwtValidationOptions, JwtTokenValidator, validateJwt } from './sasl/jwt.ts';
export { type NonceSource, randomNonce, type ScramCredentialLookup, ScramSaslServer } from './sasl/scram-server.ts';
export {
  credentialFromPassword,
  credentialFromSaltedPassword,
  saltPassword,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MECHANISMS,
  SCRAM_MIN_ITERATIONS,
  SCRAM_SHA_256,
  SCRAM_SHA_512,
  type ScramCredential,
  type ScramMechanism,
  scramMechanismByName,
  scramMechanismByType,
} from './sasl/scram-credential.ts';
export {
  FileScramCredentialStore,
  MemoryScramCredentialStore,
  SCRAM_CREDENTIALS_FILE,
  type ScramCredentialChange,
  type ScramCredentialStore,
} from './sasl/scram-credential-store.ts';
export { alterUserScramCredentials, describeUserScramCredentials, type ScramDeletion, type ScramUpsertion } from './sasl/scram-admin.ts';

export * from './acl/acl-types.ts';
export { bindingMatches, entryMatches, patternMatches } from './acl/acl-filter.ts';
export { ACLS_FILE, type AclStore, FileAclStore, MemoryAclStore } from './acl/acl-store.ts';
export {
  type AclCreateResult,
  type AclDeleteResult,
  type AuthorizerOptions,
  type Session,
  StandardAuthorizer,
  SUPPORTED_OPERATIONS,
} from './acl/authorizer.ts';
export { type DenialLogOptions, DenialLogLimiter } from './acl/denial-log.ts';
export { authorizerEnabled, LEGACY_ACL_AUTHORIZER, parseAllowEveryoneIfNoAclFound, parseSuperUsers, STANDARD_AUTHORIZER } from './acl/authorizer-config.ts';
export { bindingFitsVersion, bindingFromCreation, deleteAclsMatchingAcl, describeAclsResources, filterFromWire } from './acl/acl-wire.ts';
