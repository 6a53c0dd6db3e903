/**
 * Translates a pre-tokenisation pattern written in tiktoken's dialect (Rust `fancy-regex`) into
 * an equivalent JavaScript regex: `\s`/`\S` become `\p{White_Space}`/`\P{White_Space}` (Rust's
 * whitespace: U+0085 yes, U+FEFF no), `(?i:…)` groups become case classes with the Unicode folds
 * Rust applies (`ſ`→s, `K`→k), and possessive quantifiers `x?+ x*+ x++ x{n,m}+` become the exact
 * atomic emulation `(?=(?<n>x+))\k<n>`. Fuzzed against tiktoken itself in the tests.
 */
const FOLDS: Record<string, string> = { s: 'sSſ', k: 'kKK' };

/**
 * Translates a pattern in tiktoken's Rust dialect into an equivalent global, Unicode JS regex.
 * Throws a clear error on constructs it cannot translate exactly (inline flags other than
 * `(?i:…)`, or JavaScript rejecting the result).
 */
export function compilePattern(pattern: string): RegExp {
  let out = '';
  let ci = 0; // depth of (?i: groups
  const groups: Array<{ start: number; ci: boolean }> = [];
  let atomStart = -1;
  let named = 0;
  let i = 0;
  const ws = (neg: boolean, inClass: boolean) => (inClass ? (neg ? '\\P{White_Space}' : '\\p{White_Space}') : neg ? '\\P{White_Space}' : '\\p{White_Space}');
  const readEscape = (inClass: boolean): string => {
    const c = pattern[i + 1];
    if (c === undefined) throw new Error(`pattern ends with a lone backslash: ${pattern}`);
    if (c === 's' || c === 'S') {
      i += 2;
      return ws(c === 'S', inClass);
    }
    if ((c === 'p' || c === 'P') && pattern[i + 2] === '{') {
      const end = pattern.indexOf('}', i);
      const e = pattern.slice(i, end + 1);
      i = end + 1;
      return e;
    }
    if (c === 'x' && pattern[i + 2] === '{') {
      const end = pattern.indexOf('}', i);
      const e = '\\u{' + pattern.slice(i + 3, end) + '}';
      i = end + 1;
      return e;
    }
    i += 2;
    return '\\' + c;
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      atomStart = out.length;
      out += readEscape(false);
    } else if (c === '[') {
      atomStart = out.length;
      let cls = '[';
      i++;
      if (pattern[i] === '^') {
        cls += '^';
        i++;
      }
      if (pattern[i] === ']') {
        cls += '\\]';
        i++;
      }
      while (i < pattern.length && pattern[i] !== ']') {
        if (pattern[i] === '\\') cls += readEscape(true);
        else if (pattern[i] === '[') throw new Error(`nested character classes are not supported: ${pattern}`);
        else {
          const ch = pattern[i]!;
          cls += ci && /[a-zA-Z]/.test(ch) ? caseVariants(ch) : ch;
          i++;
        }
      }
      if (pattern[i] !== ']') throw new Error(`unterminated character class in pattern: ${pattern}`);
      out += cls + ']';
      i++;
    } else if (c === '(') {
      if (pattern.startsWith('(?i:', i)) {
        groups.push({ start: out.length, ci: true });
        ci++;
        out += '(?:';
        i += 4;
      } else if (/^\(\?[a-zA-Z-]+[:)]/.test(pattern.slice(i))) {
        throw new Error(`inline flags other than (?i:…) are not supported: ${pattern.slice(i, i + 8)}… in ${pattern}`);
      } else {
        groups.push({ start: out.length, ci: false });
        const m = /^\((\?(?::|=|!|<=|<!|<[A-Za-z]\w*>|P<[A-Za-z]\w*>))?/.exec(pattern.slice(i))!;
        out += m[0].replace('?P<', '?<');
        i += m[0].length;
      }
    } else if (c === ')') {
      const g = groups.pop();
      if (!g) throw new Error(`unbalanced ')' in pattern: ${pattern}`);
      if (g.ci) ci--;
      out += ')';
      atomStart = g.start;
      i++;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)))) {
      let q = c;
      i++;
      if (c === '{') {
        const end = pattern.indexOf('}', i - 1);
        q = pattern.slice(i - 1, end + 1);
        i = end + 1;
      }
      if (pattern[i] === '+') {
        // Possessive: an atomic group, emulated exactly by a captured lookahead and a backreference.
        if (atomStart < 0) throw new Error(`possessive quantifier without an atom in pattern: ${pattern}`);
        const atom = out.slice(atomStart);
        const name = `sluicePoss${named++}`;
        out = out.slice(0, atomStart) + `(?=(?<${name}>${atom}${q}))\\k<${name}>`;
        i++;
      } else if (pattern[i] === '?') {
        out += q + '?';
        i++;
      } else out += q;
      atomStart = -1;
    } else {
      atomStart = out.length;
      if (ci && /[a-zA-Z]/.test(c)) out += '[' + caseVariants(c) + ']';
      else if (c === '/') out += '\\/';
      else out += c;
      i++;
    }
  }
  if (groups.length) throw new Error(`unbalanced '(' in pattern: ${pattern}`);
  try {
    return new RegExp(out, 'gu');
  } catch (e) {
    throw new Error(`pattern cannot be compiled (${(e as Error).message}): ${pattern}`);
  }
}

function caseVariants(ch: string): string {
  const lower = ch.toLowerCase();
  return FOLDS[lower] ?? lower + lower.toUpperCase();
}
