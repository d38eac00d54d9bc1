/**
 * The `--data` source specs: `sim[:DIR]` (the simulated world's classification set, default `data/sim`),
 * `imagefolder:DIR` and `cifar100:DIR`, opened per split.
 * @module
 */
import { join } from "node:path";
import { UsageError, UserError } from "../../errors.ts";
import { SIM_PATHS } from "../synth/mod.ts";
import { openCifar100 } from "./cifar100.ts";
import { openImageFolder, readClassList } from "./image_folder.ts";
import type { ImageSource } from "./source.ts";

/** A data split: `val` is CIFAR-100's `test.bin`. */
export type Split = "train" | "val";

/** Options of {@link openImageSource}. */
export interface SpecOptions {
  /** A class list file (`--classes`), for ImageFolder-based specs. */
  classesFile?: string;
}

/** The simulated world used by `sim` without a folder. */
export const DEFAULT_SIM_ROOT = "data/sim";

/** The spec syntax, for usage messages. */
export const SOURCE_SPECS = "sim[:DIR] | imagefolder:DIR | cifar100:DIR";

/**
 * Opens one split of `spec`:
 * - `sim[:DIR]` → `DIR/classification/<split>` (an ImageFolder of PNGs; create it with `deno task synth`);
 * - `imagefolder:DIR` → `DIR/<split>` when DIR has a `train` or `val` folder, else DIR itself is the split
 *   (e.g. an evaluation-only folder);
 * - `cifar100:DIR` → `DIR/train.bin` or `DIR/test.bin`, fine labels.
 *
 * @example
 * ```ts
 * // ImageNet's validation images of the paper's 50 classes.
 * async function imagenet50Val(root: string) {
 *   return await openImageSource(`imagefolder:${root}`, "val", { classesFile: "resources/coco50.txt" });
 * }
 * ```
 */
export async function openImageSource(
  spec: string,
  split: Split,
  options: SpecOptions = {},
): Promise<ImageSource> {
  const [kind, ...rest] = spec.split(":");
  const dir = rest.join(":");
  if (kind === "cifar100" && dir) {
    if (options.classesFile) throw new UsageError("--classes applies to ImageFolder data, not cifar100");
    return await openCifar100(join(dir, split === "train" ? "train.bin" : "test.bin"));
  }
  const classes = options.classesFile ? await readClassList(options.classesFile) : undefined;
  const folder = { classes, classesFrom: options.classesFile };
  if (kind === "sim") {
    const root = dir || DEFAULT_SIM_ROOT;
    if (!(await isDirectory(root))) {
      throw new UserError(`${root}: no simulated world there; create it with: deno task synth --out ${root}`);
    }
    return await openImageFolder(join(root, SIM_PATHS.classification, split), folder);
  }
  if (kind === "imagefolder" && dir) {
    const splitLayout = await Promise.all(["train", "val"].map((s) => isDirectory(join(dir, s))));
    return await openImageFolder(splitLayout.some(Boolean) ? join(dir, split) : dir, folder);
  }
  throw new UsageError(`unknown data source '${spec}'; use ${SOURCE_SPECS}`);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => null))?.isDirectory ?? false;
}
