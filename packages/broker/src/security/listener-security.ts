// Per-listener security settings as Kafka resolves them, for the listener wiring:
// - `listener.security.protocol.map`: listener name -> security protocol; Kafka's default maps
//   each protocol name to itself, so `SSL://…` needs no entry, while a listener named e.g.
//   `INTERNAL` must be mapped (Kafka: "No security protocol defined for listener INTERNAL").
// - a per-listener key `listener.name.<listener, lower case>.<key>` overrides `<key>`; SASL JAAS
//   configuration is per mechanism too: `listener.name.<listener>.<mechanism, lower case>.sasl.jaas.config`.
// Pure functions over a key -> value lookup, so config.ts (one table of Kafka's names) stays the
// owner of the values and this file of the resolution rules.

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

export const DEFAULT_SECURITY_PROTOCOL_MAP = 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL';

/** Parses `listener.security.protocol.map`; listener names are upper-cased, as Kafka normalises them. */
export function parseSecurityProtocolMap(value: string): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^([A-Za-z0-9_.-]+)\s*:\s*([A-Za-z_]+)$/.exec(entry);
    if (m === null) throw new Error(`listener.security.protocol.map: "${entry}" is not LISTENER_NAME:SECURITY_PROTOCOL`);
    const name = (m[1] as string).toUpperCase();
    const protocol = (m[2] as string).toUpperCase();
    if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol))
      throw new Error(`listener.security.protocol.map: unknown security protocol ${m[2]} for listener ${m[1]} (known: ${SECURITY_PROTOCOLS.join(', ')})`);
    if (map.has(name)) throw new Error(`listener.security.protocol.map: listener ${name} is mapped twice`);
    map.set(name, protocol as SecurityProtocol);
  }
  return map;
}

export function securityProtocolOf(listenerName: string, map: ReadonlyMap<string, SecurityProtocol>): SecurityProtocol {
  const p = map.get(listenerName.toUpperCase());
  if (p === undefined) throw new Error(`No security protocol defined for listener ${listenerName.toUpperCase()}`);
  return p;
}

export const isSaslProtocol = (p: SecurityProtocol): boolean => p === 'SASL_PLAINTEXT' || p === 'SASL_SSL';
export const isTlsProtocol = (p: SecurityProtocol): boolean => p === 'SSL' || p === 'SASL_SSL';

export type ConfigLookup = (key: string) => string | undefined;

/** `listener.name.<listener>.<key>`, else `<key>`; undefined when neither is set. */
export function listenerSetting(lookup: ConfigLookup, listenerName: string, key: string): string | undefined {
  return lookup(`listener.name.${listenerName.toLowerCase()}.${key}`) ?? lookup(key);
}

/** The JAAS configuration for a listener and mechanism: per listener and mechanism, else `sasl.jaas.config`. */
export function listenerJaasConfig(
  lookup: ConfigLookup,
  listenerName: string,
  mechanism: string,
): { readonly key: string; readonly value: string } | undefined {
  const specific = `listener.name.${listenerName.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config`;
  const v = lookup(specific);
  if (v !== undefined) return { key: specific, value: v };
  const general = lookup('sasl.jaas.config');
  return general === undefined ? undefined : { key: 'sasl.jaas.config', value: general };
}
