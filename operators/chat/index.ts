/**
 * The `chat` family: chat templates and chat tokenisation (`chat.tokenize`). Reading chat and
 * preference data is `read.chat` / `read.preferences` (operators/read/chat.ts).
 */
import { chatTokenize } from './tokenize.ts';

/** Chat operators: `chat.tokenize({ tokenizer, template, mask, maxTokens, truncation })`. */
export const chat = {
  tokenize: chatTokenize,
};

export { renderChat, resolveTemplate, templateForTokenizer, templateFromTokenizerConfig, BUILTIN_TEMPLATES, ChatTemplateError } from './template.ts';
export type { ChatTemplate, RenderOptions } from './template.ts';
export { tokenizeChat } from './tokenize.ts';
export type { ChatTokenizeConfig, MaskMode, Truncation, TokenizeChatOptions, TokenizedChat } from './tokenize.ts';
