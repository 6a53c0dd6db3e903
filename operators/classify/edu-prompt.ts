/**
 * The educational-value prompt of FineWeb-Edu, in Sluice's own words. Source: the annotation
 * prompt HuggingFaceFW published with FineWeb-Edu (huggingface.co/datasets/HuggingFaceFW/fineweb-edu,
 * "Annotation" section; Penedo et al., 2024, "The FineWeb Datasets"), with which Llama-3-70B-Instruct
 * scored 450k web pages 0–5 on an additive scale (itself adapted from Yuan et al., 2024,
 * "Self-Rewarding Language Models"). Same scale, the same five criteria in the same order, the same
 * answer format (`Educational score: <points>`), so scores are comparable with FineWeb-Edu's; the
 * wording is ours.
 */

/** A scoring prompt: the text with `{text}` where the document goes, and how to read the score from the answer. */
export interface ScorePrompt {
  /** Prompt name (recorded with the scores). */
  name: string;
  /** The user message; `{text}` is replaced by the document (truncated to `maxChars`). */
  template: string;
  /** A regular expression whose first group is the score; the last match in the answer counts. */
  scorePattern: string;
  /** Inclusive score range; a score outside it is unparseable. */
  min: number;
  max: number;
}

/** FineWeb-Edu's additive 0–5 educational-value prompt (see the module comment). */
export const FINEWEB_EDU_PROMPT: ScorePrompt = {
  name: 'fineweb-edu',
  min: 0,
  max: 5,
  scorePattern: 'Educational score:\\s*\\**\\s*(\\d+)',
  template: `Below is an extract from a web page. Rate how useful it would be for teaching from primary school up to grade school, using the additive 5-point scale below. Points accumulate: add one point for each criterion the extract meets.

- Add 1 point if the extract gives some basic information on an educational topic, even if it also carries unrelated or non-academic material such as advertisements or promotion.
- Add a 2nd point if it touches on elements useful for education but does not follow educational standards closely: it may mix educational with non-educational content, give only a shallow overview of useful subjects, or be written incoherently.
- Add a 3rd point if it is fit for educational use and introduces key concepts of school curricula. It is coherent, though it may be incomplete or include some extraneous material; it may read like the introduction of a textbook or a basic tutorial that serves learning but has clear limits, for example concepts too complex for grade-school students.
- Add a 4th point if it is highly relevant and beneficial for teaching at a level no higher than grade school, written clearly and consistently. It may read like a textbook chapter or a tutorial with substantial educational content, such as exercises and solutions, with little irrelevant information, and its concepts are not too advanced for grade-school students. It is coherent, focused and valuable for structured learning.
- Add a 5th point if its educational value is outstanding and it is perfectly suited to teaching at primary or grade-school level: detailed reasoning, easy to follow, deep and thorough insight into the subject, and no non-educational or overly complex content.

The extract:
{text}

After examining the extract:
- Justify your total score briefly, in at most 100 words.
- End with the score in the format: "Educational score: <total points>"`,
};

/** The score an answer gives under `prompt`, or why there is none. */
export function parseScore(answer: string, prompt: ScorePrompt): { ok: true; score: number } | { ok: false; reason: string } {
  const re = new RegExp(prompt.scorePattern, 'gi');
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(answer); m; m = re.exec(answer)) {
    last = m;
    if (m[0] === '') re.lastIndex++;
  }
  if (!last || last[1] === undefined) return { ok: false, reason: `no match of /${prompt.scorePattern}/ in the answer` };
  const score = Number(last[1]);
  if (!Number.isFinite(score)) return { ok: false, reason: `score '${last[1]}' is not a number` };
  if (score < prompt.min || score > prompt.max) return { ok: false, reason: `score ${score} is outside ${prompt.min}–${prompt.max}` };
  return { ok: true, score };
}
