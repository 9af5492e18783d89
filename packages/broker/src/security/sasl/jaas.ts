// Kafka's JAAS configuration syntax, for the PLAIN credential source.
//
// Two forms, both as Kafka reads them:
// - the `sasl.jaas.config` property value (also per listener and mechanism:
//   `listener.name.<listener>.plain.sasl.jaas.config`): one or more login modules,
//     org.apache.kafka.common.security.plain.PlainLoginModule required
//       username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";
// - a JAAS file (`-Djava.security.auth.login.config=…` in Kafka): named sections of modules,
//     KafkaServer { <module>; <module>; };
//   where a listener's section is `<listener lower case>.KafkaServer`, falling back to `KafkaServer`.
//
// Tokens: words (module class, flag, option names, unquoted values), double-quoted strings with
// Java StreamTokenizer escapes (\n \t \r \b \f \v \a, octal \0-\377, any other \c is c), '=', ';',
// '{', '}', and // and /* */ comments. Unlike Kafka's tokenizer, an unterminated string or a
// newline inside one is an error (Kafka would silently end the string there), and '{' '}' are
// always punctuation (quote a value that contains them).

export type JaasControlFlag = 'required' | 'requisite' | 'sufficient' | 'optional';

export interface JaasLoginModule {
  readonly loginModule: string;
  readonly flag: JaasControlFlag;
  readonly options: ReadonlyMap<string, string>;
}

export class JaasParseError extends Error {
  constructor(message: string, offset: number) {
    super(`invalid JAAS configuration at character ${offset}: ${message}`);
    this.name = 'JaasParseError';
  }
}

type Token = { readonly kind: 'word' | 'string' | '=' | ';' | '{' | '}'; readonly text: string; readonly at: number };

const PUNCTUATION = new Set(['=', ';', '{', '}']);
const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\u0007' };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new JaasParseError('unterminated /* comment', i);
      i = end + 2;
    } else if (PUNCTUATION.has(c)) {
      out.push({ kind: c as Token['kind'], text: c, at: i });
      i++;
    } else if (c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new JaasParseError('unterminated quoted string', start);
        const d = text[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\n' || d === '\r') throw new JaasParseError('newline inside a quoted string', start);
        if (d !== '\\') {
          value += d;
          i++;
          continue;
        }
        const e = text[i + 1];
        if (e === undefined) throw new JaasParseError('unterminated quoted string', start);
        const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4));
        if (octal !== null) {
          // StreamTokenizer reads a third octal digit only when the first is 0-3 (value <= 0377).
          const digits = octal[0].length === 3 && (octal[0][0] as string) > '3' ? octal[0].slice(0, 2) : octal[0];
          value += String.fromCharCode(parseInt(digits, 8));
          i += 1 + digits.length;
        } else {
          value += SIMPLE_ESCAPES[e] ?? e;
          i += 2;
        }
      }
      out.push({ kind: 'string', text: value, at: start });
    } else {
      const start = i;
      while (i < text.length && !/\s/.test(text[i] as string) && !PUNCTUATION.has(text[i] as string) && text[i] !== '"') i++;
      out.push({ kind: 'word', text: text.slice(start, i), at: start });
    }
  }
  return out;
}

class Parser {
  private pos = 0;
  private readonly tokens: Token[];
  private readonly end: number;

  constructor(text: string) {
    this.tokens = tokenize(text);
    this.end = text.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  next(what: string): Token {
    const t = this.tokens[this.pos++];
    if (t === undefined) throw new JaasParseError(`expected ${what}, found the end`, this.end);
    return t;
  }

  expect(kind: Token['kind'], what: string): Token {
    const t = this.next(what);
    if (t.kind !== kind) throw new JaasParseError(`expected ${what}, found ${JSON.stringify(t.text)}`, t.at);
    return t;
  }

  module(): JaasLoginModule {
    const loginModule = this.expect('word', 'a login module class name').text;
    const flagToken = this.expect('word', 'a control flag (required, requisite, sufficient, optional)');
    const flag = flagToken.text.toLowerCase();
    if (flag !== 'required' && flag !== 'requisite' && flag !== 'sufficient' && flag !== 'optional') {
      throw new JaasParseError(`invalid control flag ${JSON.stringify(flagToken.text)}`, flagToken.at);
    }
    const options = new Map<string, string>();
    for (;;) {
      const t = this.next("an option or ';'");
      if (t.kind === ';') break;
      if (t.kind !== 'word') throw new JaasParseError(`expected an option name, found ${JSON.stringify(t.text)}`, t.at);
      this.expect('=', `'=' after ${t.text}`);
      const v = this.next(`a value for ${t.text}`);
      if (v.kind !== 'word' && v.kind !== 'string') throw new JaasParseError(`expected a value for ${t.text}, found ${JSON.stringify(v.text)}`, v.at);
      if (options.has(t.text)) throw new JaasParseError(`option ${t.text} given twice`, t.at);
      options.set(t.text, v.text);
    }
    return { loginModule, flag, options };
  }
}

/** Parses a `sasl.jaas.config` value: one or more login modules, each ending with ';'. */
export function parseJaasConfig(text: string): JaasLoginModule[] {
  const p = new Parser(text);
  const modules: JaasLoginModule[] = [];
  while (p.peek() !== undefined) modules.push(p.module());
  if (modules.length === 0) throw new JaasParseError('no login module', 0);
  return modules;
}

/** Parses a JAAS file: `Name { module; … };` sections, by name. */
export function parseJaasFile(text: string): Map<string, JaasLoginModule[]> {
  const p = new Parser(text);
  const sections = new Map<string, JaasLoginModule[]>();
  while (p.peek() !== undefined) {
    const name = p.expect('word', 'a section name');
    p.expect('{', `'{' after ${name.text}`);
    const modules: JaasLoginModule[] = [];
    while (p.peek()?.kind !== '}') modules.push(p.module());
    p.expect('}', "'}'");
    p.expect(';', "';' after '}'");
    if (sections.has(name.text)) throw new JaasParseError(`section ${name.text} given twice`, name.at);
    sections.set(name.text, modules);
  }
  return sections;
}

/** Kafka's rule for a listener's section in a JAAS file: `<listener>.KafkaServer`, else `KafkaServer`. */
export function kafkaServerSection(sections: ReadonlyMap<string, JaasLoginModule[]>, listenerName: string): JaasLoginModule[] | undefined {
  return sections.get(`${listenerName.toLowerCase()}.KafkaServer`) ?? sections.get('KafkaServer');
}
