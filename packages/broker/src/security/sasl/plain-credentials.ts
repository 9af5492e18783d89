// The PLAIN credential source, from Kafka's own configuration: the `user_<name>="<password>"`
// options of a PlainLoginModule, as in Kafka's PlainServerCallbackHandler. Decision (issue 13):
// a copied `listener.name.<l>.plain.sasl.jaas.config` (or `sasl.jaas.config`, or a JAAS file's
// `KafkaServer` section) is accepted as is; there is no Sluice-only credential format. A JAAS
// configuration with no PlainLoginModule or no `user_` entry is refused with an error naming the
// problem, because PLAIN with nobody allowed in is a misconfiguration, not a policy.
// `username` and `password` (the broker's own inter-broker client credentials) are kept
// apart from the users and are not themselves login credentials, as in Kafka.

import type { JaasLoginModule } from './jaas.ts';
import { kafkaServerSection, parseJaasConfig, parseJaasFile } from './jaas.ts';
import { StaticPlainCredentials } from './plain.ts';

export const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';
const USER_PREFIX = 'user_';

function fromModules(modules: readonly JaasLoginModule[], where: string): StaticPlainCredentials {
  // Kafka's JaasContext requires exactly one module in a sasl.jaas.config value; in a file section
  // the PLAIN server uses the PlainLoginModule's options.
  const plain = modules.filter((m) => m.loginModule === PLAIN_LOGIN_MODULE);
  if (plain.length === 0) throw new Error(`${where}: no ${PLAIN_LOGIN_MODULE} (found ${modules.map((m) => m.loginModule).join(', ') || 'nothing'})`);
  if (plain.length > 1) throw new Error(`${where}: ${plain.length} PlainLoginModule entries; expected one`);
  const users = new Map<string, string>();
  for (const [key, value] of (plain[0] as JaasLoginModule).options) {
    if (key.startsWith(USER_PREFIX) && key.length > USER_PREFIX.length) users.set(key.slice(USER_PREFIX.length), value);
  }
  if (users.size === 0) throw new Error(`${where}: PlainLoginModule has no user_<name>="<password>" entries, so no client could authenticate`);
  return new StaticPlainCredentials(users);
}

/** From a `sasl.jaas.config` value (Kafka requires exactly one login module there). */
export function plainCredentialsFromJaasConfig(value: string, key = 'sasl.jaas.config'): StaticPlainCredentials {
  const modules = parseJaasConfig(value);
  if (modules.length !== 1) throw new Error(`${key}: contains ${modules.length} login modules, should be 1`);
  return fromModules(modules, key);
}

/** From a JAAS file's text, for one listener (`<listener>.KafkaServer`, else `KafkaServer`). */
export function plainCredentialsFromJaasFile(text: string, listenerName: string, path = 'JAAS file'): StaticPlainCredentials {
  const section = kafkaServerSection(parseJaasFile(text), listenerName);
  if (section === undefined) throw new Error(`${path}: no ${listenerName.toLowerCase()}.KafkaServer or KafkaServer section`);
  return fromModules(section, path);
}
