/**
 * A small argument parser over node's `util.parseArgs`: typed options, repeated flags, and
 * errors that name the bad flag. Shared by every sub-command.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.ts';

/** Parses argv against an option table; unknown flags are a UsageError naming the flag. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** An integer option, or a UsageError naming it. */
export function intOption(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min} (got '${v}')`);
  return n;
}
