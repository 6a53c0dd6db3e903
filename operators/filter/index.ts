/** The `filter.*` operators. */
import { where } from './where.ts';

/** Filters: each keeps a doc or drops it with a reason and score, recorded in the audit. */
export const filter = {
  where,
};
