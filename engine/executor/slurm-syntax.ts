/**
 * The two grammars a generated Slurm script is read with, and how Sluice stays inside them:
 * - bash reads the script body: every word Sluice writes there is single-quoted by `shq`;
 * - sbatch reads the `#SBATCH` lines with its own tokenizer (whitespace splits words, `'` and
 *   `"` group, `\` escapes one non-blank character, an unquoted `#` starts a comment, a line ends
 *   at `\n`); bash sees the same lines as comments, so a newline in a value would end the comment
 *   and turn the rest into a shell command. Every value that becomes a directive is therefore
 *   checked against the grammar Slurm documents for it (sbatch(1)), and control characters are
 *   refused everywhere.
 * Paths never enter either grammar: `--chdir` and `--output` are passed to sbatch as argv words,
 * and the paths the job needs reach it through its environment (see `slurm-script.ts`).
 */

/** Any C0/C1 control character or DEL: never valid in a directive, and `\n` ends a `#SBATCH` line. */
const CONTROL = /\p{Cc}/u;

/**
 * Single-quotes a string as one bash word: `'…'`, with each `'` written as `'\''`. Inside single
 * quotes bash treats every byte literally (newlines, `$`, backticks, `\` included), so the word
 * reads back unchanged. A NUL cannot be part of a bash word (nor of argv or the environment), so
 * a string holding one is refused.
 */
export function shq(s: string): string {
  if (s.includes('\0')) throw new Error(`cannot pass a value holding a NUL character to the shell (got ${JSON.stringify(s)})`);
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A name as Slurm configuration and sbatch accept it portably. Slurm documents no character set
 * for partition, account, QOS or GRES names beyond slurm.conf's tokenizer (whitespace, `#` and
 * `=` delimit) and its list separators (`,`, and `:` inside a GRES); Sluice accepts the subset
 * every site uses — letters, digits, `_`, `.`, `-`, not starting with `-` or `.` — which also
 * keeps each value one sbatch word that no shell or tokenizer rewrites.
 */
const NAME = '[A-Za-z0-9_][A-Za-z0-9_.-]*';
const NAMES = new RegExp(`^${NAME}(,${NAME})*$`);
/** sbatch(1) `--gres=<list>`: comma-separated `name[[:type]:count]`, count with an optional k/m/g/t/p suffix. */
const GRES_ENTRY = `${NAME}(:${NAME})?(:\\d+[kKmMgGtTpP]?)?`;
const GRES = new RegExp(`^${GRES_ENTRY}(,${GRES_ENTRY})*$`);
/**
 * sbatch(1) `--time`: "minutes", "minutes:seconds", "hours:minutes:seconds", "days-hours",
 * "days-hours:minutes", "days-hours:minutes:seconds"; plus `UNLIMITED`/`INFINITE`.
 */
const TIME = /^(?:(\d+-)?\d+(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/i;
/** sbatch(1) `--mem=<size>[units]`, units K, M, G or T (default M). */
const MEM = /^\d+[KMGT]?$/i;

/** What a value is checked as, and how the error describes a valid one. */
export type SlurmValueKind = 'names' | 'name' | 'gres' | 'time' | 'mem' | 'count';

const RULES: Record<SlurmValueKind, { test: (v: string) => boolean; want: string }> = {
  names: { test: (v) => NAMES.test(v), want: "Slurm name(s) of letters, digits, '_', '.' and '-', comma-separated (e.g. 'gpu' or 'cpu,cpu-long')" },
  name: { test: (v) => new RegExp(`^${NAME}$`).test(v), want: "a Slurm name of letters, digits, '_', '.' and '-' (e.g. 'lab-a')" },
  gres: { test: (v) => GRES.test(v), want: "a GRES list 'name[[:type]:count]', comma-separated (e.g. 'gpu:1' or 'gpu:a100:2')" },
  time: { test: (v) => TIME.test(v), want: 'a Slurm time such as 30, 2:00:00 or 1-12:00:00' },
  mem: { test: (v) => MEM.test(v), want: 'a size such as 4G, 500M or 1024' },
  count: { test: (v) => /^[1-9]\d*$/.test(v), want: 'a positive integer' },
};

/**
 * Checks one value that becomes (part of) an `#SBATCH` directive; throws an error naming
 * `what` (e.g. `--slurm-partition` or `stage 'train' option 'gres'`) and the value as JSON, so
 * a newline or other control character shows as `\n`, `\u0007`…
 */
export function checkSlurmValue(what: string, value: string, kind: SlurmValueKind): string {
  const rule = RULES[kind];
  if (typeof value !== 'string' || CONTROL.test(value) || !rule.test(value)) throw new Error(`${what} must be ${rule.want} (got ${JSON.stringify(value)})`);
  return value;
}

/** C's `isspace` in the C locale, which sbatch's tokenizer uses (not JavaScript's Unicode `\s`). */
const BLANK = /[ \t\n\v\f\r]/;

/**
 * Splits a `#SBATCH` line into the words sbatch reads from it, as sbatch's own tokenizer does:
 * blanks separate words; `'…'` or `"…"` group characters, blanks included; `\` makes the next
 * character literal (outside quotes only a non-blank one: sbatch ends the word at a blank
 * first); an unquoted `#` ends the line. Returns null for an unclosed quote.
 */
export function sbatchWords(line: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && BLANK.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') break;
    let word = '';
    let quote = '';
    while (i < line.length && (quote || !BLANK.test(line[i]!))) {
      const c = line[i]!;
      if (quote) {
        if (c === quote) quote = '';
        else if (c === '\\') word += line[++i] ?? '';
        else word += c;
      } else if (c === '\\') {
        if (i + 1 < line.length && !BLANK.test(line[i + 1]!)) word += line[++i]!;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '#') {
        i = line.length;
        break;
      } else word += c;
      i++;
    }
    if (quote) return null;
    words.push(word);
  }
  return words;
}

/** sbatch options whose values have a documented grammar, long name → kind (short forms map here too). */
const KNOWN: Record<string, SlurmValueKind> = {
  partition: 'names',
  account: 'name',
  qos: 'name',
  reservation: 'names',
  'job-name': 'name',
  gres: 'gres',
  time: 'time',
  'time-min': 'time',
  mem: 'mem',
  'mem-per-cpu': 'mem',
  'mem-per-gpu': 'mem',
  'cpus-per-task': 'count',
  ntasks: 'count',
};
const SHORT: Record<string, string> = { p: 'partition', A: 'account', q: 'qos', J: 'job-name', t: 'time', c: 'cpus-per-task', n: 'ntasks' };

/**
 * Checks a user-supplied sbatch line (`--account=lab`, `-A lab`, `#SBATCH --qos=high`) and returns
 * it without the `#SBATCH` prefix. It must be exactly one sbatch option in sbatch's own syntax
 * (quotes allowed, e.g. `--comment="two words"`), hold no control character, and, for options
 * with a documented grammar (partition, account, qos, gres, time, mem, job name…), a valid value.
 * `what` names the source in errors (e.g. `--slurm-sbatch`).
 */
export function checkSbatchLine(what: string, raw: string): string {
  const bad = (why: string) => new Error(`${what} ${JSON.stringify(raw)} ${why} (e.g. '--account=lab' or '#SBATCH --qos=high')`);
  if (typeof raw !== 'string' || CONTROL.test(raw)) throw bad('holds a newline or other control character; each line must be one sbatch option');
  const line = raw.replace(/^#SBATCH\s+/, '').trim();
  const words = sbatchWords(line);
  if (!words) throw bad('has an unclosed quote');
  let name: string;
  let value: string | undefined;
  const long = /^--([A-Za-z][A-Za-z0-9-]*)(?:=([^]*))?$/.exec(words[0] ?? '');
  const short = /^-([A-Za-z])([^]*)$/.exec(words[0] ?? '');
  if (long && words.length === 1) [name, value] = [long[1]!, long[2]];
  else if (short && !long && (words.length === 1 || (words.length === 2 && !short[2] && !words[1]!.startsWith('-')))) [name, value] = [SHORT[short[1]!] ?? short[1]!, words.length === 2 ? words[1]! : short[2] || undefined];
  else throw bad('is not one sbatch option');
  const kind = KNOWN[name];
  if (kind && value !== undefined) checkSlurmValue(`${what} ${JSON.stringify(raw)}: the value of --${name}`, value, kind);
  return line;
}

/**
 * Escapes a path for sbatch's `--output` filename pattern: `%` becomes `%%` (else `%j`, `%x`… in a
 * directory name would be replaced). A backslash cannot be escaped there — any `\` turns all
 * replacement off, so `%A_%a` would stay literal — and is refused, naming `what`.
 */
export function outputPatternDir(what: string, dir: string): string {
  if (dir.includes('\\')) throw new Error(`${what} ${JSON.stringify(dir)} holds a backslash, which Slurm's --output cannot express (it turns off %j/%a replacement); use a directory without one`);
  return dir.replace(/%/g, '%%');
}

/** Last guard on a directive Sluice generated: one line, no control character. */
export function checkDirective(line: string): string {
  if (CONTROL.test(line)) throw new Error(`internal error: #SBATCH directive ${JSON.stringify(line)} holds a control character`);
  return line;
}
