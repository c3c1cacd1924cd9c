/** coopcut <command> [options]: dispatches to the thin command shells in this folder. */
const COMMANDS: Record<string, { about: string; load: () => Promise<{ run: (argv: string[]) => Promise<number> }> }> = {
  info: { about: 'backend, TF.js version, threads and the models found', load: () => import('./info.ts') },
  train: { about: 'train a CUT / FastCUT / CoopInit model on two image folders', load: () => import('./train.ts') },
  translate: { about: 'translate an image or a folder of images', load: () => import('./translate.ts') },
  serve: { about: 'start the web app', load: () => import('./serve.ts') },
  eval: { about: 'KID / FID of a model on test folders', load: () => import('./eval.ts') },
  bench: { about: 'speed benchmark (ms per iteration, leaks, memory)', load: () => import('./bench.ts') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.about}`);
  return `usage: coopcut <command> [options]   (coopcut <command> --help for its options)\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`coopcut: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let mod: { run: (argv: string[]) => Promise<number> };
  try {
    mod = await cmd.load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(`${name}.ts`)) {
      process.stderr.write(`coopcut: '${name}' is not available in this build\n`);
      return 2;
    }
    throw err;
  }
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error;
    process.stderr.write(`coopcut: ${e.message ?? String(err)}\n`);
    if (process.env.COOPCUT_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
    process.exitCode = 1;
  },
);
