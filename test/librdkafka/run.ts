// librdkafka's own regression tests against a Sluice broker. Not part of `pnpm test` (it builds a
// C library and runs for many minutes); run it by hand:
//
//   pnpm exec node test/librdkafka/run.ts [--tests 0001,0012,...] [--full] [--keep-going]
//   pnpm exec node test/librdkafka/run.ts --transactions   # 0055, 0061, 0129, 0137 in full
//   pnpm exec node test/librdkafka/run.ts --cluster        # against etcd + 3 brokers in cluster mode
//
// Where the tests come from: the @confluentinc/kafka-javascript npm package ships librdkafka's
// source tree, tests included (deps/librdkafka). `npm pack` fetches the pinned tarball into a
// cache dir (~/.cache/sluice-librdkafka, or $SLUICE_LIBRDKAFKA_CACHE); it is unpacked, librdkafka
// is built with ./configure && make, and then its test runner (tests/test-runner).
//
// What runs: the tests that need a broker (`-L`: librdkafka's broker-less tests, flagged
// TEST_F_LOCAL, test librdkafka alone), with TEST_KAFKA_VERSION=4.0.0 so that each test's own
// broker-version gates match Kafka 4.0, in librdkafka's quick mode (`-Q`, what its CI runs;
// `--full` drops it), two at a time. EXCLUDED below names the tests out of scope and why; they
// are passed as TESTS_SKIP. One broker process serves the whole run (test topics have unique
// names), started like the end-to-end tests start theirs.
//
// `--cluster` runs the same suite against a real etcd and three brokers in cluster mode
// (cluster.ts), every broker in `bootstrap.servers`, auto-created topics with replication factor 3;
// the tests excluded only because they need several brokers or replication factor 3
// (CLUSTER_ONLY) run there.
//
// Results: test/librdkafka/last-run.json (per test PASSED / FAILED / SKIPPED with librdkafka's
// reason, and the run's settings) and the table in test/librdkafka/README.md between its
// markers, both rewritten by every run that is not limited with --tests; --transactions writes
// last-transactions-run.json and its own table, --cluster last-cluster-run.json and its own.
//
// System packages the build needs (Debian names; installed with apt-get when missing and root):
// build-essential, pkg-config, zlib1g-dev, libzstd-dev, liblz4-dev, libssl-dev, rapidjson-dev.
// SASL/GSSAPI and
// curl are configured out (their tests are excluded, as are SSL's: Sluice serves PLAINTEXT).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCluster, startSingleBroker, type TestBrokers } from './cluster.ts';

/** The npm package whose tarball carries librdkafka's source and tests (deps/librdkafka). */
const PACKAGE = '@confluentinc/kafka-javascript';
const PACKAGE_VERSION = '1.10.1';
const KAFKA_VERSION = '4.0.0';
// rapidjson-dev: the C++ tests that check librdkafka's statistics JSON (0053, 0110) need it.
const APT_PACKAGES = ['build-essential', 'pkg-config', 'zlib1g-dev', 'libzstd-dev', 'liblz4-dev', 'libssl-dev', 'rapidjson-dev'];
// OpenSSL is built in (some tests check librdkafka's own SSL config handling without a broker);
// GSSAPI and curl (OIDC) are not.
const CONFIGURE_FLAGS = ['--disable-gssapi', '--disable-curl'];

const HERE = resolve(import.meta.dirname);
const CACHE = process.env.SLUICE_LIBRDKAFKA_CACHE ?? join(homedir(), '.cache', 'sluice-librdkafka');
const UNPACKED = join(CACHE, `${PACKAGE_VERSION}`);
const LIBRDKAFKA = join(UNPACKED, 'package', 'deps', 'librdkafka');
const TESTS_DIR = join(LIBRDKAFKA, 'tests');

/**
 * Out of scope (issue 12): tests that shell out to Kafka's scripts (KAFKA_PATH, kafka-topics.sh,
 * kafka-configs.sh), need several brokers, SSL/SASL, some transactions, or the message formats v0/v1
 * that Kafka 4 removed. By test name (as test.c names them), with the reason.
 */
export const EXCLUDED: Record<string, string> = {
  // Kafka's scripts (test_kafka_topics / test_kafka_cmd need KAFKA_PATH, i.e. a trivup cluster).
  '0016_client_swname': "reads the broker's JMX through Kafka's scripts (KAFKA_PATH)",
  '0052_msg_timestamps': "creates its topics with Kafka's kafka-topics.sh",
  '0077_compaction': "creates its compacted topics with Kafka's kafka-topics.sh",
  '0109_auto_create_topics': "changes broker configs with Kafka's kafka-configs.sh",
  '0045_subscribe_update_topic_remove': "deletes topics with Kafka's kafka-topics.sh",
  '0045_subscribe_update_non_exist_and_partchange': "adds partitions with Kafka's kafka-topics.sh",
  // SSL / SASL / authorization (Sluice serves PLAINTEXT only).
  '0097_ssl_verify': 'SSL',
  '0115_producer_auth': "ACLs (SASL principals, set with Kafka's kafka-acls.sh)",
  '0119_consumer_auth': "ACLs (SASL principals, set with Kafka's kafka-acls.sh)",
  '0126_oauthbearer_oidc': 'SASL/OAUTHBEARER',
  '0135_sasl_credentials': 'SASL',
  '0142_reauthentication': 'SASL re-authentication (and transactions)',
  // Transactions not brought in yet (0055, 0061, 0129 and 0137 run: `--transactions`).
  '0098_consumer_txn': 'transactions (and a Java helper program)',
  '0103_transactions': 'transactions on topics with replication factor 3 (needs three brokers; run alone it passes its misuse sub-tests and stops there)',
  // Several brokers (run with --cluster).
  '0101_fetch_from_follower': 'fetch from follower: several brokers with racks',
  // Message formats v0/v1 (removed in Kafka 4).
  '0092_mixed_msgver': 'message format v0/v1 producers (broker.version.fallback)',
  // KIP-932 share groups (Kafka 4.2 clients) and KIP-848 consumer groups are not served.
  '0150_telemetry_mock': 'KIP-714 client telemetry (GetTelemetrySubscriptions / PushTelemetry) is not served',
};

/**
 * Excluded from the single-broker run only because they need several brokers or topics with
 * replication factor 3: `--cluster` runs them.
 */
export const CLUSTER_ONLY = ['0101_fetch_from_follower', '0103_transactions'];

/** What a run leaves out: EXCLUDED, less CLUSTER_ONLY against the cluster. */
function excludedFor(cluster: boolean): Record<string, string> {
  return cluster ? Object.fromEntries(Object.entries(EXCLUDED).filter(([name]) => !CLUSTER_ONLY.includes(name))) : EXCLUDED;
}

interface Args {
  readonly tests: string | null;
  readonly full: boolean;
  /** The transaction tests alone (TRANSACTION_TESTS, without quick mode), recorded apart. */
  readonly transactions: boolean;
  /** Against etcd + three brokers in cluster mode (cluster.ts), recorded apart. */
  readonly cluster: boolean;
}

/**
 * librdkafka's transaction tests that a single PLAINTEXT broker can serve: the producer latency
 * with a transactional producer (0055), the consumer lag over transaction markers (0061), aborted
 * messages under read_committed (0129), control batches in batch consume (0137). Their
 * transaction sub-tests are not quick (SUB_TEST), so `-Q` would skip them: `--transactions`
 * runs them in full. (0098 needs a Java helper, 0103 creates its topics with replication factor 3.)
 */
const TRANSACTION_TESTS = '0055,0061,0129,0137';

function parseArgs(argv: string[]): Args {
  let tests: string | null = null;
  let full = false;
  let transactions = false;
  let cluster = false;
  const usage = 'usage: run.ts [--tests 0001,0012] [--full] [--transactions | --cluster]';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tests') tests = argv[++i] ?? null;
    else if (argv[i] === '--full') full = true;
    else if (argv[i] === '--transactions') transactions = true;
    else if (argv[i] === '--cluster') cluster = true;
    else throw new Error(`unknown argument ${argv[i]}; ${usage}`);
  }
  if (transactions && cluster) throw new Error(`--transactions and --cluster are recorded apart: one at a time; ${usage}`);
  return transactions ? { tests: TRANSACTION_TESTS, full: true, transactions, cluster } : { tests, full, transactions, cluster };
}

function log(line: string): void {
  process.stdout.write(`[librdkafka] ${line}\n`);
}

/** Runs a command to completion, streaming its output to `logFile`; throws on failure. */
function step(what: string, command: string, args: string[], cwd: string, logFile: string): void {
  log(`${what}: ${command} ${args.join(' ')} (log: ${logFile})`);
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  writeFileSync(logFile, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`${what} failed (${r.error ?? `exit ${r.status}`}); see ${logFile}\n${(r.stderr ?? '').slice(-3000)}`);
  }
}

function ensureAptPackages(): void {
  const missing = APT_PACKAGES.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing packages: ${missing.join(' ')} (apt-get install them)`);
  step('apt-get update', 'apt-get', ['update', '-qq'], CACHE, join(CACHE, 'apt-update.log'));
  step('apt-get install', 'apt-get', ['install', '-y', '-qq', ...missing], CACHE, join(CACHE, 'apt-install.log'));
}

/** Fetches, unpacks and builds librdkafka and its test runner; quick when already built. */
function ensureBuilt(): string {
  mkdirSync(CACHE, { recursive: true });
  ensureAptPackages();
  const tarball = join(CACHE, `confluentinc-kafka-javascript-${PACKAGE_VERSION}.tgz`);
  if (!existsSync(tarball)) step('npm pack', 'npm', ['pack', `${PACKAGE}@${PACKAGE_VERSION}`], CACHE, join(CACHE, 'npm-pack.log'));
  // A fresh tree when the configure flags or the packages it finds changed (the npm tarball's
  // tree has no `make clean`: its examples/ dir is left out).
  const flagsStamp = join(LIBRDKAFKA, '.sluice-configure-flags');
  const flags = `${CONFIGURE_FLAGS.join(' ')} with ${APT_PACKAGES.join(' ')}`;
  if (existsSync(UNPACKED) && (!existsSync(flagsStamp) || readFileSync(flagsStamp, 'utf8') !== flags)) rmSync(UNPACKED, { recursive: true, force: true });
  if (!existsSync(join(LIBRDKAFKA, 'configure'))) {
    mkdirSync(UNPACKED, { recursive: true });
    step('unpack', 'tar', ['xzf', tarball, '-C', UNPACKED], CACHE, join(CACHE, 'unpack.log'));
  }
  if (!existsSync(flagsStamp)) {
    step('configure', './configure', CONFIGURE_FLAGS, LIBRDKAFKA, join(CACHE, 'configure.log'));
    writeFileSync(flagsStamp, flags);
  }
  if (!existsSync(join(LIBRDKAFKA, 'src-cpp', 'librdkafka++.so'))) {
    step('make libs', 'make', ['-j2', 'libs'], LIBRDKAFKA, join(CACHE, 'make-libs.log'));
  }
  if (!existsSync(join(TESTS_DIR, 'test-runner'))) {
    step('make test-runner', 'make', ['-j2', 'test-runner'], TESTS_DIR, join(CACHE, 'make-tests.log'));
  }
  const header = readFileSync(join(LIBRDKAFKA, 'src', 'rdkafka.h'), 'utf8');
  const hex = /#define RD_KAFKA_VERSION\s+0x([0-9a-f]{8})/.exec(header)?.[1] ?? '00000000';
  return `${parseInt(hex.slice(0, 2), 16)}.${parseInt(hex.slice(2, 4), 16)}.${parseInt(hex.slice(4, 6), 16)}`;
}

interface TestResult {
  readonly state: string;
  readonly seconds: number;
  reason: string;
}

/** The runner's summary lines: `| name | STATE | 1.234s | reason`. */
function parseSummary(output: string): Map<string, { state: string; reason: string }> {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the runner's output carries ANSI colour escapes
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const out = new Map<string, { state: string; reason: string }>();
  for (const m of plain.matchAll(/^\|\s*(\S+)\s*\|\s*(PASSED|FAILED|SKIPPED|RUNNING|DNS)\s*\|\s*[\d.]+s\s*\|(.*)$/gm)) {
    // Another test's log line can land on the same line (two run at a time): cut it off.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes, as above
    out.set(m[1], { state: m[2], reason: m[3].replace(/\x1b?\[(<MAIN>|\d{4}_\w*)\s*\/.*$/, '').trim() });
  }
  return out;
}

async function runTests(bootstrap: string, args: Args, reportFile: string, outputFile: string): Promise<number | null> {
  const conf = join(CACHE, args.cluster ? 'test-cluster.conf' : 'test.conf');
  writeFileSync(conf, `bootstrap.servers=${bootstrap}\n# A shared 2-core machine: librdkafka's timeouts, doubled.\ntest.timeout.multiplier=2\n`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RDKAFKA_TEST_CONF: conf,
    TEST_KAFKA_VERSION: KAFKA_VERSION,
    TEST_REPORT: reportFile,
    TESTS_SKIP: skippableIds(excludedFor(args.cluster)).join(','),
    LD_LIBRARY_PATH: `${join(LIBRDKAFKA, 'src')}:${join(LIBRDKAFKA, 'src-cpp')}`,
  };
  if (args.tests !== null) env.TESTS = args.tests;
  const runnerArgs = ['-L', '-p2', ...(args.full ? [] : ['-Q'])];
  log(
    `test-runner ${runnerArgs.join(' ')} (TEST_KAFKA_VERSION=${KAFKA_VERSION}${args.tests ? `, TESTS=${args.tests}` : ''}) against ${bootstrap}; output: ${outputFile}`,
  );
  return new Promise((res) => {
    const child = spawn('./test-runner', runnerArgs, { cwd: TESTS_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    child.on('close', (code) => {
      writeFileSync(outputFile, Buffer.concat(chunks));
      res(code);
    });
  });
}

/**
 * TESTS_SKIP matches 4-digit test ids, and several tests share one (0045_subscribe_update_*): an
 * id is skipped when every test under it is excluded; an excluded test under a shared id runs,
 * and is reported EXCLUDED whatever it did.
 */
let testNames: Array<{ name: string; local: boolean }> = [];
function skippableIds(excluded: Record<string, string>): string[] {
  const ids = [...new Set(Object.keys(excluded).map((n) => n.slice(0, 4)))];
  // Broker-less tests (TEST_F_LOCAL) do not run under -L anyway.
  return ids.filter((id) => testNames.filter((t) => t.name.startsWith(id) && !t.local).every((t) => excluded[t.name] !== undefined));
}

/** Every test test.c registers, in its order, and whether it is broker-less (TEST_F_LOCAL). */
function registeredTests(): Array<{ name: string; local: boolean }> {
  const source = readFileSync(join(TESTS_DIR, 'test.c'), 'utf8');
  const table = source.slice(source.indexOf('struct test tests[] = {'));
  return [...table.matchAll(/^\s*_TEST\((\w+),\s*([^,)]*)/gm)].map((m) => ({ name: m[1], local: m[2].includes('TEST_F_LOCAL') }));
}

function table(results: Record<string, TestResult>, excluded: Record<string, string>): string {
  const lines = ['| test | result | seconds | note |', '|---|---|---|---|'];
  for (const [name, r] of Object.entries(results)) {
    const note = (excluded[name] !== undefined ? `${excluded[name]}${r.reason ? `; ${r.reason}` : ''}` : r.reason).replace(/\|/g, '\\|');
    lines.push(`| ${name} | ${r.state} | ${r.seconds.toFixed(1)} | ${note} |`);
  }
  return lines.join('\n');
}

/** The runner's report and summary, per test (EXCLUDED for the names in EXCLUDED). */
function readResults(reportFile: string, outputFile: string, exitCode: number | null, excluded: Record<string, string>): Record<string, TestResult> {
  if (!existsSync(reportFile)) throw new Error(`test-runner (exit ${exitCode}) wrote no report; see ${outputFile}`);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { tests: Record<string, { state: string; duration: number }> };
  const summary = parseSummary(readFileSync(outputFile, 'utf8'));
  const results: Record<string, TestResult> = {};
  for (const [name, t] of Object.entries(report.tests)) {
    if (name === '<MAIN>') continue;
    const isExcluded = excluded[name] !== undefined;
    const ran = t.state === 'PASSED' || t.state === 'FAILED';
    results[name] = {
      state: isExcluded ? 'EXCLUDED' : t.state,
      seconds: t.duration,
      reason: isExcluded && ran ? `ran anyway (shared id): ${t.state}` : (summary.get(name)?.reason ?? ''),
    };
  }
  return results;
}

/** Where a run records its results: file, README markers, and the cache files it uses. */
function recordOf(args: Args) {
  if (args.cluster) return { file: 'last-cluster-run.json', marker: 'cluster', cacheSuffix: '-cluster' };
  if (args.transactions) return { file: 'last-transactions-run.json', marker: 'transactions', cacheSuffix: '' };
  return { file: 'last-run.json', marker: 'results', cacheSuffix: '' };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const librdkafkaVersion = ensureBuilt();
  testNames = registeredTests();
  log(`librdkafka ${librdkafkaVersion} from ${PACKAGE}@${PACKAGE_VERSION}, built in ${LIBRDKAFKA}`);

  const record = recordOf(args);
  const excluded = excludedFor(args.cluster);
  let brokers: TestBrokers | null = null;
  const reportFile = join(CACHE, `report${record.cacheSuffix}.json`);
  const outputFile = join(CACHE, `test-runner${record.cacheSuffix}.log`);
  let exitCode: number | null;
  const results: Record<string, TestResult> = {};
  rmSync(reportFile, { force: true }); // never read a previous run's report
  try {
    brokers = args.cluster ? await startCluster() : await startSingleBroker();
    log(`Sluice ${args.cluster ? 'cluster (etcd + 3 brokers)' : 'broker'} on ${brokers.bootstrap}`);
    exitCode = await runTests(brokers.bootstrap, args, reportFile, outputFile);
    Object.assign(results, readResults(reportFile, outputFile, exitCode, excluded));
    // A failure in the full run is run again alone, once, so that a timing bound missed on a
    // loaded machine shows as such; the recorded state stays FAILED, with the rerun's outcome.
    if (args.tests === null || args.transactions) {
      for (const [name, r] of Object.entries(results)) {
        if (r.state !== 'FAILED') continue;
        const alone = join(CACHE, `report${record.cacheSuffix}-${name}.json`);
        const aloneLog = join(CACHE, `test-runner${record.cacheSuffix}-${name}.log`);
        rmSync(alone, { force: true });
        const code = await runTests(brokers.bootstrap, { ...args, tests: name.slice(0, 4) }, alone, aloneLog);
        const again = readResults(alone, aloneLog, code, excluded)[name];
        r.reason = `${r.reason}; run again alone: ${again?.state ?? 'no result'}${again?.state === 'FAILED' && again.reason !== '' ? ` (${again.reason})` : ''}`;
      }
    }
  } finally {
    if (brokers !== null) {
      brokers.saveLogs(CACHE);
      await brokers.stop();
    }
  }

  const count = (state: string) => Object.values(results).filter((r) => r.state === state).length;
  log(
    `${count('PASSED')} passed, ${count('FAILED')} failed, ${count('SKIPPED')} skipped, ${count('EXCLUDED')} excluded (test-runner exit ${exitCode}, ${Math.round((Date.now() - started) / 1000)} s)`,
  );
  for (const [name, r] of Object.entries(results)) if (r.state === 'FAILED') log(`FAILED ${name}: ${r.reason}`);

  if (args.tests !== null && !args.transactions) return; // a partial run does not replace the recorded one
  // The transaction run records only its own tests, apart from the regression run.
  const ids = TRANSACTION_TESTS.split(',');
  const recorded = args.transactions ? Object.fromEntries(Object.entries(results).filter(([name]) => ids.includes(name.slice(0, 4)))) : results;
  const countOf = (state: string) => Object.values(recorded).filter((r) => r.state === state).length;
  const run = {
    date: new Date().toISOString(),
    package: `${PACKAGE}@${PACKAGE_VERSION}`,
    librdkafka: librdkafkaVersion,
    testKafkaVersion: KAFKA_VERSION,
    ...(args.cluster ? { brokers: 'etcd + 3 brokers in cluster mode (test/librdkafka/cluster.ts)' } : {}),
    runnerArgs: ['-L', '-p2', ...(args.full ? [] : ['-Q'])],
    ...(args.transactions ? { tests: TRANSACTION_TESTS } : {}),
    seconds: Math.round((Date.now() - started) / 1000),
    counts: { passed: countOf('PASSED'), failed: countOf('FAILED'), skipped: countOf('SKIPPED'), excluded: countOf('EXCLUDED') },
    excluded,
    results: recorded,
  };
  writeFileSync(join(HERE, record.file), `${JSON.stringify(run, null, 2)}\n`);
  const readme = join(HERE, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const begin = `<!-- ${record.marker}:begin -->`;
  const end = `<!-- ${record.marker}:end -->`;
  const what = args.transactions ? `tests ${TRANSACTION_TESTS}` : `TEST_KAFKA_VERSION=${KAFKA_VERSION}${args.cluster ? ', etcd + 3 brokers' : ''}`;
  const head = `Last run ${run.date.slice(0, 16).replace('T', ' ')} UTC: librdkafka ${librdkafkaVersion}, ${run.runnerArgs.join(' ')}, ${what}, ${run.seconds} s — ${run.counts.passed} PASSED, ${run.counts.failed} FAILED, ${run.counts.skipped} SKIPPED (by the test itself), ${run.counts.excluded} EXCLUDED.`;
  writeFileSync(readme, `${text.slice(0, text.indexOf(begin) + begin.length)}\n${head}\n\n${table(recorded, excluded)}\n${text.slice(text.indexOf(end))}`);
  log(`wrote ${join(HERE, record.file)} and the table in ${readme}`);
}

await main();
