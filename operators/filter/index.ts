/** The `filter.*` operators. */
import { where } from './where.ts';
import { language } from './language.ts';
import { gopherQuality } from './gopher-quality.ts';
import { gopherRepetition } from './gopher-repetition.ts';
import { c4 } from './c4.ts';
import { fineweb } from './fineweb.ts';
import { url } from './url.ts';
import { threshold } from './threshold.ts';
import { decontaminate } from './decontaminate.ts';
import { classifier } from './classifier.ts';

/** Filters: each keeps a doc or drops it with a reason and score, recorded in the audit. */
export const filter = {
  where,
  language,
  gopherQuality,
  gopherRepetition,
  c4,
  fineweb,
  url,
  threshold,
  decontaminate,
  classifier,
};
