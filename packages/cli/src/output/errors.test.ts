import { describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import { ProtocolError } from '@sluice/protocol';
import { ConnectionError, KafkaApiError, UsageError } from '@sluice/client';
import { describeError, exitCodeFor, reportError } from './errors.ts';

function capture() {
  let text = '';
  return { write: (s: string) => (text += s), text: () => text };
}

describe('error reporting', () => {
  it('prints a Kafka error as one line naming the operation, the subject, the code and a hint', () => {
    const out = capture();
    const code = reportError(new KafkaApiError('create', 'topic "orders"', 36), false, out);
    expect(code).toBe(1);
    expect(out.text()).toBe(
      'sluice: create topic "orders": TOPIC_ALREADY_EXISTS: A topic with this name already exists; pick another name, or pass --if-not-exists\n',
    );
  });

  it("prefers the broker's own error message when it sends one", () => {
    expect(describeError(new KafkaApiError('alter config of', 'topic "t"', 40, 'unknown config key foo'))).toBe(
      'alter config of topic "t": INVALID_CONFIG: unknown config key foo; see the topic-level config names and values the broker accepts',
    );
  });

  it("uses exit code 2 for usage errors, ours and commander's, and 0 for help", () => {
    expect(exitCodeFor(new UsageError('--partitions must be a positive integer'))).toBe(2);
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toBe(2);
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(0);
    expect(exitCodeFor(new CommanderError(0, 'commander.help', '(outputHelp)'))).toBe(0);
    expect(exitCodeFor(new CommanderError(1, 'commander.help', '(outputHelp)'))).toBe(2);
    expect(exitCodeFor(new ConnectionError('h:1', 'closed'))).toBe(1);
  });

  it("does not repeat commander's own message", () => {
    const out = capture();
    expect(reportError(new CommanderError(1, 'commander.missingMandatoryOptionValue', 'x'), false, out)).toBe(2);
    expect(out.text()).toBe('');
  });

  it('adds the stack only with --verbose', () => {
    const quiet = capture();
    reportError(new Error('boom'), false, quiet);
    expect(quiet.text()).toBe('sluice: boom\n');
    const loud = capture();
    reportError(new Error('boom'), true, loud);
    expect(loud.text()).toMatch(/^sluice: boom\nError: boom\n\s+at /);
  });

  it('names the file and errno of a system error', () => {
    const err = Object.assign(new Error("ENOENT: no such file or directory, open '/x/00.log'"), { code: 'ENOENT', syscall: 'open', path: '/x/00.log' });
    expect(describeError(err)).toBe("open /x/00.log: ENOENT (no such file or directory, open '/x/00.log')");
  });

  it('explains a response the codec cannot read', () => {
    expect(describeError(new ProtocolError('TRUNCATED', 'needed 4 bytes, 1 left'))).toMatch(/^unreadable answer from the broker \(TRUNCATED\)/);
  });
});
