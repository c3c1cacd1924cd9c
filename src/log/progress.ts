/**
 * Progress bar for long work (training iterations, folder translation).
 *
 * On a terminal one line is redrawn in place; elsewhere (CI, redirected logs) a full line is
 * printed at most every few seconds, because `\r` redraws turn a log file into one unreadable line.
 */

export type ProgressFields = Record<string, number | string>;

/** The part of a stream the bar uses; process.stderr fits, and so does a test double. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  total: number;
  label: string;
  stream?: ProgressStream;
  /** minimum time between renders; default 200 ms on a terminal, 5 s otherwise */
  intervalMs?: number;
  /** force terminal or line mode instead of asking the stream */
  tty?: boolean;
  /** inner width of the bar in characters (default 20) */
  width?: number;
  /** unit shown in the rate (default "it") */
  unit?: string;
  /** clock in milliseconds; tests pin it */
  now?: () => number;
}

export interface Progress {
  /** advance by n; the given fields are merged into the shown ones (e.g. a running failure count) */
  tick(n?: number, fields?: ProgressFields): void;
  /**
   * jump to `done`; given fields replace the shown ones, so a snapshot (the trainer's window of
   * losses) never keeps a stale value, e.g. cooperative losses after the stage switch
   */
  set(done: number, fields?: ProgressFields): void;
  /** render the final line (elapsed time instead of ETA) and stop */
  done(fields?: ProgressFields): void;
}

// --- pure formatting ----------------------------------------------------------------------------

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** 45s, 27m10s, 1h02m03s, 2d03h; "--" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad2(Math.floor(s / 60) % 60)}m${pad2(s % 60)}s`;
  return `${Math.floor(s / 86400)}d${pad2(Math.floor(s / 3600) % 24)}h`;
}

/** Items per second, flipped to seconds per item below one so slow training steps stay legible. */
export function formatRate(perSecond: number, unit = 'it'): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return `-- ${unit}/s`;
  if (perSecond >= 1) return `${perSecond.toFixed(2)} ${unit}/s`;
  return `${(1 / perSecond).toFixed(2)} s/${unit}`;
}

/** `[=====>     ]` with `width` characters between the brackets. */
export function renderBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.floor(f * width);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  return `[${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}]`;
}

function formatField(value: number | string): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  // Fixed three decimals read best for losses; very large or tiny ones need the exponent.
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return value.toExponential(2);
  return value.toFixed(3);
}

export function formatFields(fields: ProgressFields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${formatField(v)}`)
    .join(' ');
}

export interface ProgressLine {
  label: string;
  done: number;
  total: number;
  /** items per second */
  rate: number;
  /** seconds; shown as ETA while running and as the elapsed time on the final line */
  seconds: number;
  final: boolean;
  width: number;
  unit: string;
  fields: ProgressFields;
}

export function renderProgressLine(p: ProgressLine): string {
  const parts = [p.label];
  if (p.total > 0) {
    const count = `${String(p.done).padStart(String(p.total).length)}/${p.total}`;
    const pct = `${((100 * p.done) / p.total).toFixed(1)}%`;
    parts.push(`${count} ${renderBar(p.done / p.total, p.width)} ${pct}`);
  } else {
    parts.push(String(p.done));
  }
  parts.push(formatRate(p.rate, p.unit));
  parts.push(p.final ? `in ${formatDuration(p.seconds)}` : `ETA ${formatDuration(p.total > 0 ? p.seconds : NaN)}`);
  const head = `${parts[0]}  ${parts.slice(1).join(' ')}`;
  const tail = formatFields(p.fields);
  return tail === '' ? head : `${head} | ${tail}`;
}

// --- rate estimate ------------------------------------------------------------------------------

/** How far back the rate looks: long enough to smooth batch jitter, short enough to follow a stage switch. */
const RATE_WINDOW_MS = 30_000;
const SAMPLE_SPACING_MS = 1000;

interface Sample {
  t: number;
  done: number;
}

/** Items per second over the recent window (a windowed average is steadier than an EMA of bursty ticks). */
function windowRate(samples: Sample[]): number {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined || last.t <= first.t) return NaN;
  return ((last.done - first.done) * 1000) / (last.t - first.t);
}

// --- the bar ------------------------------------------------------------------------------------

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const intervalMs = options.intervalMs ?? (tty ? 200 : 5000);
  const now = options.now ?? Date.now;
  const width = options.width ?? 20;
  const unit = options.unit ?? 'it';
  const start = now();
  let doneCount = 0;
  let fields: ProgressFields = {};
  const samples: Sample[] = [{ t: start, done: 0 }];
  let lastRender = start;
  let finished = false;

  const line = (final: boolean): string => {
    const t = now();
    const elapsed = (t - start) / 1000;
    const rate = final ? doneCount / elapsed : windowRate(samples);
    const remaining = Math.max(0, options.total - doneCount);
    return renderProgressLine({
      label: options.label,
      done: doneCount,
      total: options.total,
      rate,
      seconds: final ? elapsed : remaining / rate,
      final,
      width,
      unit,
      fields,
    });
  };

  const fit = (text: string): string => {
    // A redrawn line that wraps can no longer be overwritten with \r.
    const cols = stream.columns;
    return cols !== undefined && cols > 1 && text.length >= cols ? text.slice(0, cols - 1) : text;
  };

  const write = (final: boolean): void => {
    const text = line(final);
    if (tty) stream.write(`\r${fit(text)}\x1b[K${final ? '\n' : ''}`);
    else stream.write(`${text}\n`);
    lastRender = now();
  };

  const record = (t: number): void => {
    // Samples at least SAMPLE_SPACING_MS apart (the newest is updated in place), so thousands of
    // ticks per second cost a bounded array.
    const last = samples[samples.length - 1];
    const prev = samples[samples.length - 2];
    if (last !== undefined && prev !== undefined && t - prev.t < SAMPLE_SPACING_MS) {
      last.t = t;
      last.done = doneCount;
    } else {
      samples.push({ t, done: doneCount });
    }
    // Keep one sample older than the window so the rate always spans the whole window.
    while (samples.length > 2 && (samples[1] as Sample).t <= t - RATE_WINDOW_MS) samples.shift();
  };

  const update = (value: number, next: ProgressFields | undefined, replace: boolean): void => {
    if (finished) return;
    doneCount = value;
    if (next !== undefined) fields = replace ? { ...next } : { ...fields, ...next };
    const t = now();
    record(t);
    if (t - lastRender >= intervalMs) write(false);
  };

  return {
    tick: (n = 1, next) => update(doneCount + n, next, false),
    set: (value, next) => update(value, next, true),
    done: (next) => {
      if (finished) return;
      if (next !== undefined) fields = { ...fields, ...next };
      finished = true;
      write(true);
    },
  };
}
