/**
 * The pieces behind captured-value fingerprints (issue 15, section 2): the free-variable analysis,
 * `functionDigest` over the kinds of values a user function may capture, the refusals, and
 * `params` validation. The end-to-end behaviour through the CLI is in captures-cli.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as nodePath from 'node:path';
import picomatch from 'picomatch';
import { freeVariables } from '../../engine/free-variables.ts';
import { functionDigest, functionDigests } from '../../engine/captures.ts';
import { filter, map } from '../../index.ts';
import { docBytes } from '../../engine/operator.ts';

const names = (src: string) => Object.fromEntries(freeVariables(src).map((v) => [v.name, v.paths]));

test('freeVariables: declarations at any depth are not free; block scoping, patterns, classes and labels', () => {
  assert.deepEqual(names(`(d) => d.text.length >= MIN || { drop: 'short' }`), { MIN: [[]] });
  // A loop variable of the same name shadows only inside the loop.
  assert.deepEqual(names(`function f(a) { for (let MIN = 0; MIN < 3; MIN++) a += MIN; return a > MIN; }`), { MIN: [[]] });
  assert.deepEqual(names(`function f(a, { b = DEF, [K]: c }, ...rest) { var x; let y; return a + b + c + x + y + rest + arguments.length + f; }`), { DEF: [[]], K: [[]] });
  assert.deepEqual(names(`async (d) => { try { await g(d); } catch ({ message }) { log(message); } out: for (const q of Q) break out; }`), { Q: [[]], g: [[]], log: [[]] });
  assert.deepEqual(names(`() => { class A extends B { static s = S; #p = 1; m() { return this.#p + C + A; } } return new A(); }`), { B: [[]], C: [[]], S: [[]] });
  assert.deepEqual(names(`(d) => { hoisted(); function hoisted() { return Z; } { const Z = 1; } return { a, b: c, [e]: 1 }; }`), { Z: [[]], a: [[]], c: [[]], e: [[]] });
  // Method shorthand (what `{ test(d) {…} }.test.toString()` gives) parses too.
  assert.deepEqual(names(`test(d) { return ns.helper(d).x?.y + ns['other'] + obj.a.b; }`), { ns: [['helper'], ['other']], obj: [['a', 'b']] });
  // Member paths: static reads are kept; a computed key ends the path.
  assert.deepEqual(names(`() => process.env.MIN + process.env['X'] + process.env[k]`), { process: [['env', 'MIN'], ['env', 'X'], ['env']], k: [[]] });
});

// Values for the digests below: module-level bindings of this file, read live through the closure.
let LIVE = 1;
const UNRELATED = { n: 1 };
let HELPER_LIMIT = 5;
function helper(text: string): boolean {
  return text.length >= HELPER_LIMIT;
}
const RULES = { min: 3, words: new Set(['a', 'the']), re: /ab+c/i, when: new Date(0), check(t: string) { return t.length > this.min; } };
class Pool {
  size = 1;
}

test('functionDigest: a captured value, read live, changes the digest; an uncaptured one does not', () => {
  const make = (t: number) => (d: { text: string }) => d.text.length >= t;
  assert.equal(functionDigest(make(1)), functionDigest(make(1)), 'same source, same captured value');
  assert.notEqual(functionDigest(make(1)), functionDigest(make(2)), 'a closure parameter is captured');

  const f = (d: { text: string }) => d.text.length >= LIVE;
  const a = functionDigest(f);
  UNRELATED.n = 2;
  assert.equal(functionDigest(f), a, 'a module value the function does not read leaves it alone');
  LIVE = 2;
  assert.notEqual(functionDigest(f), a, 'the module-level binding is read as it is now');

  const g = (d: { text: string }) => helper(d.text);
  const b = functionDigest(g);
  HELPER_LIMIT = 40;
  assert.notEqual(functionDigest(g), b, 'a captured helper function contributes its own captures');

  const r = (d: { text: string }) => RULES.check(d.text) && RULES.words.has(d.text) && RULES.re.test(d.text) && RULES.when.getTime() === 0;
  const c = functionDigest(r);
  RULES.words.add('an');
  const d1 = functionDigest(r);
  assert.notEqual(d1, c, 'a Set of words is data');
  RULES.re = /abc/;
  assert.notEqual(functionDigest(r), d1, 'a RegExp is data');
});

test('functionDigest: the environment read inside the function, built-ins, Node built-ins and packages', () => {
  const env = () => Number(process.env.SLUICE_TEST_MIN) > 3;
  process.env.SLUICE_TEST_MIN = '5';
  const a = functionDigest(env);
  process.env.SLUICE_TEST_MIN = '40';
  assert.notEqual(functionDigest(env), a, 'process.env.NAME inside the function is hashed');
  delete process.env.SLUICE_TEST_MIN;

  // Math, JSON, an imported Node function, a namespace member and a package function: no ceremony.
  const lib = (d: { text: string }) => Math.max(JSON.stringify(d).length, join('a', d.text).length, nodePath.basename(d.text).length) > 0 && picomatch.isMatch(d.text, '*.txt');
  assert.match(functionDigest(lib), /^[0-9a-f]{64}$/);
  assert.equal(functionDigest(lib), functionDigest(lib));
  // A bound function with a data `this`.
  const bound = function (this: { min: number }, d: { text: string }) {
    return d.text.length >= this.min;
  };
  assert.notEqual(functionDigest(bound.bind({ min: 1 })), functionDigest(bound.bind({ min: 2 })));
  // A Sluice export is library code: accepted, by its source text.
  assert.match(functionDigest((d: { id: string; text: string; meta: {} }) => docBytes(d) > 3), /^[0-9a-f]{64}$/);
  // Code built at run time (no script URL) is the user's: its source text, which holds the value, counts.
  const wrap = (n: number) => {
    const built = new Function('t', `return t.length > ${n}`) as (t: string) => boolean;
    return (t: string) => built(t);
  };
  assert.notEqual(functionDigest(wrap(1)), functionDigest(wrap(2)));
});

test('functionDigest: values that cannot be hashed are refused, naming the variable', () => {
  const pool = new Pool();
  const registry = new Map<string, () => number>([['one', () => 1]]);
  const withGetter = {
    get min() {
      return LIVE;
    },
  };
  const proxy = new Proxy({}, {});
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const stream = Readable.from(['x']);
  const cases: Array<[() => unknown, RegExp]> = [
    [() => pool.size, /captures 'pool' \(an instance of Pool\)/],
    [() => registry.get('one'), /captures 'registry' \(a function inside a Map or Set\)/],
    [() => withGetter.min, /captures 'withGetter' → 'min' \(a getter or setter/],
    [() => proxy, /captures 'proxy' \(a Proxy\)/],
    [() => cyclic.a, /captures 'cyclic' → 'self' \(a value that contains itself\)/],
    [() => stream.readable, /captures 'stream' \(an instance of Readable\)/],
    [(k = 'X') => process.env[k], /captures 'process' → 'env' \(the whole environment/],
    [() => Pool.name + new Pool().size, /./],
  ];
  for (const [fn, re] of cases.slice(0, -1)) assert.throws(() => functionDigest(fn), re);
  // A class is a function: its source and captures are hashed, so it is accepted.
  assert.match(functionDigest(cases.at(-1)![0]), /^[0-9a-f]{64}$/);
});

test('filter.where and map: refusals name the stage, operator and function; params must be JSON', () => {
  const pool = new Pool();
  const op = filter.where('busy', () => pool.size > 0);
  assert.throws(() => functionDigests('clean', op), (e: Error) => {
    assert.equal(
      e.message,
      "stage 'clean', filter.where('busy'): the function captures 'pool' (an instance of Pool), which cannot be part of the stage fingerprint, so a change to it would not re-run the stage. Fix: pass the values the function depends on through params (JSON: e.g. filter.where('busy', fn, { params: { … } }), which fn receives as its third argument), or make 'pool' a JSON value.",
    );
    return true;
  });
  assert.throws(() => filter.where('x', () => true, { params: { min: NaN } }), /filter\.where\('x'\): params\.min is NaN, which JSON cannot hold/);
  assert.throws(() => map('m', (d) => d, { params: { pool } as never }), /map\('m'\): params\.pool is an instance of Pool, not plain JSON data/);
  assert.throws(() => map('m', (d) => d, { params: { f: (() => 1) as never } }), /map\('m'\): params\.f is a function, not JSON/);
  const ok = map('m', (d, _ctx, p) => ({ ...d, meta: { ...d.meta, ...p } }), { params: { tag: 'a', n: [1, 2] } });
  assert.deepEqual(ok.config, { params: { tag: 'a', n: [1, 2] } });
  assert.notEqual(functionDigests('s', ok)!.fn, undefined);
});
