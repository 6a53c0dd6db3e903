/** The `shard.*` factories: token shards for training. */
import { tokens } from './tokens.ts';
import { readBin } from '../../formats/bin.ts';
import { shardManifest, shardSet } from '../../formats/shards.ts';

/** Token shards: `shard.tokens({...})` (a stage expansion), and readers for what it writes. */
export const shard = {
  tokens,
  /** Parses a `.bin` shard (header checked). */
  readBin,
  /** The {@link ShardManifest} of a completed shard stage's dataset. */
  manifest: shardManifest,
  /** A shard manifest as the trainer's ShardSet. */
  shardSet,
};
export type { ShardManifest, ShardEntry, ShardLayout, ShardsInfo, TokenDtype, PackMode, AttentionMode } from '../../formats/shards.ts';
export type { ShardTokensOptions } from './tokens.ts';
