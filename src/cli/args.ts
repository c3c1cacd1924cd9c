/**
 * Declarative flags: one table per command gives each flag's type, help and where its value goes,
 * so parsing, validation and --help come from the same place.
 */
import { parseArgs } from 'node:util';

export type FlagType = 'string' | 'int' | 'number' | 'boolean' | 'int-list';

export interface FlagSpec {
  type: FlagType;
  help: string;
  short?: string;
}

export type FlagTable = Record<string, FlagSpec>;
export type FlagValues = Record<string, string | number | boolean | number[] | undefined>;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseFlags(argv: string[], table: FlagTable): { values: FlagValues; positionals: string[]; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(table)) {
    options[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string', ...(spec.short ? { short: spec.short } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values: FlagValues = {};
  for (const [name, spec] of Object.entries(table)) {
    const raw = parsed.values[name];
    if (raw === undefined) continue;
    values[name] = convert(name, spec.type, raw);
  }
  return { values, positionals: parsed.positionals, help: parsed.values.help === true };
}

function convert(name: string, type: FlagType, raw: string | boolean | (string | boolean)[]): FlagValues[string] {
  if (type === 'boolean') return raw === true;
  const s = String(raw);
  switch (type) {
    case 'string':
      return s;
    case 'int': {
      const n = Number(s);
      if (!Number.isInteger(n)) throw new UsageError(`--${name} expects an integer, got '${s}'`);
      return n;
    }
    case 'number': {
      const n = Number(s);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got '${s}'`);
      return n;
    }
    case 'int-list': {
      const parts = s.split(',').map((p) => Number(p.trim()));
      if (parts.some((n) => !Number.isInteger(n))) throw new UsageError(`--${name} expects integers like 0,4,8, got '${s}'`);
      return parts;
    }
  }
}

export function helpText(command: string, synopsis: string, table: FlagTable): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const flag = `--${name}${spec.type === 'boolean' ? '' : ` <${spec.type}>`}`;
    return `  ${flag.padEnd(30)} ${spec.help}`;
  });
  return `usage: coopcut ${command} ${synopsis}\n\n${rows.join('\n')}\n`;
}
