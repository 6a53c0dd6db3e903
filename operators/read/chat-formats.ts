/**
 * The record formats of chat and preference data, parsed into `formats/chat.ts` messages.
 * Pure functions: a record in, messages or a {@link RecordProblem} (reason, field, message) out;
 * the sources in operators/read/chat.ts add the file and line.
 *
 * Conversations (`read.chat`):
 * - `messages`: OpenAI style `{messages: [{role, content}]}`;
 * - `alpaca`: `{instruction, input?, output, system?}` → [system], user (instruction, a blank
 *   line, input), assistant (output); Self-Instruct's seed tasks
 *   `{instruction, instances: [{input, output}]}` give one conversation per instance;
 * - `sharegpt`: `{conversations: [{from, value}]}` (`human`/`user` → user, `gpt`/`assistant`/
 *   `chatgpt` → assistant, `system`, `tool`/`function_response`/`observation` → tool);
 * - `hh`: an Anthropic transcript `\n\nHuman: … \n\nAssistant: …` in the `chosen` field (that of
 *   hh-rlhf's records), or `text`.
 *
 * Preference pairs (`read.preferences`):
 * - `trl`: TRL's formats, told apart per record: explicit `{prompt, chosen, rejected}`, or
 *   implicit `{chosen, rejected}` whose shared leading messages are the prompt; each field a
 *   string (prompt → a user turn, answers → an assistant turn) or a message list;
 * - `hh`: `{chosen, rejected}`, two transcripts; their shared leading turns are the prompt.
 */
import { CHAT_ROLES, isChatRole, type ChatMessage, type ChatRole, type PreferenceRecord } from '../../formats/chat.ts';

/** Conversation formats of `read.chat`. */
export const CHAT_FORMATS = ['messages', 'alpaca', 'sharegpt', 'hh'] as const;
export type ChatFormat = (typeof CHAT_FORMATS)[number];
/** Preference formats of `read.preferences`. */
export const PREFERENCE_FORMATS = ['trl', 'hh'] as const;
export type PreferenceFormat = (typeof PREFERENCE_FORMATS)[number];

/** Why a record is not a conversation or pair: a skip reason (`chat.*` / `preferences.*`), the field at fault and a message. */
export interface RecordProblem {
  reason: string;
  field: string;
  message: string;
}

const problem = (reason: string, field: string, message: string): RecordProblem => ({ reason, field, message });
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const kindOf = (v: unknown) => (v === undefined ? 'missing' : v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/** The field as a string, or a `missingField` problem (`family` names the reason family). */
function stringField(r: Record<string, unknown>, key: string, family: string, field = key): string | RecordProblem {
  const v = r[key];
  return typeof v === 'string' ? v : problem(`${family}.missingField`, field, `field '${field}' is ${kindOf(v)}, expected a string`);
}

/** Checks a message list `{role, content}[]` (roles of formats/chat.ts). */
function messageList(v: unknown, field: string, family: string): ChatMessage[] | RecordProblem {
  if (!Array.isArray(v)) return problem(`${family}.missingField`, field, `field '${field}' is ${kindOf(v)}, expected a list of {role, content}`);
  const out: ChatMessage[] = [];
  for (const [i, m] of v.entries()) {
    const f = `${field}[${i}]`;
    if (!isObject(m)) return problem(`${family}.missingField`, f, `field '${f}' is ${kindOf(m)}, expected {role, content}`);
    if (!isChatRole(m.role)) return m.role === undefined ? problem(`${family}.missingField`, `${f}.role`, `field '${f}.role' is missing`) : problem(`${family}.unknownRole`, `${f}.role`, `field '${f}.role' is ${JSON.stringify(m.role)}, not one of ${CHAT_ROLES.join(', ')}`);
    if (typeof m.content !== 'string') return problem(`${family}.missingField`, `${f}.content`, `field '${f}.content' is ${kindOf(m.content)}, expected a string`);
    out.push({ role: m.role, content: m.content });
  }
  return out;
}

const SHAREGPT_ROLES: Record<string, ChatRole> = { human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', chatgpt: 'assistant', system: 'system', tool: 'tool', function_response: 'tool', observation: 'tool' };

const HH_TURN = /\n\n(Human|Assistant):/g;

/**
 * Splits an Anthropic transcript (`\n\nHuman: … \n\nAssistant: …`) into user and assistant
 * turns; the one space after each colon is not content. Text before the first turn is a problem.
 */
export function parseHhTranscript(text: string, field: string, family: string): ChatMessage[] | RecordProblem {
  const marks = [...text.matchAll(HH_TURN)];
  if (marks.length === 0) return problem(`${family}.notTranscript`, field, `field '${field}' has no '\\n\\nHuman:' or '\\n\\nAssistant:' turn`);
  if (marks[0]!.index > 0 && text.slice(0, marks[0]!.index).trim() !== '') return problem(`${family}.notTranscript`, field, `field '${field}' has text before its first turn: ${JSON.stringify(text.slice(0, 40))}`);
  return marks.map((mk, i) => {
    const start = mk.index + mk[0].length;
    const end = i + 1 < marks.length ? marks[i + 1]!.index : text.length;
    const content = text.slice(start, end);
    return { role: mk[1] === 'Human' ? ('user' as const) : ('assistant' as const), content: content.startsWith(' ') ? content.slice(1) : content };
  });
}

function requireAssistant(messages: ChatMessage[], field: string): ChatMessage[] | RecordProblem {
  return messages.some((m) => m.role === 'assistant') ? messages : problem('chat.noAssistantTurn', field, `the conversation in '${field}' has no assistant turn`);
}

/** The conversations of one record (one, or one per Self-Instruct instance), or the problem with it. */
export function parseChatRecord(rec: unknown, format: ChatFormat): ChatMessage[][] | RecordProblem {
  if (!isObject(rec)) return problem('chat.notObject', '', 'the record is not a JSON object');
  switch (format) {
    case 'messages': {
      const msgs = messageList(rec.messages, 'messages', 'chat');
      return 'reason' in msgs ? msgs : wrap(requireAssistant(msgs, 'messages'));
    }
    case 'alpaca': {
      const instruction = stringField(rec, 'instruction', 'chat');
      if (typeof instruction !== 'string') return instruction;
      const sys: ChatMessage[] = typeof rec.system === 'string' && rec.system ? [{ role: 'system', content: rec.system }] : [];
      const one = (r: Record<string, unknown>, prefix: string): ChatMessage[] | RecordProblem => {
        const input = r.input;
        if (input !== undefined && input !== null && typeof input !== 'string') return problem('chat.missingField', `${prefix}input`, `field '${prefix}input' is ${kindOf(input)}, expected a string`);
        const output = stringField(r, 'output', 'chat', `${prefix}output`);
        if (typeof output !== 'string') return output;
        return [...sys, { role: 'user', content: input ? `${instruction}\n\n${input}` : instruction }, { role: 'assistant', content: output }];
      };
      if (rec.output === undefined && Array.isArray(rec.instances)) {
        if (rec.instances.length === 0) return problem('chat.missingField', 'instances', "field 'instances' is empty");
        const out: ChatMessage[][] = [];
        for (const [i, inst] of rec.instances.entries()) {
          if (!isObject(inst)) return problem('chat.missingField', `instances[${i}]`, `field 'instances[${i}]' is ${kindOf(inst)}, expected {input, output}`);
          const c = one(inst, `instances[${i}].`);
          if ('reason' in c) return c;
          out.push(c);
        }
        return out;
      }
      return wrap(one(rec, ''));
    }
    case 'sharegpt': {
      const conv = rec.conversations;
      if (!Array.isArray(conv)) return problem('chat.missingField', 'conversations', `field 'conversations' is ${kindOf(conv)}, expected a list of {from, value}`);
      const out: ChatMessage[] = [];
      for (const [i, t] of conv.entries()) {
        const f = `conversations[${i}]`;
        if (!isObject(t)) return problem('chat.missingField', f, `field '${f}' is ${kindOf(t)}, expected {from, value}`);
        if (typeof t.from !== 'string') return problem('chat.missingField', `${f}.from`, `field '${f}.from' is ${kindOf(t.from)}, expected a string`);
        const role = SHAREGPT_ROLES[t.from];
        if (!role) return problem('chat.unknownRole', `${f}.from`, `field '${f}.from' is ${JSON.stringify(t.from)}, not one of ${Object.keys(SHAREGPT_ROLES).join(', ')}`);
        if (typeof t.value !== 'string') return problem('chat.missingField', `${f}.value`, `field '${f}.value' is ${kindOf(t.value)}, expected a string`);
        out.push({ role, content: t.value });
      }
      return wrap(requireAssistant(out, 'conversations'));
    }
    case 'hh': {
      const key = rec.chosen !== undefined ? 'chosen' : 'text';
      const text = stringField(rec, key, 'chat');
      if (typeof text !== 'string') return text;
      const msgs = parseHhTranscript(text, key, 'chat');
      return 'reason' in msgs ? msgs : wrap(requireAssistant(msgs, key));
    }
    default: {
      const never: never = format;
      throw new Error(`unknown chat format ${String(never)}`);
    }
  }
}

function wrap(v: ChatMessage[] | RecordProblem): ChatMessage[][] | RecordProblem {
  return 'reason' in v ? v : [v];
}

const sameMessage = (a: ChatMessage, b: ChatMessage) => a.role === b.role && a.content === b.content;

/** Splits two conversations into their shared leading messages (the prompt) and the two continuations. */
export function splitSharedPrefix(chosen: ChatMessage[], rejected: ChatMessage[]): PreferenceRecord {
  let n = 0;
  while (n < chosen.length && n < rejected.length && sameMessage(chosen[n]!, rejected[n]!)) n++;
  // Identical conversations keep their last message as the answer, so the pair reads as identical (and is dropped as such).
  if (n === chosen.length && n === rejected.length && n > 0) n--;
  return { prompt: chosen.slice(0, n), chosen: chosen.slice(n), rejected: rejected.slice(n) };
}

/** A string answer is one assistant turn; a list is checked as messages. */
function answer(v: unknown, field: string): ChatMessage[] | RecordProblem {
  if (typeof v === 'string') return [{ role: 'assistant', content: v }];
  if (v === undefined || v === null) return problem('preferences.missingField', field, `field '${field}' is ${kindOf(v)}`);
  return messageList(v, field, 'preferences');
}

/** The preference pair of one record, or the problem with it. */
export function parsePreferenceRecord(rec: unknown, format: PreferenceFormat): PreferenceRecord | RecordProblem {
  if (!isObject(rec)) return problem('preferences.notObject', '', 'the record is not a JSON object');
  switch (format) {
    case 'trl': {
      if (rec.prompt !== undefined) {
        const prompt = typeof rec.prompt === 'string' ? [{ role: 'user' as const, content: rec.prompt }] : messageList(rec.prompt, 'prompt', 'preferences');
        if ('reason' in prompt) return prompt;
        const chosen = answer(rec.chosen, 'chosen');
        if ('reason' in chosen) return chosen;
        const rejected = answer(rec.rejected, 'rejected');
        if ('reason' in rejected) return rejected;
        return { prompt, chosen, rejected };
      }
      // Implicit prompt: the shared prefix.
      if (typeof rec.chosen === 'string' && typeof rec.rejected === 'string') {
        let n = 0;
        while (n < rec.chosen.length && rec.chosen[n] === rec.rejected[n]) n++;
        return { prompt: n ? [{ role: 'user', content: rec.chosen.slice(0, n) }] : [], chosen: [{ role: 'assistant', content: rec.chosen.slice(n) }], rejected: [{ role: 'assistant', content: rec.rejected.slice(n) }] };
      }
      const chosen = answer(rec.chosen, 'chosen');
      if ('reason' in chosen) return chosen;
      const rejected = answer(rec.rejected, 'rejected');
      if ('reason' in rejected) return rejected;
      return splitSharedPrefix(chosen, rejected);
    }
    case 'hh': {
      const c = stringField(rec, 'chosen', 'preferences');
      if (typeof c !== 'string') return c;
      const r = stringField(rec, 'rejected', 'preferences');
      if (typeof r !== 'string') return r;
      const chosen = parseHhTranscript(c, 'chosen', 'preferences');
      if ('reason' in chosen) return chosen;
      const rejected = parseHhTranscript(r, 'rejected', 'preferences');
      if ('reason' in rejected) return rejected;
      return splitSharedPrefix(chosen, rejected);
    }
    default: {
      const never: never = format;
      throw new Error(`unknown preference format ${String(never)}`);
    }
  }
}

/** Why a well-formed pair is dropped: `preferences.identical` (chosen equals rejected) or `preferences.emptyPrompt`; undefined to keep it. */
export function preferenceDropReason(p: PreferenceRecord): string | undefined {
  if (p.chosen.length === p.rejected.length && p.chosen.every((m, i) => sameMessage(m, p.rejected[i]!))) return 'preferences.identical';
  if (p.prompt.every((m) => m.content.trim() === '')) return 'preferences.emptyPrompt';
  return undefined;
}
