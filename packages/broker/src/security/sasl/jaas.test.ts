import { describe, expect, test } from 'vitest';
import { JaasParseError, kafkaServerSection, parseJaasConfig, parseJaasFile } from './jaas.ts';
import { plainCredentialsFromJaasConfig, plainCredentialsFromJaasFile } from './plain-credentials.ts';

const KAFKA_DOC_EXAMPLE =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

describe('parseJaasConfig', () => {
  test("Kafka's documented PLAIN listener config", () => {
    const [m, ...rest] = parseJaasConfig(KAFKA_DOC_EXAMPLE);
    expect(rest).toEqual([]);
    expect(m?.loginModule).toBe('org.apache.kafka.common.security.plain.PlainLoginModule');
    expect(m?.flag).toBe('required');
    expect([...(m?.options ?? [])]).toEqual([
      ['username', 'admin'],
      ['password', 'admin-secret'],
      ['user_admin', 'admin-secret'],
      ['user_alice', 'alice-secret'],
    ]);
  });

  test.each([
    ['escaped quote and backslash', String.raw`"a\"b\\c"`, 'a"b\\c'],
    ['semicolon inside quotes', '"pa;ss"', 'pa;ss'],
    ['equals and spaces inside quotes', '"a = b"', 'a = b'],
    ['braces inside quotes', '"{x}"', '{x}'],
    ['escape letters', String.raw`"\n\t\r"`, '\n\t\r'],
    ['octal escapes', String.raw`"\101\0612"`, 'A12'],
    ['octal > 0377 stops after two digits', String.raw`"\477"`, "'7"],
    ['unknown escape is the character', String.raw`"\q\$"`, 'q$'],
    ['empty string', '""', ''],
    ['unquoted word', 'secret-1.2_x', 'secret-1.2_x'],
    ['unicode', '"pässwörd✓"', 'pässwörd✓'],
  ])('value: %s', (_what, raw, value) => {
    const [m] = parseJaasConfig(`x.Y required k=${raw};`);
    expect(m?.options.get('k')).toBe(value);
  });

  test('comments, newlines, flags in any case, several modules', () => {
    const mods = parseJaasConfig(`
      // first
      a.B Required /* inline */ k1="v1";
      c.D sufficient;
      e.F OPTIONAL k="x"; g.H requisite;`);
    expect(mods.map((m) => [m.loginModule, m.flag, Object.fromEntries(m.options)])).toEqual([
      ['a.B', 'required', { k1: 'v1' }],
      ['c.D', 'sufficient', {}],
      ['e.F', 'optional', { k: 'x' }],
      ['g.H', 'requisite', {}],
    ]);
  });

  test.each([
    ['empty', '', /no login module/],
    ['missing semicolon', 'a.B required k="v"', /expected an option or ';'/],
    ['missing flag', 'a.B;', /expected a control flag/],
    ['bad flag', 'a.B mandatory;', /invalid control flag "mandatory"/],
    ['missing value', 'a.B required k=;', /expected a value for k/],
    ['missing equals', 'a.B required k "v";', /expected '=' after k/],
    ['unterminated string', 'a.B required k="v;', /unterminated quoted string/],
    ['newline in string', 'a.B required k="v\n";', /newline inside a quoted string/],
    ['unterminated comment', 'a.B required; /* x', /unterminated \/\* comment/],
    ['duplicate option', 'a.B required k=1 k=2;', /option k given twice/],
  ])('refuses %s', (_what, text, error) => {
    expect(() => parseJaasConfig(text)).toThrow(JaasParseError);
    expect(() => parseJaasConfig(text)).toThrow(error);
  });
});

describe('parseJaasFile', () => {
  const FILE = `
    KafkaServer {
      org.apache.kafka.common.security.plain.PlainLoginModule required
        username="admin" password="admin-secret"
        user_admin="admin-secret" user_alice="alice-secret";
    };
    sasl_ssl.KafkaServer {
      org.apache.kafka.common.security.plain.PlainLoginModule required user_bob="bob-secret";
    };
    Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="zk"; };
  `;

  test('sections by name; a listener falls back to KafkaServer', () => {
    const sections = parseJaasFile(FILE);
    expect([...sections.keys()]).toEqual(['KafkaServer', 'sasl_ssl.KafkaServer', 'Client']);
    expect(kafkaServerSection(sections, 'SASL_SSL')?.[0]?.options.get('user_bob')).toBe('bob-secret');
    expect(kafkaServerSection(sections, 'SASL_PLAINTEXT')?.[0]?.options.get('user_alice')).toBe('alice-secret');
  });

  test('PLAIN credentials per listener', () => {
    const ssl = plainCredentialsFromJaasFile(FILE, 'SASL_SSL');
    expect(ssl.passwordMatches('bob', 'bob-secret')).toBe(true);
    expect(ssl.passwordMatches('alice', 'alice-secret')).toBe(false);
    const plain = plainCredentialsFromJaasFile(FILE, 'SASL_PLAINTEXT');
    expect(plain.passwordMatches('alice', 'alice-secret')).toBe(true);
  });

  test.each([
    ['missing closing semicolon', 'KafkaServer { a.B required; }', /';' after '}'/],
    ['duplicate section', 'A { a.B required; }; A { a.B required; };', /section A given twice/],
    ['missing brace', 'A a.B required; };', /'\{' after A/],
  ])('refuses %s', (_what, text, error) => {
    expect(() => parseJaasFile(text)).toThrow(error);
  });
});

describe('PLAIN credentials from sasl.jaas.config', () => {
  test('user_<name> entries are the users; username/password are not', () => {
    const c = plainCredentialsFromJaasConfig(KAFKA_DOC_EXAMPLE);
    expect(c.size).toBe(2);
    expect(c.passwordMatches('admin', 'admin-secret')).toBe(true);
    expect(c.passwordMatches('alice', 'alice-secret')).toBe(true);
    expect(c.passwordMatches('alice', 'admin-secret')).toBe(false);
    expect(c.passwordMatches('username', 'admin')).toBe(false);
  });

  test.each([
    [
      'another login module',
      'org.apache.kafka.common.security.scram.ScramLoginModule required user_a="b";',
      /no org\.apache\.kafka\.common\.security\.plain\.PlainLoginModule/,
    ],
    ['no user_ entries', 'org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="b";', /no user_<name>/],
    ['two modules', `${KAFKA_DOC_EXAMPLE} ${KAFKA_DOC_EXAMPLE}`, /contains 2 login modules, should be 1/],
    ['"user_" alone is not a user', 'org.apache.kafka.common.security.plain.PlainLoginModule required user_="x";', /no user_<name>/],
  ])('refuses %s with a clear error', (_what, text, error) => {
    expect(() => plainCredentialsFromJaasConfig(text)).toThrow(error);
  });
});
