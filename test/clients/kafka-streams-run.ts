// Kafka Streams exactly-once, full run (kafka-streams.ts): `pnpm exec node
// test/clients/kafka-streams-run.ts [--records 100000] [--rate 2500] [--guarantee at_least_once] [--cluster]`. A word count over 100k
// input records with processing.guarantee=exactly_once_v2; the Streams process is SIGKILLed
// twice and the broker once while it runs; the output counts must be exact. Exits 1 otherwise.
// --cluster: etcd and 3 brokers, every topic with replication factor 3; Streams is SIGKILLed
// twice and brokers three times (the input partition's leader, then the application's
// transaction coordinator, then its group coordinator), each down 5 s while the run goes on.

import { parseArgs } from 'node:util';
import { runWordCount } from './kafka-streams.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '2500' },
    guarantee: { type: 'string', default: 'exactly_once_v2' },
    cluster: { type: 'boolean', default: false },
  },
});
const report = await runWordCount({
  records: Number(values.records),
  ratePerSecond: Number(values.rate),
  guarantee: values.guarantee,
  cluster: values.cluster,
  streamsKillsAt: values.cluster ? [0.15, 0.45] : [0.2, 0.45],
  brokerKillsAt: values.cluster ? [0.3, 0.6, 0.8] : [0.7],
  progress: (line) => process.stdout.write(`${line}\n`),
});
const exact = report.wrongCounts.length === 0 && report.notIncreasing.length === 0;
process.stdout.write(
  `${report.records} input records, ${report.words} words, ${report.streamsKills} Streams SIGKILLs, ${report.brokerKills} broker SIGKILLs, ${report.seconds} s; ` +
    `${report.outputRecords} count updates under read_committed; wrong counts ${report.wrongCounts.length} (${report.overcounted.length} counted past the input), not increasing ${report.notIncreasing.length} — ${exact ? 'EXACT' : 'FAILED'}\n`,
);
if (!exact)
  process.stdout.write(
    `${JSON.stringify({ overcounted: report.overcounted.slice(0, 10), wrongCounts: report.wrongCounts.slice(0, 10), notIncreasing: report.notIncreasing.slice(0, 20) })}\n`,
  );
process.exitCode = exact ? 0 : 1;
