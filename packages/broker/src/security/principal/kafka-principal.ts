// Principals as Kafka names them: `Type:name`, almost always `User:<name>`. What the connection
// (wiring) attaches to each session, and what ACLs, super.users and logs compare against:
// - PLAINTEXT, and SSL without a client certificate: `User:ANONYMOUS`;
// - SASL (PLAIN, SCRAM): `User:<authorization id>` (the authenticated username);
// - SSL with a client certificate (mTLS): `User:<mapped name>`, the certificate subject's RFC 2253
//   distinguished name passed through `ssl.principal.mapping.rules` (ssl-principal-mapper.ts).

export const USER_TYPE = 'User';
export const ANONYMOUS_PRINCIPAL = 'User:ANONYMOUS';

export function userPrincipal(name: string): string {
  return `${USER_TYPE}:${name}`;
}

/** Kafka's SecurityUtils.parseKafkaPrincipal: split at the first ':'; both parts required. */
export function parseKafkaPrincipal(principal: string): { readonly type: string; readonly name: string } {
  const colon = principal.indexOf(':');
  if (principal === '' || colon < 0) throw new Error(`expected a string in format principalType:principalName but got ${principal}`);
  return { type: principal.slice(0, colon), name: principal.slice(colon + 1) };
}
