/**
 * `sluice judge <sub-command>`: the LLM judge. Each sub-command lives in its own module
 * (`judge-<name>.ts`, exporting its usage text and a `run`), listed in SUBCOMMANDS; this file
 * only dispatches.
 */
import type { Command } from '../command.ts';
import { subcommands } from '../command.ts';
import { JUDGE_RUN_USAGE, judgeRun } from './judge-run.ts';
import { DIFFICULTY_USAGE, WINRATE_USAGE, difficulty, winrate } from './judge-winrate.ts';

/** Sub-commands: name → usage text and runner. */
const SUBCOMMANDS: Record<string, { usage: string; run: (argv: string[]) => Promise<number> }> = {
  run: { usage: JUDGE_RUN_USAGE, run: judgeRun },
  winrate: { usage: WINRATE_USAGE, run: winrate },
  difficulty: { usage: DIFFICULTY_USAGE, run: difficulty },
};

/** `sluice judge`: dispatches to the sub-command named first. */
export const judgeCommand: Command = subcommands(
  Object.values(SUBCOMMANDS)
    .map((s) => s.usage)
    .join('\n\n'),
  Object.fromEntries(Object.entries(SUBCOMMANDS).map(([name, s]) => [name, s.run])),
);
