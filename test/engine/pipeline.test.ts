import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, read, map, filter } from '../../index.ts';
import { Runtime, canonicalJson } from '../../engine/runtime.ts';
import { tempProject } from '../helpers/cli.ts';
import type { StageExpansion, StageRef } from '../../engine/types.ts';

function project() {
  const dir = tempProject();
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'a.jsonl'), '{"text":"a"}\n');
  writeFileSync(join(dir, 'data', 'b.jsonl'), '{"text":"b"}\n');
  return dir;
}

test('declaration errors name the pipeline, stage and problem', () => {
  assert.throws(() => pipeline({ name: 'x y', workdir: 'w' }, () => {}), /'name' must be/);
  assert.throws(() => pipeline({ name: 'p', workdir: 'w' }, () => {}), /declares no stages/);
  assert.throws(
    () =>
      pipeline({ name: 'p', workdir: 'w' }, (p) => {
        p.stage('a', read.jsonl('x.jsonl'));
        p.stage('a', read.jsonl('y.jsonl'));
      }),
    /stage 'a' is declared twice/,
  );
  assert.throws(
    () =>
      pipeline({ name: 'p', workdir: 'w' }, (p) => {
        p.stage('a', {} as never);
      }),
    /stage 'a': input must be a source/,
  );
  assert.throws(
    () =>
      pipeline({ name: 'p', workdir: 'w' }, (p) => {
        const a = p.stage('a', read.jsonl('x.jsonl'));
        p.stage('b', a, [{ kind: 'nope' } as never]);
      }),
    /stage 'b': operator #1 is not an operator/,
  );
  assert.throws(
    () =>
      pipeline({ name: 'p', workdir: 'w' }, (p) => {
        const a = p.stage('a', read.jsonl('x.jsonl'));
        p.stage('b', a, [map('m', (d) => d), map('m', (d) => d)]);
      }),
    /two operators are named 'm'/,
  );
  assert.throws(
    () =>
      pipeline({ name: 'p', workdir: 'w' }, (p) => {
        p.stage('b', { kind: 'stage', name: 'a', pipeline: 'other' });
      }),
    /belongs to pipeline 'other'/,
  );
  assert.throws(() => read.jsonl('x.jsonl', { splitBytes: -1 }), /read\.jsonl: config key 'splitBytes'/);
  assert.throws(() => read.jsonl('x.jsonl', { nope: 1 } as never), /read\.jsonl: config key '\(root\)'.*nope/);
});

test('expansions declare their stages and return the final one', () => {
  const exp: StageExpansion = {
    kind: 'expansion',
    type: 'test.twoStep',
    name: 'test.twoStep',
    version: '1',
    config: {},
    expand(p, name, inputs) {
      const first = p.stage(`${name}.first`, inputs, [map('id', (d) => d)]);
      return p.stage(name, first, [filter.where('all', () => true)]);
    },
  };
  const pl = pipeline({ name: 'p', workdir: 'w' }, (p) => {
    const a = p.stage('a', read.jsonl('x.jsonl'));
    const b = p.stage('b', a, exp);
    assert.equal(b.name, 'b');
  });
  assert.deepEqual(
    pl.stages.map((s) => [s.name, s.upstream]),
    [
      ['a', []],
      ['b.first', ['a']],
      ['b', ['b.first']],
    ],
  );
});

test('an expansion that carries its inputs is a stage input by itself (train.dpo(pairs, …)); one without inputs is refused', () => {
  const exp = (inputs?: StageRef[]): StageExpansion & { inputs: StageRef[] } => ({
    kind: 'expansion',
    type: 'test.carried',
    name: 'test.carried',
    version: '1',
    config: {},
    ...(inputs ? { inputs } : {}),
    expand(p, name, ins) {
      const first = p.stage(`${name}.first`, ins, [map('id', (d) => d)]);
      return p.stage(name, first, [filter.where('all', () => true)]);
    },
  }) as StageExpansion & { inputs: StageRef[] };
  const pl = pipeline({ name: 'p', workdir: 'w' }, (p) => {
    const a = p.stage('a', read.jsonl('x.jsonl'));
    assert.equal(p.stage('b', exp([a])).name, 'b');
  });
  assert.deepEqual(pl.stages.map((s) => [s.name, s.upstream]), [['a', []], ['b.first', ['a']], ['b', ['b.first']]]);
  assert.throws(() => pipeline({ name: 'p', workdir: 'w' }, (p) => void p.stage('b', exp())), /stage 'b': test.carried is an expansion without inputs/);
  assert.throws(
    () =>
      pipeline({ name: 'p', workdir: 'w' }, (p) => {
        const a = p.stage('a', read.jsonl('x.jsonl'));
        p.stage('b', exp([a]), [map('id', (d) => d)] as never);
      }),
    /stage 'b': test.carried takes no operators/,
  );
});

test('fingerprints: stable, sensitive to config, code and inputs, and propagate downstream', async () => {
  const dir = project();
  const make = (threshold: number, variant = 0) =>
    pipeline({ name: 'p', workdir: join(dir, 'w') }, (p) => {
      const raw = p.stage('load', read.jsonl('data/*.jsonl'));
      const fn = variant === 0 ? (d: { text: string }) => d.text.length > threshold || { drop: 'short' } : (d: { text: string }) => d.text.length >= threshold || { drop: 'short' };
      const clean = p.stage('clean', raw, [filter.where('len', fn, { threshold })]);
      p.stage('tail', clean, [map('id', (d) => d)]);
    });
  const fps = async (pl: ReturnType<typeof make>) => {
    const rt = new Runtime(pl, join(dir, 'w'), dir);
    return Promise.all(['load', 'clean', 'tail'].map((s) => rt.fingerprint(s)));
  };
  const base = await fps(make(1));
  assert.deepEqual(await fps(make(1)), base, 'same pipeline, same fingerprints');
  const changed = await fps(make(2));
  assert.equal(changed[0], base[0], 'upstream unchanged');
  assert.notEqual(changed[1], base[1], 'config change changes the stage');
  assert.notEqual(changed[2], base[2], 'and everything downstream');
  const code = await fps(make(1, 1));
  assert.notEqual(code[1], base[1], 'function source is fingerprinted');
  writeFileSync(join(dir, 'data', 'c.jsonl'), '{"text":"c"}\n');
  const input = await fps(make(1));
  assert.notEqual(input[0], base[0], 'a new input file changes the source stage');
});

test('canonicalJson sorts keys at every depth', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
});
