import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, parseLevel } from '../../src/log/logger.ts';

function sink(): { lines: string[]; write(s: string): boolean } {
  const lines: string[] = [];
  return { lines, write: (s: string) => (lines.push(s), true) };
}

const now = (): number => Date.UTC(2026, 11, 4, 1, 23, 45, 678);

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('logger', () => {
  it('writes text lines with key=value fields, quoting where needed', () => {
    const s = sink();
    const log = createLogger({ level: 'info', stream: s, json: false, now });
    log.info('checkpoint saved', { step: 1200, path: '/tmp/a b', ok: true, err: new Error('disk "full"') });
    expect(s.lines).toEqual([
      '2026-12-04T01:23:45Z INFO checkpoint saved step=1200 path="/tmp/a b" ok=true err="disk \\"full\\""\n',
    ]);
  });

  it('drops records below the level', () => {
    const s = sink();
    const log = createLogger({ level: 'warn', stream: s, json: false, now });
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(s.lines.map((l) => l.split(' ')[1])).toEqual(['WARN', 'ERROR']);
    createLogger({ level: 'silent', stream: s, now }).error('e');
    expect(s.lines).toHaveLength(2);
  });

  it('writes JSON lines, keeping colliding field names', () => {
    const s = sink();
    const log = createLogger({ level: 'debug', stream: s, json: true, now }).child({ stage: 'coop' });
    log.debug('step', { loss: 0.5, msg: 'inner', n: 3n });
    expect(JSON.parse(s.lines[0] ?? '')).toEqual({
      time: '2026-12-04T01:23:45.678Z',
      level: 'debug',
      msg: 'step',
      stage: 'coop',
      loss: 0.5,
      'field.msg': 'inner',
      n: '3',
    });
  });

  it('takes level and format from the environment', () => {
    vi.stubEnv('COOPCUT_LOG_LEVEL', 'ERROR');
    vi.stubEnv('COOPCUT_LOG_JSON', '1');
    const s = sink();
    const log = createLogger({ stream: s, now });
    expect(log.level).toBe('error');
    log.warn('hidden');
    log.error('shown');
    expect(JSON.parse(s.lines[0] ?? '')).toMatchObject({ level: 'error', msg: 'shown' });
    expect(parseLevel('nonsense')).toBe('info');
    expect(parseLevel(undefined, 'warn')).toBe('warn');
  });
});
