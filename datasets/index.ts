/** The `datasets` namespace: the registry, fetching with cache and mirror, and loaders. */
import { REGISTRY, entry } from './registry.ts';
import { fetchDataset } from './fetch.ts';
import { benchmarkSpec, corpus, loadRegisteredBenchmark, pathList } from './load.ts';
import { mailArchiveCrawl, startMailSite } from './mail-site.ts';

/** Registered public corpora and benchmarks, and their loaders. */
export const datasets = { registry: REGISTRY, entry, fetch: fetchDataset, benchmark: loadRegisteredBenchmark, benchmarkSpec, corpus, pathList, mailArchiveCrawl, startMailSite };
