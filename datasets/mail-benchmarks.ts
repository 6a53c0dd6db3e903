/**
 * Benchmarks derived, offline and deterministically, from the held-out tenth of the
 * SpamAssassin ham messages (never served to the quickstart's crawler):
 * - `mail_subject_mc`: which of four subject lines belongs to this message? (`{query, choices, gold}`)
 * - `mail_cloze`: the last word of a paragraph given the paragraph (LAMBADA-style `{context, continuation}`)
 * The registry pins their sha256 like any download, so a change in derivation is caught.
 */
import { bodyText, mailRefs, parseMail, pick, type Mail } from './mail-corpus.ts';

let heldOut: Promise<Mail[]> | undefined;

/** The parsed held-out ham messages, in corpus order. */
export function heldOutMails(): Promise<Mail[]> {
  heldOut ??= (async () => {
    const out: Mail[] = [];
    for (const r of mailRefs()) if (r.heldOut) out.push(await parseMail(r));
    return out;
  })();
  return heldOut;
}

function cleanSubject(s: string): string {
  return s.replace(/^((re|fwd?|fw)\s*:\s*|\[[^\]]{1,30}\]\s*)+/gi, '').replace(/\s+/g, ' ').trim();
}

/** One item per usable held-out message: its opening text, its subject and three others. */
export async function subjectItems(): Promise<Array<{ query: string; choices: string[]; gold: number; key: string }>> {
  const mails = (await heldOutMails())
    .map((m) => ({ m, subject: cleanSubject(m.subject), body: bodyText(m) }))
    .filter((x) => x.subject.length >= 8 && x.subject.length <= 120 && x.body.length >= 200);
  const subjects = [...new Set(mails.map((x) => x.subject))];
  const items = [];
  for (const x of mails) {
    const others: string[] = [];
    for (let k = 0; others.length < 3 && k < 50; k++) {
      const s = subjects[pick(`${x.m.key}/${k}`, subjects.length)]!;
      if (s !== x.subject && !others.includes(s)) others.push(s);
    }
    if (others.length < 3) continue;
    const gold = pick(`${x.m.key}/gold`, 4);
    const choices = [...others];
    choices.splice(gold, 0, x.subject);
    const opening = x.body.slice(0, 400).replace(/\s+\S*$/, '');
    items.push({ query: `Message: ${opening}\nSubject:`, choices, gold, key: x.m.key });
  }
  return items;
}

/** One cloze item per held-out message with a paragraph of 25–120 words ending in a word. */
export async function clozeItems(): Promise<Array<{ context: string; continuation: string; key: string }>> {
  const items = [];
  for (const m of await heldOutMails()) {
    const paras = bodyText(m)
      .split(/\n\s*\n/)
      .map((p) => p.replace(/\s+/g, ' ').trim())
      .filter((p) => {
        const n = p.split(' ').length;
        return n >= 25 && n <= 120 && /[A-Za-z]{3,}[.!?]?$/.test(p);
      });
    if (!paras.length) continue;
    const p = paras[0]!.replace(/[.!?]$/, '');
    const cut = p.lastIndexOf(' ');
    items.push({ context: p.slice(0, cut), continuation: p.slice(cut + 1), key: m.key });
  }
  return items;
}

/** The JSONL bytes of a derived benchmark file. */
export async function deriveMailBenchmark(name: 'mail_subject_mc' | 'mail_cloze'): Promise<Buffer> {
  const rows =
    name === 'mail_subject_mc'
      ? (await subjectItems()).map(({ query, choices, gold }) => ({ query, choices, gold }))
      : (await clozeItems()).map(({ context, continuation }) => ({ context, continuation }));
  return Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}
