/**
 * Decoding HTML bytes to text: the charset comes from a BOM, the HTTP `Content-Type` header, or
 * a `<meta charset>` / `<meta http-equiv="content-type">` in the first 4 KB (the WHATWG
 * prescan window is 1,024 bytes; real pages put a long `<head>` first), else UTF-8.
 * Node's `TextDecoder` (full ICU) supports every WHATWG encoding label.
 */

const META_CHARSET = /<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.-]+)/i;

/** The charset label declared in a `Content-Type` header value, if any. */
export function charsetFromContentType(contentType: string | undefined): string | undefined {
  const m = contentType ? /charset\s*=\s*["']?([a-zA-Z0-9_:.-]+)/i.exec(contentType) : null;
  return m?.[1];
}

function decoderFor(label: string | undefined): TextDecoder | undefined {
  if (!label) return undefined;
  try {
    return new TextDecoder(label.toLowerCase());
  } catch {
    return undefined;
  }
}

/**
 * Decodes an HTML payload. `contentType` is the HTTP header value when known. Invalid bytes
 * become U+FFFD; an unknown charset label falls back to UTF-8.
 */
export function decodeHtml(bytes: Uint8Array, contentType?: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  let dec = decoderFor(charsetFromContentType(contentType));
  if (!dec) {
    const head = new TextDecoder('latin1').decode(bytes.subarray(0, 4096));
    dec = decoderFor(META_CHARSET.exec(head)?.[1]);
  }
  // A page declaring UTF-16 in a meta tag is ASCII-compatible bytes by construction: UTF-8.
  if (!dec || dec.encoding.startsWith('utf-16')) dec = new TextDecoder('utf-8');
  return dec.decode(bytes);
}
