/**
 * The weights of a `sluice.gpt/1` checkpoint, checked against its config, with the helpers both
 * export formats need: the expected parameters (trainer/tfjs/model.ts `parameterShapes`, the one
 * list both backends use), a transpose for `[in, out]` → `[out, in]`, and zeros for the biases
 * a `bias: false` model leaves out (a LayerNorm without shift and a linear layer without bias
 * are exactly those with a zero one, so formats whose layers always have biases still hold the
 * same function).
 */
import type { FullModelConfig } from '../../formats/model.ts';
import type { NamedArray } from '../checkpoint.ts';
import { parameterShapes } from '../tfjs/model.ts';

/** A checkpoint's tensors by canonical name, every one present with its expected shape. */
export class CheckpointWeights {
  constructor(
    readonly config: FullModelConfig,
    private readonly tensors: Map<string, NamedArray>,
    readonly source: string,
  ) {
    for (const [name, shape] of parameterShapes(config)) {
      const t = tensors.get(name);
      if (!t) throw new Error(`${source}: tensor ${name} is missing (the config says ${describe(config)})`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) throw new Error(`${source}: tensor ${name} has shape [${t.shape}], the config needs [${shape}]`);
    }
  }

  /** A tensor as stored (`[in, out]` for matrices). */
  get(name: string): NamedArray {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.source}: tensor ${name} is missing`);
    return t;
  }

  /** A bias or LayerNorm shift: the stored one, or zeros of `size` for a model without biases. */
  bias(name: string, size: number): NamedArray {
    return this.config.bias ? this.get(name) : { shape: [size], data: new Float32Array(size) };
  }

  /** A matrix `[in, out]` transposed to `[out, in]` (PyTorch `nn.Linear` and ggml row order). */
  transposed(name: string): NamedArray {
    return transpose(this.get(name));
  }
}

/** `[r, c]` → `[c, r]`, row-major. */
export function transpose(t: NamedArray): NamedArray {
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) {
    const row = i * c;
    for (let j = 0; j < c; j++) out[j * r + i] = t.data[row + j]!;
  }
  return { shape: [c, r], data: out };
}

function describe(c: FullModelConfig): string {
  return `${c.layers} layers, d ${c.dModel}, ${c.positions} positions, bias ${c.bias}, ${c.tiedHead ? 'tied' : 'separate'} head`;
}
