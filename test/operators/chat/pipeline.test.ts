/** read.chat → chat.tokenize in a real pipeline run: meta.chat, tokens and loss_mask survive the doc dataset; drops reach the manifest. */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDocsParquet } from '../../../engine/parquet.ts';
import type { Doc } from '../../../engine/types.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import { chatOf } from '../../../formats/chat.ts';
import { loadEncoding } from '../../../operators/tokenize/bpe/tiktoken-format.ts';
import { runCli, SLUICE, tempProject } from '../../helpers/cli.ts';

test('a chat pipeline: read.chat → chat.tokenize writes tokens and loss masks; a bad record is skipped, a too-long one dropped', async () => {
  const dir = tempProject('sluice-chat-pipe-');
  const rec = (u: string, a: string) => JSON.stringify({ messages: [{ role: 'user', content: u }, { role: 'assistant', content: a }] });
  writeFileSync(join(dir, 'chat.jsonl'), [rec('Hi', 'Hello!'), JSON.stringify({ messages: [{ role: 'user', content: 'no answer' }] }), rec('Tell me a long story', 'Once upon a time '.repeat(20))].join('\n') + '\n');
  writeFileSync(join(dir, 'pipeline.ts'), `import { pipeline, read, chat } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'chat', workdir: 'runs' }, (p) => {
  const docs = p.stage('chats', read.chat('chat.jsonl'));
  p.stage('tokens', docs, [chat.tokenize({ tokenizer: 'gpt2', template: 'chatml', maxTokens: 40, truncation: 'drop' })]);
});
`);
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', '1'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  assert.deepEqual(summary.stages.find((s) => s.stage === 'chats')!.skipped, { 'chat.noAssistantTurn': 1 });
  const stageDir = join(dir, 'runs', 'tokens');
  const fp = readdirSync(stageDir).find((f) => !f.startsWith('_'))!;
  const docs: Doc[] = [];
  for (const f of readdirSync(join(stageDir, fp)).filter((f) => f.endsWith('.parquet'))) for await (const b of readDocsParquet(join(stageDir, fp, f))) docs.push(...b);
  assert.equal(docs.length, 1);
  const gpt2 = loadEncoding('gpt2');
  const d = docs[0]!;
  assert.deepEqual(chatOf(d)!.messages.map((m) => m.content), ['Hi', 'Hello!']);
  assert.equal(gpt2.decode(d.tokens!), '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n');
  assert.equal(gpt2.decode(d.tokens!.filter((_, i) => d.lossMask![i])), 'Hello!<|im_end|>\n');
  const manifest = JSON.parse((await import('node:fs')).readFileSync(join(stageDir, fp, 'manifest.json'), 'utf8')) as { stats: { operators: Record<string, { drops?: Record<string, number> }> } };
  assert.deepEqual(manifest.stats.operators['chat.tokenize']!.drops, { 'chat.tooLong': 1 });
});
