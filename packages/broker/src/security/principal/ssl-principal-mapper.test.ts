import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ANONYMOUS_PRINCIPAL, parseKafkaPrincipal, userPrincipal } from './kafka-principal.ts';
import { NoMatchingRuleError, rfc2253FromNodeSubject, SslPrincipalMapper } from './ssl-principal-mapper.ts';

// The rules of Kafka's documentation (security.html, "Customizing SSL User Name").
const DOC_RULES =
  'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT';

describe("Kafka's documented examples", () => {
  test.each([
    ['CN=serviceuser,OU=ServiceUsers,O=Unknown,L=Unknown,ST=Unknown,C=Unknown', 'serviceuser'],
    ['CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown', 'adminuser@admin'],
    // Third rule: anything with a CN somewhere.
    ['OU=Other,CN=Some.Host', 'some.host'],
    // No rule but DEFAULT applies: the DN itself.
    ['OU=Nobody,O=Nowhere', 'OU=Nobody,O=Nowhere'],
  ])('%s -> %s', (dn, name) => {
    expect(new SslPrincipalMapper(DOC_RULES).name(dn)).toBe(name);
  });

  test('upper case: RULE:…/$1@$2/U', () => {
    const m = new SslPrincipalMapper('RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/U');
    expect(m.name('CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown')).toBe('ADMINUSER@ADMIN');
  });

  test('the default rules map the DN to itself', () => {
    expect(new SslPrincipalMapper().name('CN=a,O=b')).toBe('CN=a,O=b');
    expect(new SslPrincipalMapper('DEFAULT').name('CN=a,O=b')).toBe('CN=a,O=b');
  });
});

describe('rule semantics', () => {
  test('first applying rule wins; a non-matching rule falls through', () => {
    const m = new SslPrincipalMapper('RULE:^CN=(.*?),OU=A$/a-$1/, RULE:^CN=(.*?),OU=B$/b-$1/');
    expect(m.name('CN=x,OU=A')).toBe('a-x');
    expect(m.name('CN=x,OU=B')).toBe('b-x');
  });

  test('no rule applies: an error naming the DN and the rules', () => {
    const m = new SslPrincipalMapper('RULE:^CN=(.*?),OU=A$/$1/');
    expect(() => m.name('CN=x,OU=C')).toThrow(NoMatchingRuleError);
    expect(() => m.name('CN=x,OU=C')).toThrow('No rules apply to CN=x,OU=C, rules [RULE:^CN=(.*?),OU=A$/$1/]');
  });

  test('the pattern must match the whole DN (not just a part)', () => {
    const m = new SslPrincipalMapper('RULE:CN=(\\w+)/$1/');
    expect(() => m.name('CN=alice,O=x')).toThrow(NoMatchingRuleError);
    expect(m.name('CN=alice')).toBe('alice');
  });

  test('a group reference beyond the groups stays literal; $12 falls back to $1 then "2"', () => {
    expect(new SslPrincipalMapper('RULE:^CN=(.*)$/$1@$4/').name('CN=x')).toBe('x@$4');
    expect(new SslPrincipalMapper('RULE:^CN=(.*)$/$12/').name('CN=x')).toBe('x2');
    expect(new SslPrincipalMapper('RULE:^CN=(.*)$/$0!/').name('CN=x')).toBe('CN=x!');
  });

  test('backslash escapes: a slash in the pattern, a dollar in the replacement', () => {
    expect(new SslPrincipalMapper('RULE:^CN=(.*)\\/(.*)$/$2\\$$1/').name('CN=a/b')).toBe('b$a');
  });

  test('a comma escaped in the DN and in the rule does not split the rules', () => {
    const m = new SslPrincipalMapper('RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/,DEFAULT');
    expect(m.name('CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz')).toBe('Tkac\\, Adam');
    expect(m.name('OU=x')).toBe('OU=x');
  });

  test('whitespace around rules and commas is ignored; empty rules are skipped', () => {
    const m = new SslPrincipalMapper('  RULE:^CN=(.*?),OU=A$/$1/L ,\n  DEFAULT  ');
    expect(m.name('CN=X,OU=A')).toBe('x');
    expect(m.toString()).toBe('SslPrincipalMapper(rules = [RULE:^CN=(.*?),OU=A$/$1/L, DEFAULT])');
  });

  test('lazy patterns can match more than once: every match is replaced, as Java replaceAll', () => {
    // "x*" matches "" before each character and at the end.
    expect(new SslPrincipalMapper('RULE:(x*)/-/').name('xx')).toBe('--');
  });
});

describe('invalid rules are refused when parsed', () => {
  test.each([
    'default',
    'DEFAUL',
    'DEFAULT/L',
    'DEFAULT/U',
    'DEFAULTX',
    'rule:^CN=(.*?),OU=ServiceUsers.*$/$1/',
    'RULE:CN=(.*?),OU=ServiceUsers.*/$1',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/L',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/U',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/LU',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/X',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/, garbage',
  ])('%s', (rules) => {
    expect(() => new SslPrincipalMapper(rules)).toThrow(/Invalid rule/);
  });

  test('a pattern that does not compile', () => {
    expect(() => new SslPrincipalMapper('RULE:^CN=(a++)$/$1/')).toThrow(/does not compile/);
    expect(() => new SslPrincipalMapper('RULE:(?i)^cn=(.*)$/$1/')).toThrow(/does not compile/);
  });

  test('a group reference when the pattern has no groups', () => {
    expect(() => new SslPrincipalMapper('RULE:^CN=.*$/$1/')).toThrow(/has no groups/);
  });

  test.each([
    'DEFAULT',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT',
    'RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/',
    'RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L',
    'RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U',
    'RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/',
    'RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/',
    '',
  ])('valid: %s', (rules) => {
    expect(() => new SslPrincipalMapper(rules)).not.toThrow();
  });
});

describe('principals', () => {
  test('names as Kafka prints them', () => {
    expect(ANONYMOUS_PRINCIPAL).toBe('User:ANONYMOUS');
    expect(userPrincipal('alice')).toBe('User:alice');
    expect(parseKafkaPrincipal('User:CN=a,O=b:c')).toEqual({ type: 'User', name: 'CN=a,O=b:c' });
    expect(() => parseKafkaPrincipal('alice')).toThrow(/principalType:principalName/);
  });
});

describe('certificate subject to RFC 2253', () => {
  test('node:crypto subject lines, reversed and joined; multi-valued RDNs with +', () => {
    expect(rfc2253FromNodeSubject('C=US\nST=CA\nO=Acme\\, Inc.\nOU=Service Users\nCN=svc + UID=42')).toBe(
      'CN=svc+UID=42,OU=Service Users,O=Acme\\, Inc.,ST=CA,C=US',
    );
  });

  test('a certificate made by openssl maps like its RFC 2253 subject', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-dn-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          join(dir, 'k.pem'),
          '-out',
          join(dir, 'c.pem'),
          '-days',
          '1',
          '-subj',
          '/C=US/O=Acme, Inc./OU=ServiceUsers/CN=serviceuser',
        ],
        { stdio: 'ignore' },
      );
      const cert = new X509Certificate(readFileSync(join(dir, 'c.pem')));
      const dn = rfc2253FromNodeSubject(cert.subject);
      const openssl = execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8' }).trim();
      expect(`subject=${dn}`).toBe(openssl);
      expect(new SslPrincipalMapper(DOC_RULES).name(dn)).toBe('serviceuser');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
