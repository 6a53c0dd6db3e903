/**
 * The contract of a `sluice` sub-command. Each command lives in `cli/commands/<name>.ts` and is
 * listed, with its one-line summary, in `cli/commands/index.ts`; `sluice <name> --help` prints its
 * `usage`.
 */
export interface Command {
  /** Full usage text for `sluice <name> --help`: synopsis, options with defaults, examples. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** A sub-command as `sluice --help` lists it; its module is imported by `load` when needed. */
export interface CommandEntry {
  /** The word after `sluice`, e.g. `run`, `audit`, `tokenizer`. */
  name: string;
  /** One line for `sluice --help`. */
  summary: string;
  /** Imports the command's module. */
  load(): Promise<Command>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A command made of sub-commands (`sluice tokenizer train|encode|decode`): runs the one named
 * first with the remaining arguments. A missing or unknown name is a usage error listing them.
 */
export function subcommands(usage: string, table: Record<string, (argv: string[]) => Promise<number>>): Command {
  return {
    usage,
    async run(argv) {
      const [sub, ...rest] = argv;
      const run = sub !== undefined && Object.hasOwn(table, sub) ? table[sub] : undefined;
      if (!run) throw new UsageError(`${sub ? `unknown sub-command '${sub}'` : 'expected a sub-command'}: ${Object.keys(table).join(', ')}`);
      return run(rest);
    },
  };
}
