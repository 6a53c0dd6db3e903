/**
 * The parts of OpenAI's chat-completions API that Sluice sends and reads (request fields, the
 * response's choices, per-token `logprobs` with `top_logprobs`). Servers that speak the API
 * (OpenAI, vLLM, llama.cpp, `sluice serve`) return more fields; they are kept as received.
 */
import type { ChatMessage } from '../formats/chat.ts';

/** A `POST /chat/completions` body. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  /** Return per-token log-probabilities. */
  logprobs?: boolean;
  /** How many alternatives per position (needs `logprobs: true`; OpenAI allows 0–20). */
  top_logprobs?: number;
  stop?: string[];
  seed?: number;
}

/** One alternative token at a position, with its log-probability. */
export interface TopLogprob {
  token: string;
  logprob: number;
  bytes?: number[] | null;
}

/** One generated token with its log-probability and the most likely alternatives. */
export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

/** One choice of a chat completion. */
export interface ChatChoice {
  index: number;
  finish_reason: string | null;
  message: { role: string; content: string | null; [k: string]: unknown };
  logprobs?: { content: TokenLogprob[] | null } | null;
  [k: string]: unknown;
}

/** A chat-completions response (fields beyond these are kept as the server sent them). */
export interface ChatResponse {
  id?: string;
  model?: string;
  choices: ChatChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  [k: string]: unknown;
}
