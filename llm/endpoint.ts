/**
 * Where an OpenAI-compatible API lives and how to authenticate: `OPENAI_BASE_URL` and
 * `OPENAI_API_KEY`, the variables the official clients read. The key is held here and sent only
 * in the `Authorization` header; `redact` strips it from any text that could reach a log, an error
 * message or a cache file.
 */

/** An OpenAI-compatible API: its base URL (ending in `/v1` for OpenAI itself) and optional key. */
export interface Endpoint {
  /** Base URL requests are made under, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** Bearer token; never logged, never in error messages, never part of a cache key. */
  apiKey?: string;
}

/**
 * The endpoint from explicit values, else `OPENAI_BASE_URL` / `OPENAI_API_KEY`. A base URL given
 * without a path gets `/v1` (what `sluice serve`, vLLM and llama.cpp's server expose). Throws when
 * neither names a base URL, or it is not http(s).
 */
export function resolveEndpoint(given: { baseUrl?: string; apiKey?: string } = {}, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const raw = given.baseUrl ?? env.OPENAI_BASE_URL;
  if (!raw) throw new Error('no endpoint: pass one (--endpoint / endpoint) or set OPENAI_BASE_URL');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`endpoint ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`endpoint ${url.origin}: only http and https are supported`);
  if (url.username || url.password) throw new Error('endpoint: put credentials in OPENAI_API_KEY, not in the URL');
  const path = url.pathname.replace(/\/+$/, '');
  const baseUrl = `${url.origin}${path === '' ? '/v1' : path}`;
  const apiKey = given.apiKey ?? env.OPENAI_API_KEY;
  return apiKey ? { baseUrl, apiKey } : { baseUrl };
}

/** `text` with every occurrence of the endpoint's key replaced by `***`. */
export function redact(text: string, endpoint: Endpoint): string {
  const key = endpoint.apiKey;
  if (!key || key.length < 4) return text;
  return text.split(key).join('***');
}
