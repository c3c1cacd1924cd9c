/** coopcut info [--json]: which backend runs, and which models are installed. */
import { tf, backend } from '../tf.ts';
import { listModels, defaultModelsDir } from '../store/model-registry.ts';
import { totalIterations } from '../store/model-card.ts';
import { parseFlags, helpText, type FlagTable } from './args.ts';

const FLAGS: FlagTable = {
  json: { type: 'boolean', help: 'print JSON' },
  models: { type: 'string', help: 'models folder (default: the bundled models/)' },
};

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseFlags(argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('info', '[--json]', FLAGS));
    return 0;
  }
  const modelsDir = (values.models as string | undefined) ?? defaultModelsDir();
  const models = listModels(modelsDir).map((m) => ({
    name: m.name,
    direction: m.card ? `${m.card.domains.a} -> ${m.card.domains.b}` : 'unknown',
    size: m.card?.trainSize ?? null,
    mode: m.card?.mode ?? null,
    iterations: m.card ? totalIterations(m.card) : null,
    dir: m.dir,
  }));
  const info = {
    backend: backend.name,
    kind: backend.kind,
    package: backend.package,
    tfjsVersion: backend.tfjsVersion,
    threads: backend.threads,
    fallbacks: backend.fallbacks,
    node: process.version,
    memory: tf.memory().numTensors,
    modelsDir,
    models,
  };
  if (values.json) {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `backend      ${info.backend} (${info.package})${info.kind === 'cpu-js' ? '  <-- pure JS: ~200x slower, see README' : ''}`,
    `tfjs         ${info.tfjsVersion}`,
    `threads      ${info.threads}`,
    `node         ${info.node}`,
    `models       ${modelsDir}`,
    ...(models.length === 0
      ? ['             (none: train one with `coopcut train`)']
      : models.map((m) => `  ${m.name.padEnd(20)} ${m.direction.padEnd(18)} ${m.size ?? '?'}px  ${m.mode ?? ''}  ${m.iterations ?? '?'} it`)),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
