/**
 * Fingerprints of user functions, captured values included. `fn.toString()` alone misses what a
 * function closes over: with `const MIN = Number(process.env.MIN)` and `(d) => d.text.length >=
 * MIN`, MIN=5 and MIN=40 give the same source text, and a rerun reported stale output as fresh.
 *
 * For each user function: its free variables come from parsing its source (`free-variables.ts`);
 * their values come from the function's own closure, read in-process through the V8 inspector
 * (`Runtime.getProperties` on the function exposes its `[[Scopes]]`: the closure, block, module
 * and script scopes with the live bindings, imports included). So the fingerprint hashes the value
 * the function will actually see, whether it was written inline, computed from the environment,
 * passed as an argument to a factory or imported from a local module.
 *
 * What a captured value contributes (see docs/concepts.md, "Fingerprints"):
 * - JSON data (numbers, including NaN/±Infinity, strings, booleans, null, undefined, plain objects
 *   and arrays), RegExp, Date, bigint, typed arrays, and Map/Set of such data: its canonical value;
 * - a function defined in user code (not under node_modules, not Node's, not Sluice's own): its
 *   source and, recursively, its captures; functions inside plain objects likewise;
 * - a function from a package or Sluice: its source text; a Node built-in or native function: its
 *   name. Global built-ins (`Math`, `JSON`, `Number`, …) contribute nothing;
 * - `process.env.NAME` read inside the function: that variable's value; a module namespace
 *   (`import * as ns`): the members the function reads.
 * Anything else (a class instance, a stream, a Proxy, a getter, a cycle, a Map holding a function,
 * a dynamic `process.env[key]`) is refused with a `CaptureError` naming the variable and the fix.
 *
 * Cost (measured, Node 20, on the project's shared 2-core machine under load average 10–14):
 * importing acorn and connecting the session 12–60 ms, once per process and only for pipelines
 * with user functions; 3–5 ms per function with a few captures. A captured function defined in
 * another file, unless it is an export of a common Node built-in (recognised by identity), is
 * classified by its script's URL, which only `Debugger.enable` gives: ≈100 ms once per process on
 * a quiet core with all of Sluice loaded (≈800 scripts), ≈400 ms under that load.
 *
 * Alternatives weighed: an explicit `params` object alone (supported too, see `operator.ts`) is
 * exact but leaves every existing closure silently stale; hashing the pipeline's module graph plus
 * the environment variables it reads re-runs every stage on any edit of the file, and misses a
 * value computed from anything else (a file read at load, a clock).
 */
import { Session } from 'node:inspector';
import { types } from 'node:util';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { canonicalJson, sha256 } from './runtime.ts';
import { freeVariables } from './free-variables.ts';
import type { Json, OperatorSpec } from './types.ts';
import { stageSpecs, type Pipeline } from './pipeline.ts';
import { DIST_ROOT, PACKAGE_ROOT, TEST_BUILD_ROOT } from './modules/package-root.ts';

/** A captured value that cannot be part of a fingerprint. `chain` is the variable path from the user function. */
export class CaptureError extends Error {
  constructor(
    readonly chain: string[],
    readonly what: string,
    /** A fix more specific than the general one (pass it through params, or make it JSON). */
    readonly fix?: string,
  ) {
    super(`captures '${chain.join("' → '")}' (${what})`);
    this.name = 'CaptureError';
  }
}

interface Remote {
  type: string;
  subtype?: string;
  className?: string;
  value?: unknown;
  unserializableValue?: string;
  description?: string;
  objectId?: string;
}
interface PropertyDescriptor {
  name: string;
  value?: Remote;
}

const GROUP = 'sluice-captures';
const OUT = Symbol.for('sluice.captures.out');
const ROOT = PACKAGE_ROOT.replace(/[\\/]$/, '');
const OWN_DIRS = ['engine', 'operators', 'evals', 'trainer', 'datasets', 'audit', 'plan', 'cli', 'formats'];
/**
 * Sluice's own folders: functions from there are library code, not the user's. The compiled
 * dist/ counts whole: its modules are bundled into `dist/chunks/` and the entry files. In npm
 * test's compiled copy (dist-test/) the same folders count, not its tests.
 */
const LIBRARY_DIRS = [...OWN_DIRS.map((d) => ROOT + sep + d + sep), ...OWN_DIRS.map((d) => TEST_BUILD_ROOT + sep + d + sep), DIST_ROOT + sep];

/** ECMAScript and Node/Web globals: referenced by name, they contribute nothing to a fingerprint. */
const BUILTIN_GLOBALS = new Set([
  ...'globalThis Infinity NaN undefined eval isFinite isNaN parseFloat parseInt decodeURI decodeURIComponent encodeURI encodeURIComponent escape unescape'.split(' '),
  ...'Object Function Array Number Boolean String Symbol BigInt Date RegExp Error AggregateError EvalError RangeError ReferenceError SyntaxError TypeError URIError Promise Proxy Reflect Math JSON Intl Atomics WeakMap WeakSet WeakRef FinalizationRegistry Map Set ArrayBuffer SharedArrayBuffer DataView Iterator'.split(' '),
  ...'Int8Array Uint8Array Uint8ClampedArray Int16Array Uint16Array Int32Array Uint32Array Float32Array Float64Array BigInt64Array BigUint64Array WebAssembly'.split(' '),
  ...'global process Buffer console URL URLSearchParams TextEncoder TextDecoder AbortController AbortSignal Blob File atob btoa crypto fetch Headers Request Response FormData performance queueMicrotask structuredClone setTimeout setInterval setImmediate clearTimeout clearInterval clearImmediate EventTarget Event MessageChannel MessagePort BroadcastChannel DOMException navigator ReadableStream WritableStream TransformStream CompressionStream DecompressionStream'.split(' '),
]);

let session: Session | undefined;
let scriptUrls: Map<string, string> | undefined;
/** Scripts known to hold user code: those of the functions handed to operators. */
const userScripts = new Set<string>();
/** Per `functionDigest` call: digests of the functions met so far, and those being encoded (recursion). */
let memo = new Map<Function, Json>();
let inProgress = new Set<Function>();

/** One inspector command, answered synchronously (an in-process session dispatches synchronously). */
function post<T>(method: string, params?: object): T {
  if (!session) {
    session = new Session();
    session.connect();
  }
  let out: T | undefined;
  let err: Error | null = null;
  let done = false;
  session.post(method, params ?? {}, (e, r) => {
    err = e;
    out = r as T;
    done = true;
  });
  if (!done) throw new Error(`inspector: ${method} did not answer synchronously`);
  if (err) throw new Error(`inspector: ${method}: ${(err as Error).message}`);
  return out as T;
}

/** The inspector handle of a live value. */
function remoteOf(value: unknown): Remote {
  (globalThis as Record<symbol, unknown>)[OUT] = value;
  try {
    return post<{ result: Remote }>('Runtime.evaluate', { expression: `globalThis[Symbol.for('sluice.captures.out')]`, objectGroup: GROUP }).result;
  } finally {
    delete (globalThis as Record<symbol, unknown>)[OUT];
  }
}

/** The live value behind an inspector handle. */
function valueOf(anchor: string, r: Remote): unknown {
  const arg = r.objectId ? { objectId: r.objectId } : r.unserializableValue !== undefined ? { unserializableValue: r.unserializableValue } : r.type === 'undefined' ? {} : { value: r.value };
  post('Runtime.callFunctionOn', { objectId: anchor, functionDeclaration: `function (v) { globalThis[Symbol.for('sluice.captures.out')] = v; }`, arguments: [arg], objectGroup: GROUP });
  const v = (globalThis as Record<symbol, unknown>)[OUT];
  delete (globalThis as Record<symbol, unknown>)[OUT];
  return v;
}

function properties(objectId: string): { result: PropertyDescriptor[]; internalProperties?: PropertyDescriptor[] } {
  return post('Runtime.getProperties', { objectId, ownProperties: true, objectGroup: GROUP });
}

/** The URL of a script (`node:…`, `file:///…`), through one `Debugger.enable` per process. */
function scriptUrl(scriptId: string): string {
  if (!scriptUrls) {
    const urls = new Map<string, string>();
    const s = session!;
    const onParsed = (m: { params: { scriptId: string; url: string } }) => urls.set(m.params.scriptId, m.params.url);
    s.on('Debugger.scriptParsed', onParsed);
    try {
      post('Debugger.enable');
      post('Debugger.disable');
    } finally {
      s.off('Debugger.scriptParsed', onParsed);
    }
    scriptUrls = urls;
  }
  return scriptUrls.get(scriptId) ?? '';
}

/**
 * Node built-in modules a pipeline commonly imports from (Sluice loads them all already). Their
 * exports objects and exported functions are recognised by identity, which spares the
 * `Debugger.enable` that a script URL costs.
 */
const COMMON_BUILTINS = ['assert', 'buffer', 'child_process', 'crypto', 'events', 'fs', 'fs/promises', 'os', 'path', 'querystring', 'readline', 'stream', 'stream/promises', 'string_decoder', 'timers/promises', 'url', 'util', 'zlib'];
let builtins: Map<unknown, string> | undefined;

/** `node:<module>` when `v` is the exports object, or an exported function, of a common built-in module. */
function builtinName(v: unknown): string | undefined {
  if (!builtins) {
    builtins = new Map();
    const require = createRequire(import.meta.url);
    for (const m of COMMON_BUILTINS) {
      const exports = require(`node:${m}`) as Record<string, unknown>;
      builtins.set(exports, `node:${m}`);
      for (const k of Object.keys(exports)) {
        const d = Object.getOwnPropertyDescriptor(exports, k);
        if (typeof d?.value === 'function' && !builtins.has(d.value)) builtins.set(d.value, `node:${m}`);
      }
    }
  }
  return builtins.get(v);
}

type Origin = { kind: 'user' } | { kind: 'node' } | { kind: 'library' };

function originOf(scriptId: string): Origin {
  if (userScripts.has(scriptId)) return { kind: 'user' };
  const url = scriptUrl(scriptId);
  if (url.startsWith('node:')) return { kind: 'node' };
  let path = url;
  if (url.startsWith('file:')) {
    try {
      path = fileURLToPath(url.replace(/\?.*$/, ''));
    } catch {
      path = url;
    }
  }
  if (path.includes(`${sep}node_modules${sep}`) || path === ROOT + sep + 'index.ts' || path === TEST_BUILD_ROOT + sep + 'index.js' || LIBRARY_DIRS.some((d) => path.startsWith(d))) return { kind: 'library' };
  // Anything else is the user's, including code without a URL (`new Function`, `eval`).
  userScripts.add(scriptId);
  return { kind: 'user' };
}

function describe(v: unknown): string {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return typeof v;
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor ? `an instance of ${ctor}` : 'an object with a custom prototype';
}

/** Canonical, hashable form of a captured value; a `CaptureError` for anything else. */
function encodeValue(v: unknown, chain: string[], stack: Set<object>, inCollection = false): Json {
  switch (typeof v) {
    case 'undefined':
      return { $: 'undefined' };
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? v : { $: 'number', v: Object.is(v, -0) ? '-0' : String(v) };
    case 'bigint':
      return { $: 'bigint', v: String(v) };
    case 'symbol':
      return { $: 'symbol', v: Symbol.keyFor(v) ?? v.description ?? null };
    case 'function':
      if (inCollection) throw new CaptureError(chain, 'a function inside a Map or Set');
      return encodeFunction(v, chain);
    case 'object':
      break;
    default:
      throw new CaptureError(chain, typeof v);
  }
  if (v === null) return null;
  if (types.isProxy(v)) throw new CaptureError(chain, 'a Proxy');
  if (stack.has(v)) throw new CaptureError(chain, 'a value that contains itself');
  stack.add(v);
  try {
    if (Array.isArray(v)) return Array.from(v, (x, i) => encodeValue(x, [...chain.slice(0, -1), `${chain.at(-1)}[${i}]`], stack, inCollection));
    if (types.isRegExp(v)) return { $: 'regexp', source: (v as RegExp).source, flags: (v as RegExp).flags };
    if (types.isDate(v)) return { $: 'date', v: Number.isNaN((v as Date).getTime()) ? 'Invalid Date' : (v as Date).toISOString() };
    if (types.isMap(v)) return { $: 'map', entries: [...(v as Map<unknown, unknown>)].map(([k, x]) => [encodeValue(k, chain, stack, true), encodeValue(x, chain, stack, true)]) };
    if (types.isSet(v)) return { $: 'set', values: [...(v as Set<unknown>)].map((x) => encodeValue(x, chain, stack, true)) };
    if (ArrayBuffer.isView(v)) return { $: 'bytes', type: v.constructor.name, sha256: sha256(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    if (types.isModuleNamespaceObject(v)) {
      const out: Record<string, Json> = {};
      for (const k of Object.keys(v)) out[k] = encodeValue((v as Record<string, unknown>)[k], [...chain, k], stack, inCollection);
      return { $: 'module', members: out };
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto !== Object.prototype && proto !== null) throw new CaptureError(chain, describe(v));
    const out: Record<string, Json> = {};
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(v))) {
      if (!d.enumerable) continue;
      if (d.get || d.set) throw new CaptureError([...chain, k], 'a getter or setter, which may compute anything');
      out[k] = encodeValue(d.value, [...chain, k], stack, inCollection);
    }
    return out;
  } finally {
    stack.delete(v);
  }
}

/** The captured variables of a user function, by name, as the function sees them. */
function capturedScope(fn: Function): { scriptId: string | null; bound?: { target: Function; self: unknown; args: unknown[] }; lookup(name: string): { found: true; value: unknown } | { found: false } } {
  const remote = remoteOf(fn);
  const { internalProperties = [] } = properties(remote.objectId!);
  const internal = new Map(internalProperties.map((p) => [p.name, p.value]));
  const loc = internal.get('[[FunctionLocation]]')?.value as { scriptId?: string } | undefined;
  const target = internal.get('[[TargetFunction]]');
  if (target) {
    const args = internal.get('[[BoundArgs]]');
    return {
      scriptId: null,
      bound: { target: valueOf(remote.objectId!, target) as Function, self: valueOf(remote.objectId!, internal.get('[[BoundThis]]')!), args: args ? (valueOf(remote.objectId!, args) as unknown[]) : [] },
      lookup: () => ({ found: false }),
    };
  }
  const scopeList = internal.get('[[Scopes]]');
  const scopes: Array<() => Map<string, Remote>> = [];
  if (scopeList?.objectId) {
    for (const s of properties(scopeList.objectId).result) {
      if (!s.value?.objectId || s.value.description === 'Global') continue;
      let vars: Map<string, Remote> | undefined;
      const id = s.value.objectId;
      scopes.push(() => (vars ??= new Map(properties(id).result.filter((p) => p.value).map((p) => [p.name, p.value!]))));
    }
  }
  return {
    scriptId: loc?.scriptId ?? null,
    lookup(name) {
      for (const vars of scopes) {
        const r = vars().get(name);
        if (r) return { found: true, value: valueOf(remote.objectId!, r) };
      }
      return { found: false };
    },
  };
}

/** The canonical form of a function: its source and captures for user code, an identity otherwise. */
function encodeFunction(fn: Function, chain: string[], user = false): Json {
  const hit = memo.get(fn);
  if (hit !== undefined) return hit;
  const source = Function.prototype.toString.call(fn);
  if (inProgress.has(fn)) return { $: 'recursive', sha256: sha256(source) };
  inProgress.add(fn);
  try {
    const builtin = user ? undefined : builtinName(fn);
    if (builtin) {
      const digest: Json = { $: 'fn', sha256: sha256(canonicalJson({ $: 'node', module: builtin, name: fn.name })) };
      memo.set(fn, digest);
      return digest;
    }
    const scope = capturedScope(fn);
    let form: Json;
    if (scope.bound) {
      form = { $: 'bound', target: encodeFunction(scope.bound.target, chain), this: encodeValue(scope.bound.self, [...chain, '(bound this)'], new Set()), args: scope.bound.args.map((a, i) => encodeValue(a, [...chain, `(bound argument ${i + 1})`], new Set())) };
    } else if (scope.scriptId === null || /\{\s*\[native code\]\s*\}$/.test(source)) {
      form = { $: 'native', name: fn.name };
    } else {
      if (user) userScripts.add(scope.scriptId);
      const origin = user ? ({ kind: 'user' } as const) : originOf(scope.scriptId);
      switch (origin.kind) {
        case 'node':
          form = { $: 'node', name: fn.name };
          break;
        case 'library':
          form = { $: 'library', sha256: sha256(source) };
          break;
        case 'user':
          form = { $: 'function', source, captures: captures(source, scope.lookup, chain) };
          break;
        default: {
          const never: never = origin;
          throw new Error(`unknown origin ${JSON.stringify(never)}`);
        }
      }
    }
    const digest: Json = { $: 'fn', sha256: sha256(canonicalJson(form)) };
    memo.set(fn, digest);
    return digest;
  } finally {
    inProgress.delete(fn);
  }
}

function captures(source: string, lookup: (name: string) => { found: true; value: unknown } | { found: false }, chain: string[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const { name, paths } of freeVariables(source)) {
    const at = chain.length ? [...chain, name] : [name];
    const local = lookup(name);
    if (local.found && local.value !== process) {
      const v = local.value;
      if ((types.isModuleNamespaceObject(v) || (builtinName(v) !== undefined && typeof v === 'object')) && paths.every((p) => p.length > 0)) {
        const members: Record<string, Json> = {};
        for (const k of new Set(paths.map((p) => p[0]!))) members[k] = encodeValue((v as Record<string, unknown>)[k], [...at, k], new Set());
        out[name] = { $: 'members', members };
      } else out[name] = encodeValue(v, at, new Set());
      continue;
    }
    if (local.found || name === 'process') {
      // The process object (the global, or `import process from 'node:process'`): only its
      // environment is data a function's output may depend on.
      const env: Record<string, Json> = {};
      for (const p of paths) {
        if (p.length === 0) throw new CaptureError(at, 'the process object as a whole, which holds the environment', 'read what the function needs from it outside the function and pass it through params');
        if (p[0] !== 'env') continue;
        if (p.length < 2) throw new CaptureError([...at, 'env'], 'the whole environment, or a variable chosen at run time', 'read the variable outside the function and pass its value through params');
        env[p[1]!] = process.env[p[1]!] ?? { $: 'undefined' };
      }
      if (Object.keys(env).length) out[name] = { $: 'env', env };
      continue;
    }
    if (BUILTIN_GLOBALS.has(name)) continue;
    if (name in globalThis) out[name] = { $: 'global', value: encodeValue((globalThis as Record<string, unknown>)[name], at, new Set()) };
    else out[name] = { $: 'unbound' };
  }
  return out;
}

/**
 * The digest of a user function (its source plus the canonical form of every value it captures,
 * recursively). Throws a `CaptureError` naming the variable when a captured value cannot be hashed.
 */
export function functionDigest(fn: Function): string {
  memo = new Map();
  inProgress = new Set();
  try {
    const form = encodeFunction(fn, [], true);
    return (form as { sha256: string }).sha256;
  } finally {
    try {
      post('Runtime.releaseObjectGroup', { objectGroup: GROUP });
    } catch {
      // The session may be unusable after an inspector error; the next call reconnects.
      session?.disconnect();
      session = undefined;
    }
  }
}

const cache = new WeakMap<OperatorSpec, Record<string, string>>();

function label(spec: OperatorSpec): string {
  return `${spec.type}('${spec.name}')`;
}

/**
 * The digests of a spec's user functions (`spec.functions`), computed once per spec. Throws an
 * error naming the stage, the operator, the function, the captured variable and the fix when a
 * captured value cannot be part of the fingerprint.
 */
export function functionDigests(stage: string, spec: OperatorSpec): Record<string, string> | undefined {
  if (!spec.functions) return undefined;
  let out = cache.get(spec);
  if (out) return out;
  out = {};
  for (const [key, fn] of Object.entries(spec.functions)) {
    const which = key === 'fn' ? 'the function' : `its function '${key}'`;
    if (typeof fn !== 'function') throw new Error(`stage '${stage}', ${label(spec)}: ${which} is not a function (got ${typeof fn})`);
    try {
      out[key] = functionDigest(fn);
    } catch (e) {
      if (!(e instanceof CaptureError)) throw new Error(`stage '${stage}', ${label(spec)}: cannot fingerprint ${which}: ${(e as Error).message}`, { cause: e });
      const variable = e.chain.join("' → '");
      const fix = e.fix ?? `pass the values ${which} depends on through params (JSON: e.g. ${spec.type === 'map' || spec.type === 'filter.where' ? `${spec.type}('${spec.name}', fn, { params: { … } })` : `filter.where(name, fn, { params: { … } })`}, which fn receives as its third argument), or make '${e.chain[0]}' a JSON value`;
      throw new Error(`stage '${stage}', ${label(spec)}: ${which} captures '${variable}' (${e.what}), which cannot be part of the stage fingerprint, so a change to it would not re-run the stage. Fix: ${fix}.`, { cause: e });
    }
  }
  cache.set(spec, out);
  return out;
}

/** Computes every user function's digest of a pipeline, so a capture that cannot be hashed fails at load. */
export function checkCaptures(p: Pipeline): void {
  for (const stage of p.stages) for (const spec of stageSpecs(stage)) functionDigests(stage.name, spec);
}
