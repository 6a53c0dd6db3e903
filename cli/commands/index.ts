/**
 * Every `sluice` sub-command; `cli/main.ts` dispatches on this list. Add new commands here. A
 * command's module is imported only when it runs or prints its usage: importing all of them loaded
 * ~350 modules (Arrow, zod, the engine) before `sluice --help` could print a line.
 */
import type { CommandEntry } from '../command.ts';

export const commands: CommandEntry[] = [
  { name: 'run', summary: 'run a pipeline incrementally (skips up-to-date stages, resumes partial ones)', load: async () => (await import('./run.ts')).runCommand },
  { name: 'status', summary: "show each stage's state: done | stale | partial | pending, with counts", load: async () => (await import('./status.ts')).statusCommand },
  { name: 'dag', summary: 'print the pipeline DAG as text, or as Mermaid with --mermaid', load: async () => (await import('./dag.ts')).dagCommand },
  { name: 'task', summary: 'run one task of one stage (what the local and Slurm executors run)', load: async () => (await import('./task.ts')).taskCommand },
  { name: 'apply', summary: 'run one registered operator over JSONL docs ({id, text, meta})', load: async () => (await import('./apply.ts')).applyCommand },
  { name: 'plan', summary: 'compute, time, cost, energy and loss of a training run; compute-optimal sizes for a budget', load: async () => (await import('./plan.ts')).planCommand },
  { name: 'audit', summary: 'per filter: docs kept/dropped per reason, score histograms, samples, --what-if', load: async () => (await import('./audit.ts')).auditCommand },
  { name: 'chat', summary: 'render JSONL conversations with a chat template (built-in, .jinja or tokenizer_config.json)', load: async () => (await import('./chat.ts')).chatCommand },
  { name: 'tokenizer', summary: 'train a BPE tokenizer on text files; encode/decode with it or a tiktoken encoding', load: async () => (await import('./tokenizer.ts')).tokenizerCommand },
  { name: 'contamination', summary: 'check benchmark files for n-gram overlap with a training corpus (GPT-3-style report)', load: async () => (await import('./contamination.ts')).contaminationCommand },
  { name: 'cancel', summary: 'cancel the Slurm jobs of a pipeline (arrays, finalize and planner jobs of every run)', load: async () => (await import('./cancel.ts')).cancelCommand },
  { name: 'datasets', summary: 'list registered corpora and benchmarks; fetch them into the cache (sha256-verified)', load: async () => (await import('./datasets.ts')).datasetsCommand },
  { name: 'report', summary: 'a browsable report of a workdir: the DAG by status, stage figures, every report linked', load: async () => (await import('./report.ts')).reportCommand },
  { name: 'judge', summary: 'LLM-judge evaluation: AlpacaEval win rates, length control, instruction difficulty', load: async () => (await import('./judge.ts')).judgeCommand },
  { name: 'export', summary: 'export a trained checkpoint as GGUF (llama.cpp, Ollama) or Hugging Face GPT-2 safetensors', load: async () => (await import('./export.ts')).exportCommand },
  { name: 'stats', summary: "compare two stages' statistics per domain (or language, source, meta key): what a filter did", load: async () => (await import('./stats.ts')).statsCommand },
];
