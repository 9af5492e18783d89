// Micro-benchmark of the codec on the two hot messages, and the measurement that chose compiled
// codecs over an interpreter:
//   - Produce request with 100 partitions (10 topics x 10 partitions, 1 KiB record set each):
//     decode (the broker's hot path) and encode (the CLI's);
//   - Fetch response with 100 partitions: encode with ExternalRecords (the broker's hot path: the
//     record bytes stay in the segment files) and decode with inline record sets (the CLI's).
// Each at a classic and a flexible version, compiled (src/codec.ts) vs interpreted
// (bench/interpreter.ts) over the same plan, in the same run.
//
// Run: pnpm exec node packages/protocol/bench/codec.bench.ts

import { deepStrictEqual } from 'node:assert';
import { codecFor } from '../src/codec.ts';
import { ApiKey, decodeRequestHeader, requestSpecs, responseSpecs } from '../src/index.ts';
import { writeRequestHeader, writeResponseHeader } from '../src/headers.ts';
import { Reader } from '../src/primitives/reader.ts';
import { Writer } from '../src/primitives/writer.ts';
import type { MessageSpec } from '../src/spec.ts';
import { interpreterFor } from './interpreter.ts';

const PARTITIONS = 100;
const RECORD_SET_BYTES = 1024;

interface Codec {
  decode(r: Reader): unknown;
  encode(w: Writer, v: unknown): void;
}

function recordSet(seed: number): Uint8Array {
  return Uint8Array.from({ length: RECORD_SET_BYTES }, (_, i) => (seed + i) & 0xff);
}

function produceRequest(): unknown {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: Array.from({ length: 10 }, (_, t) => ({
      name: `topic-${t}`,
      partitionData: Array.from({ length: PARTITIONS / 10 }, (_, p) => ({ index: p, records: recordSet(t * 10 + p) })),
    })),
  };
}

function fetchResponse(version: number, records: (i: number) => unknown): unknown {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: Array.from({ length: 10 }, (_, t) => ({
      topic: `topic-${t}`,
      topicId: '00000000000000000000000000000000',
      partitions: Array.from({ length: PARTITIONS / 10 }, (_, p) => ({
        partitionIndex: p,
        errorCode: 0,
        highWatermark: 1_000_000 + p,
        lastStableOffset: 1_000_000 + p,
        logStartOffset: 0,
        abortedTransactions: version >= 4 ? null : [],
        preferredReadReplica: -1,
        records: records(t * 10 + p),
      })),
    })),
  };
}

/** Median ops/second over 5 rounds of ~200 ms, after warm-up. */
function opsPerSecond(fn: () => void): number {
  for (let i = 0; i < 3000; i++) fn();
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < 200_000_000n) {
      for (let i = 0; i < 200; i++) fn();
      n += 200;
      elapsed = process.hrtime.bigint() - start;
    }
    rounds.push(n / (Number(elapsed) / 1e9));
  }
  rounds.sort((a, b) => a - b);
  return rounds[2];
}

function frameBytes(w: Writer): Uint8Array {
  return w.buf.slice(0, w.pos);
}

interface Row {
  name: string;
  frameBytes: number;
  compiled: number;
  interpreted: number;
}

const rows: Row[] = [];

function compare(name: string, bytes: number, run: (codec: Codec) => () => void, spec: MessageSpec, version: number): void {
  const compiled = opsPerSecond(run(codecFor(spec, version)));
  const interpreted = opsPerSecond(run(interpreterFor(spec, version)));
  rows.push({ name, frameBytes: bytes, compiled, interpreted });
}

const produceSpec = requestSpecs.get(ApiKey.Produce) as MessageSpec;
const fetchSpec = responseSpecs.get(ApiKey.Fetch) as MessageSpec;
const produceResponseSpec = responseSpecs.get(ApiKey.Produce) as MessageSpec;

for (const version of [7, 9]) {
  // Produce request: a full frame as the broker receives it.
  const body = produceRequest();
  const w = new Writer();
  w.beginFrame();
  writeRequestHeader(w, ApiKey.Produce, version, 1, 'bench');
  codecFor(produceSpec, version).encode(w, body);
  const frame = frameBytes(w).subarray(4);

  // The two codecs must agree before their speed means anything.
  const header = decodeRequestHeader(frame);
  const viaCompiled = codecFor(produceSpec, version).decode(new Reader(frame, header.bodyOffset));
  const viaInterpreter = interpreterFor(produceSpec, version).decode(new Reader(frame, header.bodyOffset));
  deepStrictEqual(viaInterpreter, viaCompiled);

  compare(
    `Produce v${version} request decode`,
    frame.length,
    (codec) => () => {
      const h = decodeRequestHeader(frame);
      codec.decode(new Reader(frame, h.bodyOffset));
    },
    produceSpec,
    version,
  );
  compare(
    `Produce v${version} request encode`,
    frame.length,
    (codec) => {
      const out = new Writer(256 * 1024);
      return () => {
        out.beginFrame();
        writeRequestHeader(out, ApiKey.Produce, version, 1, 'bench');
        codec.encode(out, body);
        out.finishFrame();
      };
    },
    produceSpec,
    version,
  );

  // The Produce response the broker sends back for it.
  const responseBody = {
    responses: Array.from({ length: 10 }, (_, t) => ({
      name: `topic-${t}`,
      partitionResponses: Array.from({ length: 10 }, (_, p) => ({ index: p, errorCode: 0, baseOffset: 1_000_000 + p, logAppendTimeMs: -1, logStartOffset: 0 })),
    })),
    throttleTimeMs: 0,
  };
  compare(
    `Produce v${version} response encode`,
    0,
    (codec) => {
      const out = new Writer(64 * 1024);
      return () => {
        out.beginFrame();
        writeResponseHeader(out, ApiKey.Produce, version, 1);
        codec.encode(out, responseBody);
        out.finishFrame();
      };
    },
    produceResponseSpec,
    version,
  );
}

for (const version of [11, 12]) {
  // Broker hot path: every byte but the records, which go out by sendfile.
  const external = fetchResponse(version, () => ({ byteLength: RECORD_SET_BYTES }));
  compare(
    `Fetch v${version} response encode (external records)`,
    0,
    (codec) => {
      const out = new Writer(64 * 1024);
      return () => {
        out.beginFrame();
        writeResponseHeader(out, ApiKey.Fetch, version, 1);
        codec.encode(out, external);
        out.finishFrame();
      };
    },
    fetchSpec,
    version,
  );

  const inline = fetchResponse(version, recordSet);
  const w = new Writer();
  codecFor(fetchSpec, version).encode(w, inline);
  const body = frameBytes(w);
  deepStrictEqual(interpreterFor(fetchSpec, version).decode(new Reader(body)), codecFor(fetchSpec, version).decode(new Reader(body)));
  compare(
    `Fetch v${version} response decode (inline records)`,
    body.length,
    (codec) => () => {
      codec.decode(new Reader(body));
    },
    fetchSpec,
    version,
  );
}

// --- report ----------------------------------------------------------------------------------

const us = (opsPerSec: number) => `${(1e6 / opsPerSec).toFixed(2).padStart(7)} µs`;
const mbps = (bytes: number, opsPerSec: number) => (bytes === 0 ? '' : `${((bytes * opsPerSec) / 1e6).toFixed(0).padStart(6)} MB/s`);

console.log(`codec micro-benchmark: ${PARTITIONS} partitions, ${RECORD_SET_BYTES}-byte record sets, Node ${process.version}`);
console.log('per operation (frame throughput where the frame includes record bytes); ratio = compiled / interpreted speed\n');
console.log(`${'operation'.padEnd(48)}${'compiled'.padEnd(26)}${'interpreted'.padEnd(26)}ratio`);
for (const r of rows) {
  const c = `${us(r.compiled)} ${mbps(r.frameBytes, r.compiled)}`;
  const i = `${us(r.interpreted)} ${mbps(r.frameBytes, r.interpreted)}`;
  console.log(`${r.name.padEnd(48)}${c.padEnd(26)}${i.padEnd(26)}${(r.compiled / r.interpreted).toFixed(2)}x`);
}

// The budget the issue sets: decoding must be well under the storage append it feeds.
const appendBytes = PARTITIONS * RECORD_SET_BYTES;
const appendMicros = (appendBytes / 0.76e9) * 1e6; // ARCHITECTURE.md: write() into new page-cache pages ~0.76 GB/s
const produceDecode = rows.find((r) => r.name === 'Produce v9 request decode') as Row;
console.log(
  `\nProduce v9 decode (compiled) ${(1e6 / produceDecode.compiled).toFixed(2)} µs vs appending its ${appendBytes / 1024} KiB at 0.76 GB/s ≈ ${appendMicros.toFixed(0)} µs ` +
    `(${((1e6 / produceDecode.compiled / appendMicros) * 100).toFixed(1)}% of the append)`,
);
