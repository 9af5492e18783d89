// The client commands (Kafka-style tools): registered together, and loaded by main.ts only when
// the command line is not `sluice start`, so a broker never loads the tools' code.

import type { Command } from 'commander';
import { registerAcls } from './acls.ts';
import { registerCluster } from './cluster.ts';
import { registerConsume } from './consume.ts';
import { registerGroups } from './groups.ts';
import { registerLogDump } from './log-dump.ts';
import { registerProduce } from './produce.ts';
import { registerQuotas } from './quotas.ts';
import { registerTopics } from './topics.ts';
import { registerTransactions } from './transactions.ts';
import { registerUsers } from './users.ts';

export function registerTools(program: Command): void {
  registerTopics(program);
  registerProduce(program);
  registerConsume(program);
  registerGroups(program);
  registerTransactions(program);
  registerCluster(program);
  registerLogDump(program);
  registerAcls(program);
  registerUsers(program);
  registerQuotas(program);
}
