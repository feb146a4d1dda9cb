import * as tf from '@tensorflow/tfjs';

/**
 * The training-mode forward pass of a model built by `buildModel` (a Sequential of Dense and Dropout layers), as
 * plain ops on the model's own variables instead of `model.apply`:
 *
 * - each Dense layer is one op with its own gradient: the forward is the backend's fused kernel (matmul + bias, and
 *   relu when the layer uses it); the backward multiplies by explicitly transposed operands. TF.js' built-in matmul
 *   gradient asks the kernel for a transposed product, which the wasm backend computes on a slow path (5-10× a plain
 *   product of the same size on this machine); a `transpose` plus a plain product gives the same sums in another
 *   order. The first layer's op leaves out the gradient of its input (the data), which nothing needs.
 * - activations other than relu/linear run as the layer's own activation op (same function, TF.js' gradient);
 * - Dropout is `tf.dropout` with the seed given for that batch, the same mask the layer would draw with that seed.
 *
 * The math is the layers' own (same kernel initial values, same ops, same masks): only the order of floating-point
 * sums in the matmul differs (tests/golden.test.ts keeps the weights within 1e-5 of `model.apply` training).
 * Returns `null` for any other model (then training uses `model.apply`).
 */
export type TrainingForward = (input: tf.Tensor2D, dropoutSeeds: readonly number[]) => tf.Tensor2D;

interface DenseParts {
  kind: 'dense';
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable;
  fuseRelu: boolean;
  /** The layer's activation when it is not fused (tanh, sigmoid, softmax, ...); null for linear. */
  activation: ((x: tf.Tensor) => tf.Tensor) | null;
}
interface DropoutParts {
  kind: 'dropout';
  rate: number;
  /** Index among the model's Dropout layers (which seed of `dropoutSeeds` it takes). */
  index: number;
}

type Activation = { apply(x: tf.Tensor): tf.Tensor };
type DenseInternals = { kernel?: tf.LayerVariable; bias?: tf.LayerVariable; activation?: Activation; useBias?: boolean };
type DropoutInternals = { rate: number; noiseShape?: unknown };

function describe(model: tf.LayersModel): (DenseParts | DropoutParts)[] | null {
  if (!(model instanceof tf.Sequential)) return null;
  const parts: (DenseParts | DropoutParts)[] = [];
  let dropouts = 0;
  for (const layer of model.layers) {
    const name = layer.getClassName();
    if (name === 'Dense') {
      const dense = layer as unknown as DenseInternals;
      const config = layer.getConfig();
      if (!dense.kernel || !dense.bias || dense.useBias === false || !dense.activation) return null;
      if (dense.kernel.shape.length !== 2) return null;
      const activation = String(config['activation'] ?? 'linear');
      const act = dense.activation;
      parts.push({
        kind: 'dense',
        kernel: dense.kernel,
        bias: dense.bias,
        fuseRelu: activation === 'relu',
        activation: activation === 'relu' || activation === 'linear' ? null : (x) => act.apply(x),
      });
    } else if (name === 'Dropout') {
      const dropout = layer as unknown as DropoutInternals;
      if (dropout.noiseShape != null) return null;
      parts.push({ kind: 'dropout', rate: dropout.rate, index: dropouts++ });
    } else {
      return null;
    }
  }
  return parts.length > 0 && parts[0]!.kind === 'dense' ? parts : null;
}

function fusedForward(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, relu: boolean): tf.Tensor2D {
  // the kernel itself (it takes rank-3 operands): tf.fused.matMul would fall back to separate ops while a
  // gradient tape records
  const [n, inner] = x.shape as [number, number];
  const units = w.shape[1]!;
  const y = tf.engine().runKernel('_FusedMatMul', { a: tf.reshape(x, [1, n, inner]), b: tf.reshape(w, [1, inner, units]), bias: b }, {
    transposeA: false,
    transposeB: false,
    activation: relu ? 'relu' : 'linear',
  }) as tf.Tensor3D;
  return tf.reshape(y, [n, units]);
}

function activationGrad(dy: tf.Tensor, y: tf.Tensor, relu: boolean): tf.Tensor {
  return relu ? tf.mul(dy, tf.step(y)) : dy;
}

/** Dense op with gradients for input, kernel and bias. */
function denseOp(relu: boolean): (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D {
  return tf.customGrad((x, w, b, save) => {
    const y = fusedForward(x as tf.Tensor, w as tf.Tensor, b as tf.Tensor, relu);
    (save as tf.GradSaveFunc)([x as tf.Tensor, w as tf.Tensor, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [xs, ws, ys] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dz = activationGrad(dy, ys, relu) as tf.Tensor2D;
        return [tf.matMul(dz, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dz), tf.sum(dz, 0)];
      },
    };
  }) as unknown as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;
}

/** Dense op on the data (first layer): gradients for kernel and bias only. */
function firstDenseOp(x: tf.Tensor2D, relu: boolean): (w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D {
  return tf.customGrad((w, b, save) => {
    const y = fusedForward(x, w as tf.Tensor, b as tf.Tensor, relu);
    (save as tf.GradSaveFunc)([y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const dz = activationGrad(dy, saved[0]!, relu) as tf.Tensor2D;
        return [tf.matMul(tf.transpose(x), dz), tf.sum(dz, 0)];
      },
    };
  }) as unknown as (w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;
}

export function trainingForward(model: tf.LayersModel): TrainingForward | null {
  const parts = describe(model);
  if (!parts) return null;
  // A Sequential creates its inner graph (which `calculateLosses`, i.e. the L2 penalties, walks) on its first call;
  // the forward below never calls it, so build it here.
  const sequential = model as unknown as { model?: unknown; build(): void };
  if (sequential.model == null) sequential.build();
  const ops = parts.map((p) => (p.kind === 'dense' ? denseOp(p.fuseRelu) : null));
  return (input, dropoutSeeds) => {
    let h: tf.Tensor2D = input;
    parts.forEach((part, i) => {
      if (part.kind === 'dropout') {
        if (part.rate > 0 && part.rate < 1) h = tf.dropout(h, part.rate, undefined, dropoutSeeds[part.index]) as tf.Tensor2D;
        return;
      }
      const w = part.kernel.read();
      const b = part.bias.read();
      h = i === 0 ? firstDenseOp(h, part.fuseRelu)(w, b) : ops[i]!(h, w, b);
      if (part.activation) h = part.activation(h) as tf.Tensor2D;
    });
    return h;
  };
}
