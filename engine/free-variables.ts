/**
 * The free variables of a function's source text: the names it reads from the scopes around it
 * (module constants, closure variables, imports, globals). Parsed with acorn and resolved with a
 * scope analysis of our own (block scopes for `let`/`const`/`class`, function scopes for `var`,
 * parameters, catch clauses, `for` heads, class names), so a name that is declared anywhere inside
 * the function is not free. The fingerprint resolves each free name to the value it is bound to.
 *
 * For each free name we also note how it is used: as a whole, or only through static member reads
 * (`process.env.MIN`, `ns.helper`), so a module namespace or `process.env` contributes only the
 * members actually read.
 */
import { parse, type Node } from 'acorn';

/** How a free name is used: the static member paths read from it; `[]` among them means "as a whole". */
export interface FreeVariable {
  name: string;
  paths: string[][];
}

interface Scope {
  parent: Scope | null;
  /** A function (or static block) scope: where `var` declarations land. */
  fn: boolean;
  names: Set<string>;
}

type AnyNode = Node & Record<string, unknown>;

const SKIP_KEYS = new Set(['type', 'start', 'end', 'loc', 'range']);

function isNode(x: unknown): x is AnyNode {
  return typeof x === 'object' && x !== null && typeof (x as { type?: unknown }).type === 'string';
}

/**
 * Parses a function's `toString()` text. Arrow functions, function and class expressions parse
 * in parentheses; methods (`name() {}`, `get x() {}`, `async *gen() {}`) parse inside an object
 * literal, and class-only forms (`static m() {}`, `#private() {}`) inside a class body. Throws
 * when the text is none of these.
 */
export function parseFunctionSource(source: string): AnyNode {
  const attempts = [`(${source}\n)`, `({${source}\n})`, `(class {${source}\n})`];
  let first: unknown;
  for (const text of attempts) {
    for (const sourceType of ['module', 'script'] as const) {
      try {
        const tree: unknown = parse(text, { ecmaVersion: 'latest', sourceType });
        if (isNode(tree)) return tree;
      } catch (e) {
        first ??= e;
      }
    }
  }
  throw new Error(`cannot parse the function's source text: ${(first as Error).message}`);
}

/** The free variables of a function's source text, sorted by name. */
export function freeVariables(source: string): FreeVariable[] {
  const program = parseFunctionSource(source);
  const refs: Array<{ name: string; scope: Scope; path: string[] }> = [];
  const newScope = (parent: Scope | null, fn: boolean): Scope => ({ parent, fn, names: new Set() });
  const varScope = (s: Scope): Scope => {
    let cur = s;
    while (!cur.fn && cur.parent) cur = cur.parent;
    return cur;
  };

  const declarePattern = (p: AnyNode, target: Scope, scope: Scope): void => {
    switch (p.type) {
      case 'Identifier':
        target.names.add(p.name as string);
        return;
      case 'ObjectPattern':
        for (const prop of p.properties as AnyNode[]) {
          if (prop.type === 'RestElement') declarePattern(prop.argument as AnyNode, target, scope);
          else {
            if (prop.computed) visit(prop.key as AnyNode, scope);
            declarePattern(prop.value as AnyNode, target, scope);
          }
        }
        return;
      case 'ArrayPattern':
        for (const el of p.elements as Array<AnyNode | null>) if (el) declarePattern(el, target, scope);
        return;
      case 'RestElement':
        declarePattern(p.argument as AnyNode, target, scope);
        return;
      case 'AssignmentPattern':
        declarePattern(p.left as AnyNode, target, scope);
        visit(p.right as AnyNode, scope);
        return;
      default:
        // A member expression as an assignment target (`for (a.b of xs)`): a reference.
        visit(p, scope);
    }
  };

  const visitFunction = (fn: AnyNode, scope: Scope): void => {
    const inner = newScope(scope, true);
    if (fn.type === 'FunctionExpression' && fn.id) inner.names.add((fn.id as AnyNode).name as string);
    if (fn.type !== 'ArrowFunctionExpression') inner.names.add('arguments');
    for (const p of fn.params as AnyNode[]) declarePattern(p, inner, inner);
    const body = fn.body as AnyNode;
    if (body.type === 'BlockStatement') for (const s of body.body as AnyNode[]) visit(s, inner);
    else visit(body, inner);
  };

  const visitClass = (cls: AnyNode, scope: Scope): void => {
    if (cls.superClass) visit(cls.superClass as AnyNode, scope);
    const inner = newScope(scope, false);
    if (cls.id) inner.names.add((cls.id as AnyNode).name as string);
    for (const member of (cls.body as AnyNode).body as AnyNode[]) {
      if (member.type === 'StaticBlock') {
        const block = newScope(inner, true);
        for (const s of member.body as AnyNode[]) visit(s, block);
        continue;
      }
      if (member.computed) visit(member.key as AnyNode, inner);
      if (member.value) visit(member.value as AnyNode, inner);
    }
  };

  /** A member chain `root.a.b[c]…` rooted at an identifier: the identifier and its leading static path. */
  const visitMember = (node: AnyNode, scope: Scope): void => {
    const chain: AnyNode[] = [];
    let cur: AnyNode = node;
    while (cur.type === 'MemberExpression' || cur.type === 'ChainExpression') {
      if (cur.type === 'ChainExpression') {
        cur = cur.expression as AnyNode;
        continue;
      }
      chain.unshift(cur);
      cur = cur.object as AnyNode;
    }
    const path: string[] = [];
    let dynamic = false;
    for (const m of chain) {
      const prop = m.property as AnyNode;
      const key = !m.computed ? (prop.type === 'Identifier' ? (prop.name as string) : null) : prop.type === 'Literal' && typeof prop.value === 'string' ? prop.value : null;
      if (key === null || dynamic) dynamic = true;
      else path.push(key);
      if (m.computed) visit(prop, scope);
    }
    if (cur.type === 'Identifier') refs.push({ name: cur.name as string, scope, path });
    else visit(cur, scope);
  };

  const visit = (node: AnyNode, scope: Scope): void => {
    switch (node.type) {
      case 'Identifier':
        refs.push({ name: node.name as string, scope, path: [] });
        return;
      case 'MemberExpression':
        visitMember(node, scope);
        return;
      case 'FunctionDeclaration':
        if (node.id) scope.names.add((node.id as AnyNode).name as string);
        visitFunction(node, scope);
        return;
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        visitFunction(node, scope);
        return;
      case 'ClassDeclaration':
        if (node.id) scope.names.add((node.id as AnyNode).name as string);
        visitClass(node, scope);
        return;
      case 'ClassExpression':
        visitClass(node, scope);
        return;
      case 'VariableDeclaration': {
        const target = node.kind === 'var' ? varScope(scope) : scope;
        for (const d of node.declarations as AnyNode[]) {
          declarePattern(d.id as AnyNode, target, scope);
          if (d.init) visit(d.init as AnyNode, scope);
        }
        return;
      }
      case 'BlockStatement': {
        const inner = newScope(scope, false);
        for (const s of node.body as AnyNode[]) visit(s, inner);
        return;
      }
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'SwitchStatement': {
        const inner = newScope(scope, false);
        if (node.type === 'SwitchStatement') visit(node.discriminant as AnyNode, scope);
        for (const key of ['init', 'left', 'right', 'test', 'update', 'cases', 'body']) visitChild(node[key], inner);
        return;
      }
      case 'CatchClause': {
        const inner = newScope(scope, false);
        if (node.param) declarePattern(node.param as AnyNode, inner, inner);
        for (const s of (node.body as AnyNode).body as AnyNode[]) visit(s, inner);
        return;
      }
      case 'Property':
        if (node.computed) visit(node.key as AnyNode, scope);
        visit(node.value as AnyNode, scope);
        return;
      case 'MethodDefinition':
      case 'PropertyDefinition':
        if (node.computed) visit(node.key as AnyNode, scope);
        if (node.value) visit(node.value as AnyNode, scope);
        return;
      case 'LabeledStatement':
        visit(node.body as AnyNode, scope);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'MetaProperty':
      case 'PrivateIdentifier':
      case 'ThisExpression':
      case 'Super':
      case 'Literal':
        return;
      default:
        for (const key of Object.keys(node)) if (!SKIP_KEYS.has(key)) visitChild(node[key], scope);
    }
  };
  const visitChild = (child: unknown, scope: Scope): void => {
    if (Array.isArray(child)) {
      for (const c of child) if (isNode(c)) visit(c, scope);
    } else if (isNode(child)) visit(child, scope);
  };

  visit(program, newScope(null, true));

  const free = new Map<string, string[][]>();
  for (const r of refs) {
    let s: Scope | null = r.scope;
    while (s && !s.names.has(r.name)) s = s.parent;
    if (s) continue;
    const paths = free.get(r.name) ?? [];
    if (!paths.some((p) => p.length === r.path.length && p.every((x, i) => x === r.path[i]))) paths.push(r.path);
    free.set(r.name, paths);
  }
  return [...free.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, paths]) => ({ name, paths }));
}
