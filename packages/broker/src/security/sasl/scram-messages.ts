// SCRAM message grammar (RFC 5802 section 7), the two client messages a server parses and the two
// server messages it writes. Parsing keeps the exact text of the parts that enter AuthMessage
// (client-first-message-bare, client-final-message-without-proof), so the signatures are computed
// over what the client sent, extensions included, as the RFC requires.
//
// Accepted as Kafka's ScramMessages accepts them, with these deliberate differences:
// - gs2 header: only "n" (the client does not support channel binding); "y" and "p=" are
//   refused, as in Kafka.
// - a reserved mandatory extension "m=" is refused (RFC 5802: the server MUST fail); Kafka's
//   pattern accepts and ignores it. No known client sends it.
// - saslname and authzid may hold any UTF-8 except NUL, ',' and a bare '=' (RFC 5802); Kafka's
//   pattern allows ASCII only. '=2C' and '=3D' decode to ',' and '='; any other '=' is invalid.

export interface ClientFirstMessage {
  /** The gs2 header as sent, e.g. 'n,,' or 'n,a=alice,'. Channel binding must echo it. */
  readonly gs2Header: string;
  /** Decoded authzid, '' when absent. */
  readonly authorizationId: string;
  /** Decoded username. */
  readonly username: string;
  readonly clientNonce: string;
  /** Extensions (`,name=value` after the nonce), e.g. Kafka's `tokenauth=true`. */
  readonly extensions: ReadonlyMap<string, string>;
  /** client-first-message-bare as sent: everything after the gs2 header. */
  readonly bare: string;
}

export interface ClientFinalMessage {
  /** The c= attribute's bytes (base64-decoded). */
  readonly channelBinding: Uint8Array;
  readonly nonce: string;
  readonly proof: Uint8Array;
  /** client-final-message-without-proof as sent. */
  readonly withoutProof: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: 'invalid-encoding' | 'channel-binding-not-supported' | 'extensions-not-supported'; readonly error: string };

/**
 * Longest SCRAM message accepted. RFC 5802 sets none and Kafka relies on
 * `sasl.server.max.receive.size` (512 KiB); real messages are under 1 KiB (a username, two
 * nonces, a base64 proof). The cap keeps the patterns below away from inputs so long that the
 * regular-expression engine's backtracking stack overflows.
 */
export const MAX_SCRAM_MESSAGE_CHARS = 64 * 1024;

// Character classes of RFC 5802 (value-char excludes ',' and NUL; printable is %x21-7E minus ',').
// SASLNAME is written as an unrolled loop (runs of plain characters between escapes) so the
// engine iterates per escape, not per character.
const SASLNAME = '(?=[^,])[^\\u0000=,]*(?:=(?:2C|3D)[^\\u0000=,]*)*';
const VALUE = '[^\\u0000,]+';
const PRINTABLE = '[\\x21-\\x2B\\x2D-\\x7E]+';
const BASE64 = '(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)?';
const EXTENSIONS = `(?:,[A-Za-z]+=${VALUE})*`;

const CLIENT_FIRST = new RegExp(`^(n,(?:a=(${SASLNAME}))?,)(n=(${SASLNAME}),r=(${PRINTABLE})(${EXTENSIONS}))$`, 'u');
const CLIENT_FINAL = new RegExp(`^(c=(${BASE64}),r=(${PRINTABLE})${EXTENSIONS}),p=(${BASE64})$`, 'u');

/** RFC 5802 saslname decoding: '=2C' -> ',', '=3D' -> '='. The pattern has already refused other '='. */
export function decodeSaslName(name: string): string {
  return name.replace(/=2C|=3D/g, (m) => (m === '=2C' ? ',' : '='));
}

/** RFC 5802 saslname encoding, as a client sends a username. */
export function encodeSaslName(name: string): string {
  return name.replace(/[=,]/g, (c) => (c === '=' ? '=3D' : '=2C'));
}

function parseExtensions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  if (text === '') return out;
  for (const part of text.slice(1).split(',')) {
    const eq = part.indexOf('=');
    out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

function tooLong(text: string): ParseResult<never> | null {
  return text.length > MAX_SCRAM_MESSAGE_CHARS
    ? { ok: false, reason: 'invalid-encoding', error: `SCRAM message of ${text.length} characters exceeds ${MAX_SCRAM_MESSAGE_CHARS}` }
    : null;
}

export function parseClientFirst(text: string): ParseResult<ClientFirstMessage> {
  const long = tooLong(text);
  if (long !== null) return long;
  const m = CLIENT_FIRST.exec(text);
  if (m === null) {
    if (text.startsWith('p='))
      return { ok: false, reason: 'channel-binding-not-supported', error: 'channel binding requested (gs2 header "p="), which is not supported' };
    if (text.startsWith('y,'))
      return { ok: false, reason: 'channel-binding-not-supported', error: 'gs2 header "y": the client believes the server does not support channel binding' };
    if (/^n,(?:a=[^,]*)?,m=/.test(text)) return { ok: false, reason: 'extensions-not-supported', error: 'mandatory extension "m=" is not supported' };
    return { ok: false, reason: 'invalid-encoding', error: 'Invalid SCRAM client first message format' };
  }
  // Groups 1, 3, 4, 5 and 6 always take part in a match; group 2 (authzid) is optional.
  const [, gs2Header = '', authzid, bare = '', saslName = '', clientNonce = '', extensions = ''] = m;
  return {
    ok: true,
    value: {
      gs2Header,
      authorizationId: authzid === undefined ? '' : decodeSaslName(authzid),
      username: decodeSaslName(saslName),
      clientNonce,
      extensions: parseExtensions(extensions),
      bare,
    },
  };
}

export function parseClientFinal(text: string): ParseResult<ClientFinalMessage> {
  const long = tooLong(text);
  if (long !== null) return long;
  const m = CLIENT_FINAL.exec(text);
  if (m === null) return { ok: false, reason: 'invalid-encoding', error: 'Invalid SCRAM client final message format' };
  // Every group takes part in a match.
  const [, withoutProof = '', channel = '', nonce = '', proof = ''] = m;
  return {
    ok: true,
    value: {
      channelBinding: Buffer.from(channel, 'base64'),
      nonce,
      proof: Buffer.from(proof, 'base64'),
      withoutProof,
    },
  };
}

export function formatServerFirst(nonce: string, salt: Uint8Array, iterations: number): string {
  return `r=${nonce},s=${Buffer.from(salt).toString('base64')},i=${iterations}`;
}

export function formatServerFinal(serverSignature: Uint8Array): string {
  return `v=${Buffer.from(serverSignature).toString('base64')}`;
}
