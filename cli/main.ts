/**
 * The `sluice` CLI: dispatches to the sub-commands in `cli/commands/index.ts`. Errors print one
 * clear message (no stack unless SLUICE_DEBUG=1) and exit non-zero: 2 for usage errors, 1 otherwise.
 */
import { commands } from './commands/index.ts';
import { UsageError } from './command.ts';

function help(): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return `sluice — dataflow pipelines for LLM training data

Usage: sluice <command> [options]     (sluice <command> --help for details)

Commands:
${commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}
`;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`sluice: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    const cmd = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(cmd.usage + '\n');
      return 0;
    }
    try {
      return await cmd.run(rest);
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`sluice ${name}: ${e.message}\n\n${cmd.usage}\n`);
        return 2;
      }
      throw e;
    }
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`sluice ${name}: error: ${process.env.SLUICE_DEBUG ? (err.stack ?? err.message) : err.message}\n`);
    return 1;
  }
}
