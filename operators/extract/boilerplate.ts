/**
 * Text-level boilerplate rules, applied to the blocks the content classifier kept. Markup names
 * catch most boilerplate (content.ts, step 1); these catch what pages leave unnamed, by CLASS of
 * boilerplate, never by site. Each rule is a short-block pattern (long prose never matches: a
 * rule only fires on blocks under `MAX_RULE_CHARS`), with its evidence on the development set
 * (`node --import tsx bench/extract-eval.ts`, trafilatura-eval-full, 945 pages): the snippets
 * it turned from kept to absent (`without`) and from present to missing (`with`) when added.
 */
import type { Block } from './blocks.ts';

/** Blocks longer than this are prose: no text rule applies to them. */
const MAX_RULE_CHARS = 160;

/** A rule: what it removes and the pattern of the block text (whitespace-collapsed). */
interface LineRule {
  name: string;
  re: RegExp;
}

/**
 * Single boilerplate lines: dropped wherever they appear among the kept blocks.
 */
export const LINE_RULES: LineRule[] = [
  // Captions and photo credits left outside <figcaption>: a line that starts with a credit label.
  // Evidence: 5 `without` snippets removed, 0 `with` lost.
  { name: 'caption', re: /^(?:foto|fotos|photo|photos|photograph|bild|bilder|titelbild|beitragsbild|image|picture|credit|credits|quelle: ?(?:getty|dpa|afp|reuters|imago)|abbildung \d*:?|©)\b.{0,120}$|^(?:photograph|photo|image|illustration) (?:by|courtesy|credit)\b/i },
  // Bylines: "By Jane Doe", "Von Max Muster und Eva Beispiel", "Posted by …", "Text: …".
  // Evidence: 3 blocks on trafilatura-eval-full, all bylines (none a snippet either way): most
  // bylines there are already pruned by class name; this catches the unnamed ones.
  { name: 'byline', re: /^(?:by|von|par|por|written by|posted by|text:|autor(?:in)?:|author:)\s+\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){0,3}(?:\s*(?:,|\||\/|and|und|et|y|&|-|–)\s*.{0,60})?$/u },
  // Share and print prompts. Evidence: 2 `without` removed, 0 `with` lost.
  { name: 'share', re: /^(?:share|teilen|diesen artikel teilen|artikel teilen|möchten sie (?:den|diesen) artikel teilen\??|den artikel mit anderen teilen.*|share (?:this|on).*|rezept drucken|print(?: this)?(?: article| page)?|drucken|partager|compartir)\s*[:!?.]?$/i },
  // Newsletter and subscription calls to action. Evidence: 16 `without` removed, 1 `with` lost
  // (a podcast plug that the annotators counted as body). Fires on 43 blocks of the full set,
  // read by hand: calls to subscribe, a few sentences that mention a newsletter ("sign up" alone
  // took a product-news sentence, hence `sign up for/to our|the|my`).
  { name: 'newsletter', re: /(?:newsletter|subscribe|subscription|abonnier|abonnement|anmelden für|sign(?:ing)? up (?:for|to) (?:our|the|my)\b|stay up-to-date|never miss|missing out on the latest|nichts mehr versäumen|receive our|get (?:our|the latest)|suscríbete|abonnez|inscrivez)/i },
  // Comment-section headers and prompts. Evidence: 2 `without` removed, 0 `with` lost.
  { name: 'comments', re: /^(?:\d+\s+)?(?:comments?|kommentare?|kommentieren|leave a (?:reply|comment)|schreibe einen kommentar|antworten|reply|commentaires?|comentarios?|diskutieren sie mit|verraten sie (?:uns )?(?:gerne )?in den kommentaren.*)\s*[:!?.]?$|(?:einloggen|eingeloggt|logged in|log in) (?:um|to) .{0,40}(?:kommentar|comment|diskussion)/i },
  // Source and follow-us lines closing an article ("Quelle: dpa", "Síguenos en Telegram…").
  // Evidence: 3 `without` removed, 0 `with` lost.
  { name: 'source', re: /^(?:quelle|quellen|source|sources|fuente|fuentes)\s*:\s*\S.{0,60}$|^(?:follow us|folgen sie uns|folge uns|síguenos|siguenos|suivez-nous)\b.{0,100}$/i },
  // Browser notices: "your browser needs JavaScript", "Bitte aktivieren Sie JavaScript".
  // Evidence: fires on 5 blocks of trafilatura-eval-full, all such notices (read by hand); no
  // snippet either way (they were outside the content, but for 251.html).
  { name: 'browser', re: /(?:enable|activate|turn on|aktivieren sie|einschalten|activez|activa).{0,40}javascript|javascript.{0,60}(?:enabled|disabled|required|deaktiviert|aktiviert|benötigt|erforderlich)|browser (?:needs|requires|does not support) javascript|(?:outdated|veralteten?) browser/i },
  // Advertising labels and disclosures. Evidence: 3 `without` removed, 0 `with` lost.
  { name: 'advert', re: /^(?:advertisement|anzeige|werbung|\*?werbung\b.*|sponsored|publicidad|publicité|advertising disclosure.*)\s*[:.]?$/i },
  // Reading time, "updated" and similar article chrome. Evidence: 1 `without` removed, 0 `with` lost.
  { name: 'chrome', re: /^(?:\d+\s*min(?:ute)?s?\.? read|lesezeit:? .{0,20}|aktualisiert:? .{0,40}|last modified:? .{0,40}|updated:? .{0,40}|veröffentlicht:? .{0,40}|published:? .{0,40}|release date:? .{0,40}|war (?:der|dieser) artikel (?:nützlich|hilfreich)\??|was this (?:article|page) helpful\??)$/i },
];

/**
 * Section headings after which the rest of the section is a teaser list, an author box or a
 * comment thread: the heading and the blocks after it are dropped until a heading that does
 * not match or a long block of plain prose (over `MAX_RULE_CHARS`, under 0.2 links): teasers are
 * short or link-dense, and a page that writes "Mehr zum Thema" before a paragraph of its own
 * goes on with its body (trafilatura-eval-full 901.html).
 */
export const SECTION_RULES: LineRule[] = [
  // Related-article teasers. Evidence: 10 `without` removed, 1 `with` lost (after the
  // long-prose stop below; 4 before it).
  {
    name: 'related',
    re: /^(?:related(?: (?:articles?|posts?|stories|coverage|content|reading))?|read (?:more|also|next)|more (?:from|on|stories|articles|news|about)\b.*|you (?:may|might) (?:also )?(?:like|enjoy|be interested in).*|recommended(?: for you)?|further reading|see also|mehr zum thema.*|mehr (?:zu|über) .{0,40}|das (?:könnte|dürfte) (?:dich|sie) (?:auch )?interessieren.*|(?:ähnliche|verwandte|weitere) (?:beiträge|artikel|themen|nachrichten|news)|lesen sie (?:auch|mehr|weiter).*|auch interessant.*|zum weiterlesen.*|lust auf mehr\??|weitere (?:tourentipps|informationen zum thema)|entdecke weitere .{0,40}|vorschau auf den nächsten artikel|à lire aussi|lire aussi|sur le même sujet|te puede interesar|noticias relacionadas|lee también)\s*[:!?.]?$/i,
  },
  // Author boxes. Evidence: 1 `without` removed, 0 `with` lost.
  { name: 'authorBox', re: /^(?:about the author|über (?:den|die) autor(?:in)?|zur person|der autor|die autorin|à propos de l'auteur|sobre el autor)\s*[:.]?$/i },
];

/** Counters of what each rule removed (for the evidence in the comments above). */
export const ruleHits = new Map<string, number>();

function matches(rule: LineRule, b: Block): boolean {
  return b.chars <= MAX_RULE_CHARS && rule.re.test(b.text.replace(/\s+/g, ' ').trim());
}

/** Drops the blocks the rules name; returns the blocks kept, in order. */
export function dropBoilerplate(blocks: Block[]): Block[] {
  const out: Block[] = [];
  let dropSection = false;
  for (const b of blocks) {
    if (b.chars <= MAX_RULE_CHARS) {
      const section = SECTION_RULES.find((r) => (b.kind === 'h' || b.chars <= 60) && matches(r, b));
      if (section) {
        dropSection = true;
        ruleHits.set(section.name, (ruleHits.get(section.name) ?? 0) + 1);
        continue;
      }
      if (dropSection && b.kind === 'h') dropSection = false;
      const line = LINE_RULES.find((r) => matches(r, b));
      if (line) {
        ruleHits.set(line.name, (ruleHits.get(line.name) ?? 0) + 1);
        continue;
      }
    } else if (dropSection && (b.kind === 'h' || b.linkChars < 0.2 * b.chars)) dropSection = false;
    if (!dropSection) out.push(b);
  }
  return out;
}

const normTitle = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

/**
 * The headline is metadata, not body (article benchmarks and trafilatura's text both leave it
 * out; it is in `meta.extract.title`): the first kept block, when it is a heading whose text is
 * the page title (`og:title`, JSON-LD headline or `<title>`, of which it may be a part, as in
 * `Headline | Site`), is dropped. Evidence: shingle precision on the gold sample 0.975 → 0.985
 * (13 pages); on trafilatura-eval-full 2 `with` snippets lost (pages whose annotators kept the
 * headline), `without` share up 0.002.
 */
export function dropHeadline(blocks: Block[], titles: string[]): Block[] {
  const first = blocks[0];
  if (!first || first.kind !== 'h' || first.chars > 300) return blocks;
  const h = normTitle(first.text);
  if (h.length < 8) return blocks;
  for (const t of titles) {
    const n = normTitle(t);
    if (n === h || (n.includes(h) && h.length >= 0.4 * n.length)) {
      ruleHits.set('headline', (ruleHits.get('headline') ?? 0) + 1);
      return blocks.slice(1);
    }
  }
  return blocks;
}
