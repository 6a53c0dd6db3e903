/** `sluice datasets`: list, fetch and verify registered datasets. */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { REGISTRY } from '../../datasets/registry.ts';
import { fetchDataset } from '../../datasets/fetch.ts';

export const datasetsCommand: Command = {
  usage: `sluice datasets list [--json]
sluice datasets fetch NAME… [--mirror DIR] [--cache DIR] [--offline] [--allow-unpinned]

fetch looks in the cache (SLUICE_CACHE, default ~/.cache/sluice), then the mirror
(SLUICE_DATA_MIRROR, laid out like ../shared/data), then downloads; every file is verified
against its pinned sha256. Prints the local path of each file.`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      json: { type: 'boolean' },
      mirror: { type: 'string' },
      cache: { type: 'string' },
      offline: { type: 'boolean' },
      'allow-unpinned': { type: 'boolean' },
    });
    const [sub, ...names] = positionals;
    if (sub === 'list') {
      if (values.json) process.stdout.write(JSON.stringify(REGISTRY, null, 1) + '\n');
      else for (const d of REGISTRY) process.stdout.write(`${d.name.padEnd(28)} ${d.kind.padEnd(9)} ${String(d.files.length).padStart(3)} file(s)  ${d.license.padEnd(22)} ${d.title}${d.files.some((f) => !f.sha256) ? '  [unpinned]' : ''}\n`);
      return 0;
    }
    if (sub === 'fetch') {
      if (!names.length) throw new UsageError('fetch needs at least one dataset name');
      for (const n of names) {
        const { paths } = await fetchDataset(n, { mirror: values.mirror, cache: values.cache, offline: values.offline, allowUnpinned: values['allow-unpinned'], log: (m) => process.stderr.write(m + '\n') });
        for (const p of paths.values()) process.stdout.write(`${n}\t${p}\n`);
      }
      return 0;
    }
    throw new UsageError(`unknown subcommand '${sub ?? ''}' (list, fetch)`);
  },
};
