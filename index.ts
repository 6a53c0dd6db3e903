/**
 * Sluice's public API: the one curated entry point (`import { … } from 'sluice'`).
 * Factories are the front door: `pipeline`, `read.*`, `map`, `filter.*`, …
 */
export { pipeline } from './engine/pipeline.ts';
export { read } from './operators/read/index.ts';
export { map } from './operators/map/index.ts';
export { filter } from './operators/filter/index.ts';
export { defineThresholdFilter } from './operators/filter/define-threshold.ts';
export type { ClassifierOptions, ClassifierThresholdInfo } from './operators/filter/classifier.ts';
export type { TextClassifier, LabelProbability } from './operators/classify/model.ts';
export type { RuleSpec, NumericRule, ToggleRule, ThresholdFilterDefinition, ThresholdFilterFactory, ThresholdFilterOptions } from './operators/filter/define-threshold.ts';
export { registerRules } from './operators/filter/rules.ts';
export type { ThresholdRule } from './operators/filter/rules.ts';
export { tokenize } from './operators/tokenize/index.ts';
export { chat, renderChat, resolveTemplate, templateForTokenizer, tokenizeChat, BUILTIN_TEMPLATES, ChatTemplateError } from './operators/chat/index.ts';
export type { ChatTemplate, RenderOptions, ChatTokenizeConfig, MaskMode, Truncation, TokenizeChatOptions, TokenizedChat } from './operators/chat/index.ts';
export type { ChatMessage, ChatRecord, ChatRole, PreferenceRecord } from './formats/chat.ts';
export { shard } from './operators/shard/index.ts';
export { dedup } from './operators/dedup/index.ts';
export { mix } from './operators/mix/mix.ts';
export type { MixOptions, MixSource, MixSourceInfo } from './operators/mix/mix.ts';
export { stats } from './operators/stats/stage.ts';
export type { StatsOptions } from './operators/stats/stage.ts';


export { extract } from './operators/extract/index.ts';
export { defineFilter, defineMap, registerOperator, createOperator, listOperators, parseConfig, ConfigError } from './engine/operator.ts';
export { storage, Storage } from './engine/storage/index.ts';
export { runOperators, readSource, localTaskContext, MemoryAudit } from './engine/testing.ts';
export type * from './engine/types.ts';
export { scaling, plan } from './plan/index.ts';
export { evaluate } from './evals/stage.ts';
export { contamination } from './evals/contamination/index.ts';
export { crawl } from './operators/crawl/crawl.ts';
export { train, exportCheckpoint } from './trainer/index.ts';
export { datasets } from './datasets/index.ts';
