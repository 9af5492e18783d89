// The typed face of the codec: which generated type goes with which API key, and what the encoder
// accepts. The types themselves are generated (src/generated/messages.ts) from the same message
// descriptions the codec is compiled from, so a decoded body has exactly its type's shape.

import type { RequestTypes, ResponseTypes, ServedApiKey } from './generated/messages.ts';
import type { ExternalRecords } from './spec.ts';

export type { RequestTypes, ResponseTypes, ServedApiKey } from './generated/messages.ts';

/** Any served request body. */
export type AnyRequest = RequestTypes[ServedApiKey];
/** Any served response body. */
export type AnyResponse = ResponseTypes[ServedApiKey];

/** The request type of API key K: exact for a served literal key, any request for `number`. */
export type RequestOf<K extends number> = K extends ServedApiKey ? RequestTypes[K] : AnyRequest;
/** The response type of API key K: exact for a served literal key, any response for `number`. */
export type ResponseOf<K extends number> = K extends ServedApiKey ? ResponseTypes[K] : AnyResponse;

/**
 * What the encoder accepts for a body of type T: any field, at any depth, may be left out and is
 * then written as its default (README, "Values"). Decoded bodies and handler answers are whole.
 */
export type Encodable<T> = T extends Uint8Array | ExternalRecords | string | number | boolean | null | undefined
  ? T
  : T extends ReadonlyArray<infer E>
    ? ReadonlyArray<Encodable<E>>
    : { [P in keyof T]?: Encodable<T[P]> };
