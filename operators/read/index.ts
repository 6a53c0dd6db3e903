/** The `read.*` sources. Each returns a Source for `p.stage(name, read.x(...))`. */
import { readChat, readPreferences } from './chat.ts';
import { jsonl } from './jsonl.ts';
import { megatron } from './megatron.ts';
import { parquet } from './parquet.ts';
import { arc, warc, wet } from './warc/source.ts';

/** Sources of documents: JSONL (plain, .gz, .zst), Parquet, WARC/WET/ARC, Megatron-LM indexed datasets; chat conversations and preference pairs. */
export const read = {
  jsonl,
  parquet,
  warc,
  wet,
  arc,
  megatron,
  chat: readChat,
  preferences: readPreferences,
};
