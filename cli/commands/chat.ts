/** `sluice chat render`: render conversations with a chat template, for debugging templates and parity checks. */
import { once } from 'node:events';
import type { Command } from '../command.ts';
import { subcommands, UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { ChatTemplateError, renderChat, resolveTemplate } from '../../operators/chat/template.ts';
import type { ChatMessage } from '../../formats/chat.ts';
import { openInput } from '../../operators/read/open.ts';
import { jsonlRecords } from '../../operators/read/records.ts';

const USAGE = `sluice chat render --template NAME|FILE [--add-generation-prompt] [--bos-token T] [--eos-token T]

render  Reads JSON Lines {"messages": [{"role", "content"}, …], "tools"?: […]} on stdin and prints
        each conversation rendered with the template as one JSON string per line, exactly as
        transformers' apply_chat_template(tokenize=False) renders it. When the template raises
        (raise_exception) the line is null and the error goes to stderr; so is a line that is
        not JSON or has no "messages" list (then the exit code is 1). Blank lines are ignored.
          --template               chatml | llama-3 | zephyr (built in), a .jinja file, or a
                                   tokenizer_config.json with a chat_template
          --add-generation-prompt  end with the assistant header (default: off)
          --bos-token T            bos_token in the template (default: the config's, else '')
          --eos-token T            eos_token in the template (default: the config's, else '')

Example:
  echo '{"messages":[{"role":"user","content":"Hi"}]}' | sluice chat render --template chatml --add-generation-prompt`;

async function out(data: string): Promise<void> {
  if (!process.stdout.write(data)) await once(process.stdout, 'drain');
}

async function render(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    template: { type: 'string' },
    'add-generation-prompt': { type: 'boolean' },
    'bos-token': { type: 'string' },
    'eos-token': { type: 'string' },
  });
  if (!values.template) throw new UsageError('--template NAME|FILE is required');
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}': conversations are read from stdin`);
  const template = resolveTemplate(values.template);
  const opts = {
    addGenerationPrompt: values['add-generation-prompt'] ?? false,
    ...(values['bos-token'] !== undefined ? { bosToken: values['bos-token'] } : {}),
    ...(values['eos-token'] !== undefined ? { eosToken: values['eos-token'] } : {}),
  };
  let malformed = 0;
  for await (const ev of jsonlRecords(await openInput('-'))) {
    const where = `stdin:${ev.line}`;
    if (ev.kind === 'skip') {
      malformed++;
      process.stderr.write(`${where}: ${ev.reason}: ${String(ev.details.error ?? '')}\n`);
      await out('null\n');
      continue;
    }
    const rec = ev.value as { messages?: unknown; tools?: unknown } | null;
    if (rec === null || typeof rec !== 'object' || !Array.isArray(rec.messages)) {
      malformed++;
      process.stderr.write(`${where}: field 'messages' is missing or not a list\n`);
      await out('null\n');
      continue;
    }
    try {
      const text = renderChat(template, rec.messages as ChatMessage[], { ...opts, ...(rec.tools !== undefined ? { tools: rec.tools } : {}) });
      await out(JSON.stringify(text) + '\n');
    } catch (e) {
      if (!(e instanceof ChatTemplateError)) throw e;
      process.stderr.write(`${where}: ${e.message}\n`);
      await out('null\n');
    }
  }
  return malformed ? 1 : 0;
}

/** `sluice chat <sub-command>`. */
export const chatCommand: Command = subcommands(USAGE, { render });
