/**
 * Engine passthrough: one task reading JSONL and writing the doc dataset as Parquet (zstd),
 * through the real runner path (`runTask`: source → counting → Parquet writer → marker), against
 * the same job written directly with parquet-wasm (read, parse, encode), and against parquet-wasm
 * encoding the rows straight from memory (the ceiling). The input is
 * real text (WikiText-2 test + valid, one doc per article paragraph block), repeated to ~64 MB.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm/node';
import { medianSeconds, ratio, type Bench } from './harness.ts';
import { pipeline } from '../engine/pipeline.ts';
import { Runtime } from '../engine/runtime.ts';
import { runTask } from '../engine/task.ts';
import { jsonl } from '../operators/read/jsonl.ts';
import { SHARED_DATA } from '../test/helpers/data.ts';

const TARGET_BYTES = 64 * 1024 * 1024;

function corpus(): Array<{ id: string; text: string; url: string }> {
  const src = ['test.txt', 'valid.txt'].map((f) => readFileSync(join(SHARED_DATA, 'wikitext2-tokens', f), 'utf8')).join('\n');
  const blocks = src.split(/\n(?= = [^=])/).map((b) => b.trim()).filter((b) => b.length > 200);
  const docs: Array<{ id: string; text: string; url: string }> = [];
  let bytes = 0;
  for (let rep = 0; bytes < TARGET_BYTES; rep++) {
    for (const b of blocks) {
      const id = `wt2-${rep}-${docs.length}`;
      docs.push({ id, text: b, url: `https://wikitext.example/${id}` });
      bytes += Buffer.byteLength(b);
      if (bytes >= TARGET_BYTES) break;
    }
  }
  return docs;
}

const bench: Bench = {
  id: 'engine',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-engine-'));
    try {
      const docs = corpus();
      const textBytes = docs.reduce((a, d) => a + Buffer.byteLength(d.text), 0);
      const file = join(dir, 'in.jsonl');
      writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
      const fileBytes = statSync(file).size;

      let run = 0;
      const engine = await medianSeconds(async () => {
        const workdir = join(dir, `w${run++}`);
        const p = pipeline({ name: 'bench', workdir }, (b) => {
          b.stage('load', jsonl(file, { splitBytes: 1 << 30 }));
        });
        const r = await runTask(new Runtime(p, workdir, dir), 'load', 0);
        if (r.marker.stats.docsOut !== docs.length) throw new Error(`engine wrote ${r.marker.stats.docsOut} docs, expected ${docs.length}`);
        rmSync(workdir, { recursive: true, force: true });
      });

      const writeRows = (rows: Array<{ id: string; text: string; url: string }>) => {
        // parquet-wasm in 8,192-row batches, columns built with apache-arrow's vectorFromArray.
        const chunks: Uint8Array[] = [];
        for (let i = 0; i < rows.length; i += 8192) {
          const slice = rows.slice(i, i + 8192);
          const t = new arrow.Table({
            id: arrow.vectorFromArray(slice.map((d) => d.id), new arrow.Utf8()),
            text: arrow.vectorFromArray(slice.map((d) => d.text), new arrow.Utf8()),
            url: arrow.vectorFromArray(slice.map((d) => d.url), new arrow.Utf8()),
            meta: arrow.vectorFromArray(slice.map(() => '{}'), new arrow.Utf8()),
          });
          const props = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.ZSTD).setDictionaryEnabled(false).build();
          chunks.push(pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(t, 'stream')), props));
        }
        writeFileSync(join(dir, 'peer.parquet'), Buffer.concat(chunks));
      };
      // The same job written directly: read the file, parse each line, write with parquet-wasm.
      const direct = await medianSeconds(() => {
        const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; text: string; url: string });
        writeRows(rows);
      });
      // Encoding alone: the rows already in memory.
      const peer = await medianSeconds(() => writeRows(docs));
      const mb = textBytes / 1e6;
      return {
        title: 'Engine passthrough: read JSONL → write Parquet (zstd), one task, one core',
        rows: [
          { name: 'sluice runTask (read.jsonl → Parquet)', value: mb / engine, unit: 'MB/s', ratio: `${ratio(mb / engine, mb / direct, 'direct JSONL → parquet-wasm')}; ${ratio(mb / engine, mb / peer, 'encoding alone')}`, note: `${docs.length.toLocaleString('en-US')} docs, ${mb.toFixed(0)} MB of text, ${(fileBytes / 1e6).toFixed(0)} MB JSONL` },
          { name: 'JSONL read + JSON.parse + parquet-wasm, written directly (peer)', value: mb / direct, unit: 'MB/s' },
          { name: 'parquet-wasm writeParquet, rows already in memory (reference)', value: mb / peer, unit: 'MB/s' },
        ],
        notes: 'Goal: ≥ 0.8× parquet-wasm writing the same rows directly. The peer does the same job by hand (read the file, JSON.parse each line, write with parquet-wasm); the reference row only encodes rows already in memory, the ceiling for any JSONL → Parquet path. The engine figure includes streaming the file, parsing, counting, the audit and the task marker. Text is WikiText-2 (test + valid) articles repeated to 64 MB.',
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
