/**
 * Chat and preference records: how a conversation or a preference pair travels in a doc.
 *
 * A chat doc keeps its messages as structured data in `meta.chat` ({@link ChatRecord}); its
 * `text` is a plain rendering of the same messages ({@link plainText}), so every text filter,
 * dedup stage and the audit work on it unchanged. A preference doc keeps its pair in
 * `meta.preference` ({@link PreferenceRecord}); its `text` renders the prompt then the chosen
 * answer. Doc datasets store `meta` as JSON, so both survive Parquet round trips and DuckDB
 * reads them with `json_extract`.
 */
import type { Doc } from '../engine/types.ts';

/** The roles a message may have (OpenAI's, plus `tool` for tool results). */
export const CHAT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;

/** One message's role. */
export type ChatRole = (typeof CHAT_ROLES)[number];

/** One message of a conversation. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A conversation: `doc.meta.chat`. */
export interface ChatRecord {
  messages: ChatMessage[];
}

/**
 * A preference pair: `doc.meta.preference`. `prompt` is the shared context (ending with a user
 * turn); `chosen` and `rejected` are the two continuations (usually one assistant turn each).
 */
export interface PreferenceRecord {
  prompt: ChatMessage[];
  chosen: ChatMessage[];
  rejected: ChatMessage[];
}

/** True when `role` is one of {@link CHAT_ROLES}. */
export function isChatRole(role: unknown): role is ChatRole {
  return typeof role === 'string' && (CHAT_ROLES as readonly string[]).includes(role);
}

function isMessages(v: unknown): v is ChatMessage[] {
  return Array.isArray(v) && v.every((m) => m !== null && typeof m === 'object' && isChatRole((m as ChatMessage).role) && typeof (m as ChatMessage).content === 'string');
}

/** The conversation a chat doc carries, or undefined when `doc` is not a chat doc. */
export function chatOf(doc: Doc): ChatRecord | undefined {
  const c = doc.meta['chat'];
  if (c === null || typeof c !== 'object' || !isMessages((c as ChatRecord).messages)) return undefined;
  return c as ChatRecord;
}

/** The preference pair a preference doc carries, or undefined when `doc` is not one. */
export function preferenceOf(doc: Doc): PreferenceRecord | undefined {
  const p = doc.meta['preference'];
  if (p === null || typeof p !== 'object') return undefined;
  const r = p as PreferenceRecord;
  return isMessages(r.prompt) && isMessages(r.chosen) && isMessages(r.rejected) ? r : undefined;
}

/**
 * The plain text of messages, `role: content` blocks separated by a blank line: what text
 * filters, dedup and the audit see of a chat doc. Not a chat template (those are for training
 * and serving); it only has to be stable and keep every word.
 */
export function plainText(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${m.content}`).join('\n\n');
}

/** Every text field of a chat or preference doc (each message's content), for checks such as decontamination; `[doc.text]` for other docs. */
export function textFields(doc: Doc): string[] {
  const c = chatOf(doc);
  if (c) return c.messages.map((m) => m.content);
  const p = preferenceOf(doc);
  if (p) return [...p.prompt, ...p.chosen, ...p.rejected].map((m) => m.content);
  return [doc.text];
}
