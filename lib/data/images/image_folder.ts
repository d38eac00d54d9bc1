/**
 * torchvision's `ImageFolder` layout: `<split>/<class>/<image>`. Classes are the sub-folder names in sorted
 * order (label = position), files within a class are sorted by name, and only `.png`, `.jpg` and `.jpeg`
 * files count (any case; the paper's loader took `.JPEG`/`.jpeg`, which is all ImageNet holds). Sorting is
 * by UTF-16 code unit, which equals Python's `sorted` for the ASCII names these sets use.
 * @module
 */
import { join } from "node:path";
import { UserError } from "../../errors.ts";
import { ImageFiles } from "./image_files.ts";

const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;

/** Options of {@link openImageFolder}. */
export interface ImageFolderOptions {
  /**
   * Class folders to use (e.g. from {@link readClassList}); the rest are ignored. Labels follow the *sorted*
   * list, whatever order it was given in (`docs/method.md#training-data`: index = position among sorted
   * WNIDs).
   */
  classes?: readonly string[];
  /** Names the class list in errors (the `--classes` file). */
  classesFrom?: string;
}

/**
 * Lists one split folder. Errors (one line, naming the folder or file): missing folder, no class folders, a
 * listed class without a folder, a class without images.
 *
 * @example
 * ```ts
 * // The classes and first image of an ImageFolder tree (`<root>/<class>/*.png|jpeg`).
 * async function peek(root: string) {
 *   const train = await openImageFolder(root);
 *   train.classes; // sorted class folder names, e.g. ["arrow", "crescent", …]
 *   return await train.image(0);
 * }
 * ```
 */
export async function openImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<ImageFiles> {
  const info = await Deno.stat(dir).catch(() => null);
  if (!info?.isDirectory) {
    throw new UserError(`${dir}: no such folder; put the images there as <class>/<image> files`);
  }
  const present: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) present.push(entry.name);
  let classes = present.sort();
  if (options.classes) {
    const missing = options.classes.find((c) => !present.includes(c));
    if (missing !== undefined) {
      const from = options.classesFrom ? ` (listed in ${options.classesFrom})` : "";
      throw new UserError(`${join(dir, missing)}: no folder for class '${missing}'${from}`);
    }
    classes = [...options.classes].sort();
  }
  if (classes.length === 0) throw new UserError(`${dir}: no class folders (expected <class>/<image>)`);
  const paths: string[] = [], labels: number[] = [];
  for (const [label, name] of classes.entries()) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(join(dir, name))) {
      if (entry.isFile && IMAGE_EXTENSIONS.test(entry.name)) names.push(entry.name);
    }
    if (names.length === 0) {
      throw new UserError(`${join(dir, name)}: class '${name}' has no .png/.jpg/.jpeg images`);
    }
    for (const file of names.sort()) {
      paths.push(join(dir, name, file));
      labels.push(label);
    }
  }
  return new ImageFiles(classes, paths, Uint32Array.from(labels));
}

/**
 * Reads a class list: one class folder name per line; blank lines and `#` comments are skipped. Errors on an
 * unreadable or empty file and on duplicates.
 */
export async function readClassList(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(file).catch(() => {
    throw new UserError(`${file}: cannot read the class list (one class folder name per line)`);
  });
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  if (names.length === 0) throw new UserError(`${file}: no class names (one per line)`);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new UserError(`${file}: class '${duplicate}' is listed twice`);
  return names;
}
