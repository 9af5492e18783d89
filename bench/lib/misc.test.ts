import { describe, expect, it } from 'vitest';
import { JVM_OPTIONS, kafkaVersion, newClusterId, serverProperties } from '../kafka/kafka.ts';
import { clusterNodeProperties } from '../kafka/kafka-cluster.ts';
import { parseOptions } from '../run.ts';
import { cpuModel } from './machine.ts';
import { memoryWindow, parseVmstat } from './vmstat.ts';
import { FULL, QUICK } from './profile.ts';
import { fetchMetrics, socketWrites } from './results.ts';
import { parsePerfCsv } from './syscalls.ts';
import { GiB, KiB, MiB, fmt, fmtPct, fmtRatio, median, ratio, sizeLabel } from './units.ts';

describe('units', () => {
  it('formats sizes the way loadgen parses them', () => {
    expect(sizeLabel(16 * KiB)).toBe('16KiB');
    expect(sizeLabel(MiB)).toBe('1MiB');
    expect(sizeLabel(GiB)).toBe('1GiB');
    expect(sizeLabel(100)).toBe('100');
  });

  it('medians and ratios ignore what is missing', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(3, 2)).toBe(1.5);
  });

  it('prints three significant figures and a dash for nothing', () => {
    expect(fmt(0.04567)).toBe('0.0457');
    expect(fmt(12.345)).toBe('12.3');
    expect(fmt(4110.2)).toBe('4,110');
    expect(fmt(null)).toBe('—');
    expect(fmtRatio(1.234)).toBe('1.23×');
    expect(fmtPct(0.905)).toBe('91%');
  });
});

describe('perf output', () => {
  it('reads counts by syscall name, with raw_syscalls as the total', () => {
    const text =
      'Events disabled\n12345,,raw_syscalls:sys_enter,1000,100.00,,\n77,,syscalls:sys_enter_sendfile64,1000,100.00,,\n<not counted>,,syscalls:sys_enter_splice,0,0.00,,\n';
    expect(parsePerfCsv(text)).toEqual({ total: 12345, sendfile64: 77 });
  });

  it('counts the socket-writing half of the splices', () => {
    expect(socketWrites({ total: 100, sendfile64: 3, sendto: 2, splice: 10, futex: 50 })).toBe(10);
  });
});

describe('derived fetch figures', () => {
  it('are per GB received, with bytes per socket write from perf', () => {
    const m = fetchMetrics({
      client: { consume: { mb_per_s: 2000, records_per_s: 1, read_calls: 1000, bytes: 2e9 }, client: { cpu_user_s: 0.1, cpu_sys_s: 0.3 } },
      broker: {
        seconds: 1,
        cpuUserS: 0.2,
        cpuSysS: 0.4,
        cpuS: 0.6,
        voluntaryCtxt: 100,
        involuntaryCtxt: 20,
        rssPeakKb: 1,
        io: null,
        syscalls: { total: 4000, sendfile64: 1000 },
      },
      syscallsNote: null,
    });
    expect(m.cpuSPerGB).toBeCloseTo(0.3);
    expect(m.ctxPerGB).toBeCloseTo(60);
    expect(m.syscallsPerGB).toBeCloseTo(2000);
    expect(m.bytesPerSend).toBeCloseTo(2e6);
    expect(m.readsPerGB).toBeCloseTo(500);
    expect(m.clientCpuSPerGB).toBeCloseTo(0.2);
  });
});

describe('options', () => {
  it('default to the full profile and take --quick, --vs-kafka and --only', () => {
    expect(parseOptions([]).profile).toBe(FULL);
    const o = parseOptions(['--', '--quick', '--vs-kafka', '--only', 'fetch,startup', '--no-syscalls']);
    expect(o.profile).toBe(QUICK);
    expect(o.vsKafka).toBe(true);
    expect(o.only).toEqual(['fetch', 'startup']);
    expect(o.syscalls).toBe(false);
    expect(() => parseOptions(['--only', 'e2e'])).toThrow(/needs produce/);
    expect(() => parseOptions(['--fast'])).toThrow(/unknown option/);
  });
});

describe('Apache Kafka side', () => {
  it('reads the version from the pom and makes Kafka-style cluster ids', () => {
    expect(kafkaVersion('<properties><kafka.version>4.4.0</kafka.version></properties>')).toBe('4.4.0');
    expect(kafkaVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    const id = newClusterId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newClusterId()).not.toBe(id);
  });

  it('configures a single-node KRaft broker on loopback and keeps the script defaults for the JVM', () => {
    const props = serverProperties('/d', { broker: 9092, controller: 9093 });
    expect(props).toContain('process.roles=broker,controller');
    expect(props).toContain('controller.quorum.voters=1@127.0.0.1:9093');
    expect(props).toContain('listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(props).toContain('log.dirs=/d');
    expect(props).toContain('offsets.topic.replication.factor=1');
    expect(JVM_OPTIONS).toContain('-Xmx1G');
  });

  it('configures node 2 of a 3-node KRaft cluster: one quorum of the three, its own listeners, replicated internal topics', () => {
    const ports = [
      { broker: 9092, controller: 9093 },
      { broker: 9094, controller: 9095 },
      { broker: 9096, controller: 9097 },
    ];
    const props = clusterNodeProperties(2, ports, '/d2');
    expect(props).toContain('node.id=2\n');
    expect(props).toContain('controller.quorum.voters=1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097');
    expect(props).toContain('listeners=PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9095');
    expect(props).toContain('log.dirs=/d2');
    expect(props).not.toContain('offsets.topic.replication.factor');
  });
});

describe('machine description', () => {
  it('finds the CPU model line', () => {
    expect(cpuModel('processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: x\n')).toBe('AMD EPYC 7B13');
    expect(cpuModel('')).toBe('unknown');
  });
});

describe('vmstat', () => {
  it('a memory window counts pages written back and reclaimed as bytes', () => {
    const start = parseVmstat('nr_free_pages 100\nnr_written 10\npgsteal_kswapd 5\npgsteal_direct 1\n');
    const end = parseVmstat('nr_free_pages 50\nnr_written 30\npgsteal_kswapd 8\npgsteal_direct 2\n');
    expect(memoryWindow(start, end)).toEqual({
      writtenBackBytes: 20 * 4096,
      reclaimedBytes: 4 * 4096,
      directReclaimedBytes: 4096,
      freeBytesAtStart: 100 * 4096,
    });
    expect(memoryWindow(null, end)).toBeNull();
  });
});

describe('kafka cluster ids', () => {
  it('never start with "-", which the storage tool would read as an option', () => {
    for (let i = 0; i < 5000; i++) expect(newClusterId().startsWith('-')).toBe(false);
  });
});
