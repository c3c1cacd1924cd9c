/**
 * The one structured logger: `2026-12-04T01:23:45Z INFO msg key=value ...` for people, or one JSON
 * object per line for log collectors. COOPCUT_LOG_LEVEL and COOPCUT_LOG_JSON=1 set the defaults so
 * that a deployment can change them without touching code.
 */

export const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];
export type LogFields = Record<string, unknown>;

export interface LogStream {
  write(chunk: string): unknown;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** default process.stderr, so stdout stays free for command output */
  stream?: LogStream;
  json?: boolean;
  /** fields added to every record */
  fields?: LogFields;
  /** clock in milliseconds; tests pin it */
  now?: () => number;
}

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** a logger that adds `fields` to every record (e.g. the stage or the request id) */
  child(fields: LogFields): Logger;
}

export function parseLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const v = value?.trim().toLowerCase();
  return LEVELS.find((l) => l === v) ?? fallback;
}

/** Seconds are enough for a log line and keep it short; JSON keeps milliseconds for ordering. */
function textTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function plain(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function textValue(value: unknown): string {
  const v = plain(value);
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return /^[^\s="\\]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object') {
    if (value instanceof Error) return JSON.stringify(value.message);
    return JSON.stringify(v, (_k, x: unknown) => plain(x));
  }
  return String(v);
}

export function formatText(time: number, level: LogLevel, msg: string, fields: LogFields): string {
  const kv = Object.entries(fields).map(([k, v]) => ` ${k}=${textValue(v)}`);
  return `${textTime(time)} ${level.toUpperCase()} ${msg}${kv.join('')}`;
}

export function formatJson(time: number, level: LogLevel, msg: string, fields: LogFields): string {
  const record: LogFields = { time: new Date(time).toISOString(), level, msg };
  // A field that shares a name with time/level/msg is kept under a prefixed name, not dropped.
  for (const [k, v] of Object.entries(fields)) record[k in record ? `field.${k}` : k] = v;
  return JSON.stringify(record, (_k, v: unknown) => plain(v));
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLevel(process.env.COOPCUT_LOG_LEVEL);
  const json = options.json ?? process.env.COOPCUT_LOG_JSON === '1';
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const bound = options.fields ?? {};
  const threshold = LEVELS.indexOf(level);

  const log =
    (at: Exclude<LogLevel, 'silent'>) =>
    (msg: string, fields?: LogFields): void => {
      if (LEVELS.indexOf(at) < threshold) return;
      const all = { ...bound, ...fields };
      const line = json ? formatJson(now(), at, msg, all) : formatText(now(), at, msg, all);
      stream.write(`${line}\n`);
    };

  return {
    level,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createLogger({ level, stream, json, now, fields: { ...bound, ...fields } }),
  };
}

export const logger: Logger = createLogger();
