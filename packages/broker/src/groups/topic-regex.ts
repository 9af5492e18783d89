// SubscribedTopicRegex (ConsumerGroupHeartbeat v1+): Kafka compiles it with RE2/J and matches
// whole topic names. Here it runs as a JavaScript RegExp, after a check that refuses what RE2
// does not have, so a pattern is accepted here exactly when it is RE2 syntax that means the same
// in both engines:
//   refused (INVALID_REGULAR_EXPRESSION): backreferences (\1, \k<name>), lookahead/lookbehind
//   ((?=, (?!, (?<=, (?<!), atomic groups and possessive quantifiers (RE2 has neither; JS throws
//   on them anyway), POSIX classes [[:alpha:]] (RE2 has them, JS would read them as a set of
//   characters), anything the JS engine itself cannot compile;
//   translated: RE2's (?P<name>…) named groups become JS's (?<name>…); leading inline flags
//   (?i) (?s) (?m) become RegExp flags (elsewhere, inline flags are refused);
//   \Q…\E literal quoting is escaped.
// A topic matches when the whole name matches (Java's Matcher.matches()).

export type CompiledRegex = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly message: string };

function escapeLiteral(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function compileTopicRegex(source: string): CompiledRegex {
  const fail = (why: string): CompiledRegex => ({ ok: false, message: `Invalid regular expression ${JSON.stringify(source)}: ${why}` });
  let flags = '';
  let pattern = source;
  const leading = /^\(\?([ism]+)\)/.exec(pattern);
  if (leading !== null) {
    flags = [...new Set(leading[1])].join('');
    pattern = pattern.slice(leading[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) return fail('trailing backslash');
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const literal = end === -1 ? pattern.slice(i + 2) : pattern.slice(i + 2, end);
        out += escapeLiteral(literal);
        i = end === -1 ? pattern.length : end + 1;
        continue;
      }
      if (!inClass && /[1-9]/.test(next)) return fail('backreferences are not supported (RE2)');
      if (next === 'k') return fail('backreferences are not supported (RE2)');
      out += c + next;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') return fail('POSIX character classes are not supported');
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal in RE2.
      if (pattern[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
      if (rest.startsWith(':')) {
        out += '(?:';
        i += 2;
        continue;
      }
      if (/^<[A-Za-z_]/.test(rest)) {
        out += '(?';
        i += 1;
        continue;
      }
      if (rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) return fail('lookaround is not supported (RE2)');
      if (rest.startsWith('>')) return fail('atomic groups are not supported (RE2)');
      return fail('inline flags are supported only at the start of the expression');
    }
    if ((c === '+' || c === '*' || c === '?' || c === '}') && pattern[i + 1] === '+') return fail('possessive quantifiers are not supported (RE2)');
    out += c;
  }
  if (inClass) return fail('missing closing ]');
  try {
    return { ok: true, regex: new RegExp(`^(?:${out})$`, flags) };
  } catch (e) {
    return fail((e as Error).message);
  }
}
