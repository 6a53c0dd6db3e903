/**
 * Chat templates for `sluice serve`: a template (operators/chat/template.ts) as the server's
 * {@link ChatFormat}. The prompt is `renderChat(template, messages, { addGenerationPrompt: true })`
 * with the template's bos/eos tokens, or the model's end-of-text text as `eos_token` when the
 * template has none. The assistant's turn ends at the eos token and at the end-of-turn markers of
 * the common formats that the template's source writes (`<|im_end|>` ChatML, `<|eot_id|>` Llama 3,
 * `<|end|>` Phi-3, `<end_of_turn>` Gemma, `</s>`), as their generation configs list them.
 */
import { renderChat, type ChatTemplate } from '../operators/chat/template.ts';
import type { ChatFormat } from './server.ts';

/** End-of-turn markers of the published formats (their `generation_config.json` stop tokens). */
const END_OF_TURN = ['<|im_end|>', '<|eot_id|>', '<|end|>', '<end_of_turn>', '</s>'];

/** The server's chat format for `template`; `eosText` is the model's end-of-text token as text. */
export function chatFormat(template: ChatTemplate, eosText?: string): ChatFormat {
  const eos = template.eosToken ?? eosText;
  const stop = new Set<string>();
  if (eos) stop.add(eos);
  for (const m of END_OF_TURN) if (template.source.includes(m)) stop.add(m);
  return {
    render: (messages) => renderChat(template, messages, { addGenerationPrompt: true, ...(eos !== undefined ? { eosToken: eos } : {}) }),
    stop: [...stop],
  };
}
