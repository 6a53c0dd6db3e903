/**
 * Jinja, as `transformers`' `apply_chat_template` configures Jinja2, on top of
 * `@huggingface/jinja` (the JS Jinja of transformers.js).
 *
 * Measured before use (test/operators/chat/template.test.ts, against /usr/bin/python3 + jinja2
 * 3.1 in an ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loopcontrols and
 * transformers' globals): on the conformance test's 472 cases (the 18 published templates of the
 * shared data, as published and in their collection's compact form, plus the 3 built-ins; system
 * prompt, multi-turn, generation prompt, non-ASCII, tools), @huggingface/jinja 0.5.13 as shipped
 * rendered 105 differently; with this layer, none. The differences came from three causes, fixed
 * here around the library rather than in a Jinja engine of our own:
 *
 * - Jinja2 normalises `\r\n` and `\r` in the template source to `\n`; the library keeps them
 *   (Qwen 2.5's published template has CRLF line ends: every rendering differed);
 * - `trim`, `.strip()`, `.lstrip()`, `.rstrip()` used JavaScript's whitespace (strips U+FEFF,
 *   keeps U+0085 and U+001C–U+001F), `capitalize` did not lower the rest, `title` was ASCII-only;
 * - values printed JavaScript-style: `{{ true }}` gave `true` (Python `True`), `{{ none }}`
 *   gave nothing (Python `None`), lists and dicts as JSON (Python's repr); string length and
 *   `s[i]` counted UTF-16 units (Python counts code points).
 *
 * The interpreter subclass below overrides those evaluations and delegates everything else.
 * Whitespace control is this project's too (whitespace.ts): the library's regex pre-pass also
 * trimmed inside string literals and comments and rejected `{%+`, `+%}` and `{% raw %}`; with
 * it, 600 seeded random templates mixing every marker render as Jinja2 does (tested).
 * Known differences left (rare in chat templates, each an error rather than a different
 * rendering except the last): `1e3` literals, one-element tuples `(1,)`, chained comparisons,
 * `%`/`format` string formatting, `str * n`, iterating a string, `loop.cycle`, `map`/`select` by
 * filter name, string methods such as `count`/`find`, the `e`/`round`/`wordcount` filters are
 * unsupported (test/operators/chat/template.test.ts lists them); numbers parsed from JSON carry no int/float
 * distinction (`1.0` in a tool schema renders `1`, Python `1.0`).
 */
import type * as JinjaModule from '@huggingface/jinja';
import type { Environment } from '@huggingface/jinja';
import { lazyPackage } from '../../engine/modules/lazy.ts';
import { applyJinjaWhitespace } from './whitespace.ts';
import { jinjaTitleFilter, pyCapitalize, pyIndex, pyLen, pyRepr, pyStr, pyStrftime, pyStrip, pyTitleMethod, type PyValue } from './python-text.ts';

/** The error `raise_exception(message)` throws: the template rejected its input. */
export class TemplateRaised extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateRaised';
  }
}

/** A runtime value of @huggingface/jinja (its classes are not exported; we read `type` and `value`). */
type RV = { type: string; value: unknown };
type Node = { type: string; [key: string]: unknown };
/** The interpreter's methods this module overrides or calls: private in its declarations, plain methods at run time. */
interface InterpreterInternals {
  global: Environment;
  run(program: unknown): RV;
  evaluate(node: Node | undefined, env: Environment): RV;
  applyFilter(operand: RV, filterNode: Node, env: Environment): RV;
  evaluateMemberExpression(expr: Node, env: Environment): RV;
  evaluateBinaryExpression(node: Node, env: Environment): RV;
  evaluateArguments(args: Node[], env: Environment): [RV[], Map<string, RV>];
  renderBlock(statements: Node[], env: Environment): string;
  renderIf(node: Node, env: Environment): string;
  renderFor(node: Node, env: Environment): string;
  executeSet(node: Node, env: Environment): void;
}
// Loaded on first use: every sluice process imports the API, few render templates (the package costs ~25 ms to import).
const jinjaPackage = lazyPackage<typeof JinjaModule>('@huggingface/jinja');

/** What a template render needs from the library, built once on first use. */
interface JinjaRuntime {
  Environment: typeof Environment;
  tokenize: typeof JinjaModule.tokenize;
  parse: typeof JinjaModule.parse;
  PythonInterpreter: new (env: Environment) => InterpreterInternals;
}
let runtime: JinjaRuntime | undefined;

function jinjaRuntime(): JinjaRuntime {
  if (runtime) return runtime;
  const { Environment, Interpreter, tokenize, parse } = jinjaPackage();
  const Base = Interpreter as new (env: Environment) => InterpreterInternals;

  // The runtime value classes, taken from values the library builds (it does not export them).
  const probe = new Environment();
  const ctor = (name: string, v: unknown) => probe.set(name, v).constructor as new (value: never) => RV;
  const StringValue = ctor('s', '');
  const IntegerValue = ctor('i', 1);
  const FunctionValue = ctor('fn', () => null);
  const UndefinedValue = ctor('u', undefined);

  const str = (s: string) => new StringValue(s as never);

  /** A runtime value as plain data for {@link pyStr}; functions and namespaces (which no chat template prints) as the library's own text. */
  function toPy(v: RV): PyValue {
    switch (v.type) {
      case 'StringValue': return v.value as string;
      case 'IntegerValue': return { int: v.value as number };
      case 'FloatValue': return { float: v.value as number };
      case 'BooleanValue': return v.value as boolean;
      case 'NullValue': return null;
      case 'UndefinedValue': return undefined;
      case 'ArrayValue':
      case 'TupleValue':
        return (v.value as RV[]).map(toPy);
      case 'ObjectValue':
      case 'KeywordArgumentsValue':
        return new Map([...(v.value as Map<string, RV>)].map(([k, x]) => [k, toPy(x)]));
      default:
        return String(v);
    }
  }

  /** How Jinja2 prints a value: Python's `str`, strings as they are, undefined as nothing. */
  function printValue(v: RV): string {
    if (v.type === 'TupleValue') {
      const items = (v.value as RV[]).map((x) => pyRepr(toPy(x)));
      return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    }
    return pyStr(toPy(v));
  }

  const STRING_METHODS = new Set(['strip', 'lstrip', 'rstrip', 'capitalize', 'title']);
  /** A node that evaluates to a value already computed: lets an override hand the library an evaluated operand without evaluating it twice. */
  const PRE = 'SluicePrecomputed';

  class PythonInterpreter extends Base {
    override evaluate(node: Node | undefined, env: Environment): RV {
      if (node?.type === PRE) return node.value as RV;
      return super.evaluate(node, env);
    }

    override renderBlock(statements: Node[], env: Environment): string {
      let out = '';
      for (const s of statements) {
        switch (s.type) {
          case 'StringLiteral': out += s.value as string; break;
          case 'If': out += this.renderIf(s, env); break;
          case 'For': out += this.renderFor(s, env); break;
          case 'Set': this.executeSet(s, env); break;
          case 'Comment': break;
          case 'Macro': this.evaluate(s, env); break;
          default: out += printValue(this.evaluate(s, env));
        }
      }
      return out;
    }

    override evaluateMemberExpression(expr: Node, env: Environment): RV {
      const object = this.evaluate(expr.object as Node, env);
      const property = expr.property as Node;
      if (object.type === 'StringValue') {
        const s = object.value as string;
        if (!expr.computed && property.type === 'Identifier' && STRING_METHODS.has(property.value as string)) {
          const name = property.value as string;
          return new FunctionValue(((args: RV[]) => {
            const chars = args[0] && args[0].type !== 'NullValue' ? String(args[0].value) : null;
            switch (name) {
              case 'strip': return str(pyStrip(s, chars));
              case 'lstrip': return str(pyStrip(s, chars, 'left'));
              case 'rstrip': return str(pyStrip(s, chars, 'right'));
              case 'capitalize': return str(pyCapitalize(s));
              default: return str(pyTitleMethod(s));
            }
          }) as never);
        }
        if (expr.computed && property.type !== 'SliceExpression') {
          const key = this.evaluate(property, env);
          if (key.type === 'IntegerValue') {
            const c = pyIndex(s, key.value as number);
            return c === undefined ? new UndefinedValue(undefined as never) : str(c);
          }
        }
      }
      return super.evaluateMemberExpression({ ...expr, object: { type: PRE, value: object } }, env);
    }

    override applyFilter(operand: RV, filterNode: Node, env: Environment): RV {
      const isCall = filterNode.type === 'CallExpression';
      const name = (isCall ? (filterNode.callee as Node).value : filterNode.value) as string;
      if (operand.type === 'StringValue') {
        const s = operand.value as string;
        switch (name) {
          case 'trim': {
            const chars = isCall ? this.evaluateArguments(filterNode.args as Node[], env)[0][0] : undefined;
            return str(pyStrip(s, chars && chars.type !== 'NullValue' ? String(chars.value) : null));
          }
          case 'capitalize': return str(pyCapitalize(s));
          case 'title': return str(jinjaTitleFilter(s));
          case 'length':
          case 'count': return new IntegerValue(pyLen(s) as never);
        }
      }
      if (name === 'string' && !isCall) return str(printValue(operand));
      return super.applyFilter(operand, filterNode, env);
    }

    override evaluateBinaryExpression(node: Node, env: Environment): RV {
      if ((node.operator as Node).value === '~') {
        return str(printValue(this.evaluate(node.left as Node, env)) + printValue(this.evaluate(node.right as Node, env)));
      }
      return super.evaluateBinaryExpression(node, env);
    }
  }

  runtime = { Environment, tokenize, parse, PythonInterpreter };
  return runtime;
}

/** Python's `range(stop)` / `range(start, stop[, step])`. */
function pyRange(...args: number[]): number[] {
  const [start, stop, step] = args.length === 1 ? [0, args[0]!, 1] : [args[0]!, args[1]!, args[2] ?? 1];
  if (step === 0) throw new Error('range() arg 3 must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/** The globals transformers gives every chat template (plus the constants the library sets up). */
function globalEnv(Env: typeof Environment): Environment {
  const env = new Env();
  for (const [k, v] of [['true', true], ['false', false], ['none', null], ['True', true], ['False', false], ['None', null]] as const) env.set(k, v);
  env.set('range', pyRange);
  env.set('raise_exception', (message: unknown) => {
    throw new TemplateRaised(String(message));
  });
  env.set('strftime_now', (format: unknown) => pyStrftime(new Date(), String(format)));
  return env;
}

/** A parsed template; `render` may be called many times. */
export interface CompiledJinja {
  render(context: Record<string, unknown>): string;
}

/**
 * Parses a Jinja template as transformers does (trim_blocks, lstrip_blocks, loopcontrols, the
 * `{% generation %}` tag; newlines normalised, one trailing newline removed). A syntax error is
 * thrown here, with the library's message.
 */
export function compileJinja(source: string): CompiledJinja {
  const { Environment, tokenize, parse, PythonInterpreter } = jinjaRuntime();
  // Whitespace control is ours (whitespace.ts); the library's lexer gets its options off.
  const program = parse(tokenize(applyJinjaWhitespace(source.replace(/\r\n?/g, '\n')), {}));
  return {
    render(context) {
      const env = new Environment(globalEnv(Environment));
      for (const [k, v] of Object.entries(context)) env.set(k, v);
      return new PythonInterpreter(env).run(program).value as string;
    },
  };
}
