/** coopcut bench: speed figures (default), or `--experiment mode-coverage` for the CoopInit study. */
import fs from 'node:fs';
import path from 'node:path';
import { PresetName } from '../config.ts';
import { runSpeedBench, type BenchReport } from '../bench/training-speed.ts';
import { parseFlags, helpText, UsageError, type FlagTable } from './args.ts';

const FLAGS: FlagTable = {
  presets: { type: 'string', help: 'comma-separated presets to time (default cpu,paper)' },
  iters: { type: 'int', help: 'timed iterations per preset (default cpu 10, paper 3)' },
  dataroot: { type: 'string', help: 'dataset for the data-stall check (default ../shared/datasets/horse2zebra if present)' },
  json: { type: 'string', help: 'write the report here (default out/bench.json)' },
  experiment: { type: 'string', help: 'run an experiment instead: mode-coverage' },
  seeds: { type: 'int', help: 'mode-coverage: seeds per method (default 3)' },
  'coop-iters': { type: 'int', help: 'mode-coverage: cooperative iterations (default 10% of --iters)' },
};

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseFlags(argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('bench', '[--presets cpu,paper] [--json FILE] | --experiment mode-coverage', FLAGS));
    return 0;
  }
  if (values.experiment !== undefined) {
    if (values.experiment !== 'mode-coverage') throw new UsageError(`unknown experiment '${String(values.experiment)}'`);
    const { main } = await import('../experiments/mode-coverage.ts');
    return main(argv.filter((a, i) => a !== '--experiment' && argv[i - 1] !== '--experiment'));
  }
  const presets = String(values.presets ?? 'cpu,paper')
    .split(',')
    .map((p) => {
      const r = PresetName.safeParse(p.trim());
      if (!r.success) throw new UsageError(`unknown preset '${p}'`);
      return r.data;
    });
  const iters = values.iters as number | undefined;
  const fallbackData = path.resolve('..', 'shared', 'datasets', 'horse2zebra');
  const dataroot = (values.dataroot as string | undefined) ?? (fs.existsSync(path.join(fallbackData, 'trainA')) ? fallbackData : null);
  const report = await runSpeedBench({
    presets,
    iterations: { cpu: iters ?? 10, paper: iters ?? 3, tiny: iters ?? 20 },
    dataroot,
    onProgress: (m) => process.stderr.write(`bench: ${m}\n`),
  });
  const out = (values.json as string | undefined) ?? path.join('out', 'bench.json');
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(formatReport(report) + `\nwritten to ${out}\n`);
  return 0;
}

export function formatReport(r: BenchReport): string {
  const rows = r.presets.map(
    (p) =>
      `| ${p.preset} (${p.cropSize}px) | ${p.iterationMs.toFixed(0)} | ${p.dStepMs.toFixed(0)} | ${p.gStepMs.toFixed(0)} | ` +
      `${p.forwardMs.toFixed(0)} | ${p.kernelMs.toFixed(0)} | ${p.overheadRatio.toFixed(2)} | ${p.leakedTensorsPerIteration} |`,
  );
  const lines = [
    `backend ${r.backend} (${r.package}, tfjs ${r.tfjsVersion}), ${r.threads} threads`,
    `machine probe (20x 512^2 matmul): ${r.machineProbeMs.before.toFixed(0)} ms before, ${r.machineProbeMs.after.toFixed(0)} ms after`,
    '',
    '| preset | iteration ms | D step ms | G+F step ms | G forward ms | kernel ms | iteration/kernel | leaked tensors/it |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    r.dataStall
      ? `data: ${r.dataStall.iterations} cpu-preset iterations on real images, ${r.dataStall.iterationMs.toFixed(0)} ms/it, ` +
        `waiting for data ${r.dataStall.waitMs.toFixed(0)} ms in total = ${(r.dataStall.waitFraction * 100).toFixed(2)}% of the time`
      : 'data: no dataset given, data-stall check skipped',
    `peak RSS ${r.peakRssMb.toFixed(0)} MB`,
  ];
  return lines.join('\n');
}
