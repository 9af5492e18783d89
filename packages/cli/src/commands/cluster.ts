// `sluice cluster`: the cluster id, the controller, the brokers, and the API versions table of
// the bootstrap broker — its ranges, this client's, and the version the two settled on
// (kafka-broker-api-versions.sh shows the same negotiation). `sluice cluster status`: the brokers,
// the controller, and every partition that is under-replicated (ISR smaller than its replicas)
// or offline (no leader), from Metadata.

import type { Command } from 'commander';
import { describeCluster, versionTable } from '@sluice/client';
import { withBootstrap, withClient, writeOut } from '../output/command.ts';
import { type OutputFormat, withOutput, writeJson } from '../output/format.ts';
import { formatTable } from '../output/table.ts';

const range = (r: readonly [number, number] | null) => (r === null ? null : `${r[0]}-${r[1]}`);

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster');
  // `sluice cluster status`: what an operator checks after a broker died or came back. Its
  // --bootstrap-server is the one `cluster` parses (before or after `status`).
  cluster
    .command('status')
    .description('brokers, controller, and the under-replicated and offline partitions')
    .action(async (_opts: unknown, command: Command) => {
      await withClient(command.optsWithGlobals<{ bootstrapServer: string }>(), async (client) => {
        const described = await describeCluster(client);
        const md = await client.metadata(null);
        const rows: Array<Array<string | number>> = [];
        let partitions = 0;
        for (const t of [...md.topics.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
          for (const p of t.partitions) {
            partitions++;
            const state = p.leaderId < 0 ? 'offline' : p.isr.length < p.replicas.length ? 'under-replicated' : null;
            if (state !== null) rows.push([t.name, p.partition, p.leaderId < 0 ? 'none' : p.leaderId, p.replicas.join(','), p.isr.join(','), state]);
          }
        }
        const out =
          `Cluster ID: ${described.clusterId ?? '(none)'}\n` +
          `Controller: ${described.controllerId < 0 ? '(none)' : described.controllerId}\n` +
          `Brokers: ${described.brokers.map((b) => b.nodeId).join(', ')}\n` +
          `Partitions: ${partitions}, under-replicated: ${rows.filter((r) => r[5] === 'under-replicated').length}, offline: ${rows.filter((r) => r[5] === 'offline').length}\n` +
          (rows.length === 0 ? '' : `\n${formatTable(['TOPIC', 'PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'STATE'], rows)}`);
        await writeOut(out);
      });
    });
  withOutput(withBootstrap(cluster.description('cluster id, controller, brokers and API versions')))
    .option('--all-apis', 'list APIs the broker does not serve too')
    .action(async (opts: { bootstrapServer: string; allApis?: boolean; output: OutputFormat }) => {
      await withClient(opts, async (client) => {
        const cluster = await describeCluster(client);
        const conn = client.bootstrap;
        const rows = versionTable(conn.brokerApiVersions).filter((r) => opts.allApis || r.broker !== null);
        if (opts.output === 'json') {
          await writeJson({
            clusterId: cluster.clusterId,
            controllerId: cluster.controllerId < 0 ? null : cluster.controllerId,
            brokers: cluster.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
            apis: rows.map((r) => ({ name: r.name, key: r.apiKey, broker: r.broker, client: r.client, used: r.negotiated })),
          });
          return;
        }
        const out =
          `Cluster ID: ${cluster.clusterId ?? '(none)'}\n` +
          `Controller: ${cluster.controllerId < 0 ? '(none)' : cluster.controllerId}\n` +
          `\nBrokers:\n` +
          formatTable(
            ['ID', 'HOST', 'PORT', 'RACK'],
            cluster.brokers.map((b) => [b.nodeId, b.host, b.port, b.rack]),
          ) +
          `\nAPI versions of ${conn.address}:\n` +
          formatTable(
            ['API', 'KEY', 'BROKER', 'CLIENT', 'USED'],
            rows.map((r) => [r.name, r.apiKey, range(r.broker), range(r.client), r.negotiated ?? (r.broker !== null && r.client !== null ? 'none' : null)]),
          );
        await writeOut(out);
      });
    });
}
