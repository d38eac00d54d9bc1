/**
 * Micro-batching: when one activation of a batch would not fit a single storage binding of the adapter (the
 * paper's ResNet-18 at 224 px and batch 256 has a 822 MB first feature map; software adapters bind at most
 * 128 MiB), a step runs the batch as equal micro-batches and accumulates their gradients, so the optimizer
 * sees the gradient of the batch mean, as in PyTorch's gradient accumulation.
 *
 * What differs from one full-batch pass: train-mode BatchNorm normalises each micro-batch with that
 * micro-batch's statistics and updates its running statistics once per micro-batch (exactly what PyTorch does
 * when a batch is split for gradient accumulation); the manifold loss's per-class terms are likewise computed
 * per micro-batch. For models without BatchNorm trained with cross-entropy, MSE guidance or regression, the
 * step equals the full-batch step up to float rounding.
 * @module
 */
import { UserError } from "../errors.ts";
import { buildModel, type ModelConfig } from "./models.ts";

/** Bytes of the largest batch-proportional tensor of `config`'s plan, per image. */
export function largestTensorBytesPerImage(config: ModelConfig): number {
  const { graph } = buildModel(config, 1);
  let largest = 0;
  for (const node of graph.nodes) largest = Math.max(largest, 4 * node.shape.reduce((a, b) => a * b, 1));
  return largest;
}

/**
 * The most images whose tensors, in every model of `configs`, fit one storage binding of `bindingLimit`
 * bytes. Throws a {@link UserError} when not even one image fits.
 */
export function largestFittingBatch(configs: readonly ModelConfig[], bindingLimit: number): number {
  const perImage = Math.max(...configs.map(largestTensorBytesPerImage));
  const fits = Math.floor(bindingLimit / perImage);
  if (fits < 1) {
    throw new UserError(
      `one ${configs[0].imageSize} px image needs a ${perImage}-byte tensor, over this adapter's storage ` +
        `binding limit of ${bindingLimit} bytes; use a smaller --size`,
    );
  }
  return fits;
}

/** How a batch is run: `count` micro-batches of `size` images (count 1 = the whole batch at once). */
export interface MicroBatching {
  size: number;
  count: number;
}

/**
 * The largest divisor of `batch` whose tensors, in every model of `configs` (a classifier and the frozen
 * predictor that shares its input), fit one storage binding of `bindingLimit` bytes. Equal micro-batches keep
 * the accumulated gradient exactly the batch mean.
 */
export function microBatching(
  configs: readonly ModelConfig[],
  batch: number,
  bindingLimit: number,
): MicroBatching {
  let size = Math.min(batch, largestFittingBatch(configs, bindingLimit));
  while (batch % size !== 0) size--;
  return { size, count: batch / size };
}

/** The one-line notice a run prints when it splits its batch. */
export function microBatchNotice(batch: number, m: MicroBatching): string {
  return `batch ${batch} runs as ${m.count} micro-batches of ${m.size} with accumulated gradients ` +
    `(one tensor of the full batch exceeds this adapter's storage binding limit); BatchNorm uses ` +
    `per-micro-batch statistics, as PyTorch's gradient accumulation does`;
}
