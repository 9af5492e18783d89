import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

/** A destination that keeps every line written to it. */
function collector(): { stream: Writable & { write(chunk: string): boolean }; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter((l) => l !== '') };
}

describe('createLogger', () => {
  it('writes one JSON object per line with the level name, ISO time and subsystem fields', () => {
    const out = collector();
    const log = createLogger('info', { pretty: false, destination: out.stream });
    log.child({ subsystem: 'network' }).info({ connection: 7 }, 'accepted');
    log.debug('below the level');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]);
    expect(record).toMatchObject({ level: 'info', subsystem: 'network', connection: 7, msg: 'accepted', pid: process.pid });
    expect(new Date(record.time).toISOString()).toBe(record.time);
  });

  it('honours the level', () => {
    const out = collector();
    const log = createLogger('warn', { pretty: false, destination: out.stream });
    log.info('quiet');
    log.warn('loud');
    expect(out.lines().map((l) => JSON.parse(l).msg)).toEqual(['loud']);
  });

  it('writes human lines through pino-pretty when asked (stdout on a TTY)', () => {
    const out = collector();
    const log = createLogger('info', { pretty: true, destination: out.stream });
    log.child({ subsystem: 'topics' }).info({ topic: 'orders' }, 'topic created');
    const text = out.lines().join('\n');
    expect(text).toContain('INFO');
    expect(text).toContain('topic created');
    expect(text).toContain('subsystem: "topics"');
    expect(() => JSON.parse(out.lines()[0])).toThrow();
  });
});
