// SASL on a Kafka connection (KIP-152): SaslHandshake v1 names the mechanism, then each SASL
// token travels in a SaslAuthenticate request. PLAIN is one token (RFC 4616); SCRAM is two
// round trips (scram-client.ts). Re-authentication (KIP-368) is not done: a connection whose
// session lifetime ends is closed by the broker and reopened by its owner.

import { ErrorCode } from '@sluice/protocol';
import { ScramClient } from './scram-client.ts';

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

export interface SaslCredentials {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** The broker refused the mechanism or the credentials. */
export class SaslAuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslAuthenticationError';
  }
}

/** The two requests authentication needs, as the connection sends them. */
export interface SaslTransport {
  handshake(mechanism: string): Promise<{ errorCode: number; mechanisms: readonly string[] }>;
  authenticate(token: Uint8Array): Promise<{ errorCode: number; errorMessage: string | null; authBytes: Uint8Array }>;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

export async function saslAuthenticate(transport: SaslTransport, credentials: SaslCredentials): Promise<void> {
  const hello = await transport.handshake(credentials.mechanism);
  if (hello.errorCode !== 0) {
    const offered = hello.mechanisms.length > 0 ? hello.mechanisms.join(', ') : 'none';
    throw new SaslAuthenticationError(`the broker does not enable SASL mechanism ${credentials.mechanism} on this listener (it offers: ${offered})`);
  }
  const step = async (token: string): Promise<string> => {
    const r = await transport.authenticate(utf8.encode(token));
    if (r.errorCode !== 0) {
      const reason = r.errorMessage ?? (r.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED ? 'authentication failed' : `error code ${r.errorCode}`);
      throw new SaslAuthenticationError(`SASL ${credentials.mechanism} authentication as ${credentials.username} failed: ${reason}`);
    }
    return text.decode(r.authBytes);
  };
  if (credentials.mechanism === 'PLAIN') {
    await step(`\0${credentials.username}\0${credentials.password}`);
    return;
  }
  const scram = new ScramClient(credentials.mechanism, credentials.username, credentials.password);
  const serverFirst = await step(scram.firstMessage());
  const serverFinal = await step(scram.finalMessage(serverFirst));
  try {
    scram.verifyServerFinal(serverFinal);
  } catch (err) {
    throw new SaslAuthenticationError((err as Error).message);
  }
}
