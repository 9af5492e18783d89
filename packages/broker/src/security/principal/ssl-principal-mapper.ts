// `ssl.principal.mapping.rules`: from a client certificate's distinguished name to a principal
// name, with Kafka's SslPrincipalMapper grammar and semantics.
//
//   rules  := rule ("," rule)*          whitespace around rules and commas is ignored
//   rule   := "DEFAULT"                 the DN itself, unchanged
//           | "RULE:" pattern "/" replacement "/" ["L" | "U"]
// In pattern and replacement a backslash escapes the next character, so "\/" and "\," can appear
// inside them. Rules are tried in order; the first whose pattern matches the whole DN gives the
// name: every match of the pattern in the DN is replaced by the replacement ($1, $2 … are capture
// groups; a $n beyond the groups is kept literally, as Kafka does), then lower- or upper-cased
// for L or U. No rule applying is an error (the connection's authentication fails). The default
// value is "DEFAULT". Anything else ("default", "DEFAULT/L", "RULE:a/b", "RULE:a/b/X") is refused
// when the rules are parsed, naming the bad rule.
//
// Patterns are Java regular expressions in Kafka; here they are compiled as JavaScript ones
// (Unicode mode when the pattern allows it). The two agree on everything the documented rules
// use (groups, classes, lazy and greedy quantifiers, anchors); Java-only constructs that
// JavaScript cannot compile (possessive quantifiers, embedded flags such as (?i)) are refused
// when the rules are parsed.
// Differences from Kafka, deliberate: a replacement that names a group when the pattern has none
// is refused at parse time (Kafka fails each connection at runtime).

export class NoMatchingRuleError extends Error {
  constructor(dn: string, rules: readonly string[]) {
    super(`No rules apply to ${dn}, rules [${rules.join(', ')}]`);
    this.name = 'NoMatchingRuleError';
  }
}

interface Rule {
  readonly text: string;
  apply(dn: string): string | null;
}

// One rule, as Kafka's RULE_PATTERN: DEFAULT | RULE:pattern/replacement/[LU] (then anything,
// which the parser refuses) | an empty rule (ignored).
const RULE = String.raw`(DEFAULT)|RULE:((?:\\.|[^\\/])*)/((?:\\.|[^\\/])*)/([LU]?).*?|(.*?)`;
const SPLITTER = new RegExp(String.raw`\s*(${RULE})\s*(?:,\s*|$)`, 'g');
const PARSER = new RegExp(`^(?:${RULE})`);

function splitRules(text: string): string[] {
  const out: string[] = [];
  const input = text.trim();
  SPLITTER.lastIndex = 0;
  while (SPLITTER.lastIndex <= input.length) {
    const m = SPLITTER.exec(input);
    if (m === null) break;
    out.push(m[1] as string);
    if (m[0].length === 0) SPLITTER.lastIndex++; // an empty match: step on, as Java's find() does
  }
  return out;
}

function compile(pattern: string, flags: string): RegExp {
  try {
    return new RegExp(pattern, `u${flags}`);
  } catch {
    // Java accepts identity escapes such as "\," that JavaScript's Unicode mode refuses.
    return new RegExp(pattern, flags);
  }
}

function groupCount(re: RegExp): number {
  return (new RegExp(`${re.source}|`, re.flags.replace('g', '')).exec('') as RegExpExecArray).length - 1;
}

/** A Java replacement string (backslash escapes, $n group references) as a replacer function. */
function replacer(replacement: string, groups: number, rule: string): (match: string, ...rest: unknown[]) => string {
  type Part = string | number;
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i] as string;
    if (c === '\\' && i + 1 < replacement.length) {
      literal += replacement[++i];
    } else if (c === '$' && /[0-9]/.test(replacement[i + 1] ?? '')) {
      let digits = /^[0-9]+/.exec(replacement.slice(i + 1))?.[0] as string;
      // Kafka keeps "$n" literally when no prefix of n names a group (groups 1-9 take one digit).
      let n = Number(digits);
      while (n > groups && digits.length > 1) {
        digits = digits.slice(0, -1);
        n = Number(digits);
      }
      if (groups === 0) throw new Error(`Invalid rule: \`${rule}\`, replacement refers to group $${digits} but the pattern has no groups`);
      if (n > groups) {
        literal += '$';
        continue;
      }
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(n);
      i += digits.length;
    } else {
      literal += c;
    }
  }
  if (literal !== '') parts.push(literal);
  return (match: string, ...rest: unknown[]) =>
    parts.map((p) => (typeof p === 'string' ? p : p === 0 ? match : ((rest[p - 1] as string | undefined) ?? ''))).join('');
}

function parseRule(text: string): Rule | null {
  const m = PARSER.exec(text);
  if (m === null || m[0].length !== text.length) {
    const end = m === null ? 0 : m[0].length;
    throw new Error(`Invalid rule: \`${text}\`, unmatched substring: \`${text.slice(end)}\``);
  }
  if (m[1] !== undefined) return { text, apply: (dn) => dn };
  if (m[2] === undefined) return null; // empty rule
  const source = m[2];
  let whole: RegExp;
  let global: RegExp;
  try {
    whole = compile(`^(?:${source})$`, '');
    global = compile(source, 'g');
  } catch (e) {
    throw new Error(`Invalid rule: \`${text}\`, pattern does not compile: ${(e as Error).message}`);
  }
  const replace = replacer(m[3] as string, groupCount(global), text);
  const lower = m[4] === 'L';
  const upper = m[4] === 'U';
  return {
    text,
    apply(dn) {
      if (!whole.test(dn)) return null;
      global.lastIndex = 0;
      const name = dn.replace(global, replace);
      return lower ? name.toLowerCase() : upper ? name.toUpperCase() : name;
    },
  };
}

export class SslPrincipalMapper {
  private readonly rules: readonly Rule[];

  /** Parses `ssl.principal.mapping.rules`; throws naming the first invalid rule. */
  constructor(rules: string = 'DEFAULT') {
    this.rules = splitRules(rules)
      .map(parseRule)
      .filter((r): r is Rule => r !== null);
  }

  /** The principal name for a certificate subject DN (RFC 2253 form); throws when no rule applies. */
  name(distinguishedName: string): string {
    for (const r of this.rules) {
      const name = r.apply(distinguishedName);
      if (name !== null) return name;
    }
    throw new NoMatchingRuleError(
      distinguishedName,
      this.rules.map((r) => r.text),
    );
  }

  toString(): string {
    return `SslPrincipalMapper(rules = [${this.rules.map((r) => r.text).join(', ')}])`;
  }
}

/**
 * RFC 2253 form of a subject as node:crypto's X509Certificate.subject prints it (one RDN per
 * line, least specific first, values already escaped, multi-valued RDNs as "A=x + B=y"): most
 * specific first, comma-separated, '+' inside an RDN — the form Kafka maps (Java's
 * X500Principal.getName()). Known difference: Java prints attributes it has no RFC 2253 keyword
 * for (e.g. emailAddress) as OID=#hex; this keeps OpenSSL's short name and the text value.
 */
export function rfc2253FromNodeSubject(subject: string): string {
  return subject
    .split('\n')
    .filter((line) => line !== '')
    .reverse()
    .map((rdn) => rdn.replace(/ \+ /g, '+'))
    .join(',');
}
