// Apache Kafka's command-line tools, run the way bin/kafka-*.sh runs them: `java -cp <jars>/*
// <MainClass> args`. The jars are Kafka's own from Maven Central (bench/kafka/pom.xml, cached by
// bench/kafka/kafka.ts outside the repository; `.ci/run` fetches them before the suites through
// test/clients/install.ts, so a test run downloads nothing).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureKafkaJars, javaVersion, kafkaVersion } from '../../bench/kafka/kafka.ts';

/** The main class behind each bin/kafka-*.sh script (Kafka 4: all in kafka-tools). */
export const KAFKA_TOOL = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  consoleProducer: 'org.apache.kafka.tools.ConsoleProducer',
  consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  configs: 'org.apache.kafka.tools.ConfigCommand',
  acls: 'org.apache.kafka.tools.AclCommand',
  getOffsets: 'org.apache.kafka.tools.GetOffsetShell',
  deleteRecords: 'org.apache.kafka.tools.DeleteRecordsCommand',
  logDirs: 'org.apache.kafka.tools.LogDirsCommand',
  producerPerf: 'org.apache.kafka.tools.ProducerPerformance',
  consumerPerf: 'org.apache.kafka.tools.ConsumerPerformance',
  dumpLog: 'org.apache.kafka.tools.DumpLogSegments',
  leaderElection: 'org.apache.kafka.tools.LeaderElectionCommand',
  reassignPartitions: 'org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
  features: 'org.apache.kafka.tools.FeatureCommand',
  transactions: 'org.apache.kafka.tools.TransactionsCommand',
} as const;

const LOG4J2 = join(import.meta.dirname, '..', '..', 'bench', 'kafka', 'tools-log4j2.properties');

/**
 * kafka-run-class.sh's heap for tools (-Xmx256M); C1 only and the serial collector because these
 * JVMs live a second or two on a shared 2-core machine, where start-up is most of their time.
 */
const JVM_OPTIONS = ['-Xmx256M', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${LOG4J2}`];

/** The directory of Kafka's jars (fetched on first use; `.ci/run` does it ahead of the tests). */
export function kafkaToolsLibs(log: (line: string) => void = () => {}): string {
  javaVersion();
  return ensureKafkaJars(kafkaVersion(), log);
}

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ToolOptions {
  /** Written to the tool's stdin, which is then closed (closed at once when absent). */
  readonly input?: string;
  readonly timeoutMs?: number;
}

export function runKafkaTool(libs: string, mainClass: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', [...JVM_OPTIONS, '-cp', `${libs}/*`, mainClass, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${mainClass} ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
