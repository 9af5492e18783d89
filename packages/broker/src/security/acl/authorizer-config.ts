// Kafka's authorizer configuration keys, read as Kafka reads them (StandardAuthorizer.configure):
// - `authorizer.class.name`: empty turns authorization off (everyone may do everything, as in
//   Kafka without an authorizer); Kafka's own class names turn on the StandardAuthorizer semantics
//   implemented here, so a copied server.properties works unchanged. Any other class is refused at
//   start: silently running without the authorizer someone configured would be a hole.
// - `super.users`: `User:a;User:b` — split on ';', trimmed, empty parts dropped.
// - `allow.everyone.if.no.acl.found`: true only for "true" (any case, trimmed), as Java's
//   Boolean.parseBoolean; default false.

export const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';
/** Kafka's ZooKeeper-era authorizer (removed in Kafka 4): same ACL semantics for our purposes. */
export const LEGACY_ACL_AUTHORIZER = 'kafka.security.authorizer.AclAuthorizer';

/** True when ACLs are enforced; throws for an authorizer class Sluice does not provide. */
export function authorizerEnabled(className: string): boolean {
  const name = className.trim();
  if (name === '') return false;
  if (name === STANDARD_AUTHORIZER || name === LEGACY_ACL_AUTHORIZER) return true;
  throw new Error(`authorizer.class.name=${name} is not supported; use ${STANDARD_AUTHORIZER} (Kafka's StandardAuthorizer semantics) or leave it empty`);
}

export function parseSuperUsers(value: string): string[] {
  const users = value
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const u of users) if (!u.includes(':')) throw new Error(`super.users: ${JSON.stringify(u)} is not a principal (expected Type:name, e.g. User:admin)`);
  return users;
}

export function parseAllowEveryoneIfNoAclFound(value: string): boolean {
  return value.trim().toLowerCase() === 'true';
}
