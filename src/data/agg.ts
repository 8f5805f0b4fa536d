/**
 * tsray/data's `agg`: Ray's ray.data.aggregate. Each function returns an AggregateFn named as in
 * Ray ("count()", "sum(x)", ...) or by its aliasName. Dataset.aggregate runs them over a whole
 * dataset, accumulating block by block as the consumer reads them. Nulls are skipped unless
 * ignoreNulls is false (then a null makes the result null); count is the exception, as in Ray:
 * with `on` it counts nulls too unless ignoreNulls is true.
 */
import type { Table } from "apache-arrow";
import * as ray from "tsray";
import { columnValues } from "./from-arrow.js";
import { ColumnStats } from "./column-stats.js";
import type { AggRecipe, BuiltInName } from "./agg-recipe.js";
import type { AggregateFn, Row } from "./types.js";

export interface AggOptions { aliasName?: string; ignoreNulls?: boolean }

/** What one aggregation keeps while blocks go by. */
interface Accumulator { add(table: Table): void; result(): unknown }

/** @internal The AggregateFn every `agg` function returns. */
export class Aggregation implements AggregateFn {
  /** How to make it again in a worker (the accumulator is a closure, which does not travel); none if it cannot travel. */
  recipe?: AggRecipe;
  /** `key`: the group's key (a value, or an array of them for several key columns); null for a whole dataset. */
  constructor(readonly name: string, readonly accumulator: (key?: unknown) => Accumulator) {}
  /** This aggregation with its functions loaded: itself, but for a custom one that arrived as a recipe. */
  async ready(): Promise<Aggregation> {
    return this;
  }
}


function countOf(opts: AggOptions & { on?: string } = {}): AggregateFn {
  const { on } = opts;
  return new Aggregation(opts.aliasName ?? (on === undefined ? "count()" : `count(${on})`), () => {
    let n = 0;
    return {
      add(table) {
        if (on === undefined || !opts.ignoreNulls) n += table.numRows;
        else n += valuesOf(table, on).filter((v) => v !== null).length;
        if (on !== undefined) valuesOf(table, on); // an unknown column is named even when nulls count
      },
      result: () => n,
    };
  });
}

function sumOf(on: string, opts: AggOptions = {}): AggregateFn {
  return statsAggregation("sum", on, opts, (s) => s.sum());
}
function minOf(on: string, opts: AggOptions = {}): AggregateFn {
  return statsAggregation("min", on, opts, (s) => s.min, false);
}
function maxOf(on: string, opts: AggOptions = {}): AggregateFn {
  return statsAggregation("max", on, opts, (s) => s.max, false);
}
function meanOf(on: string, opts: AggOptions = {}): AggregateFn {
  return statsAggregation("mean", on, opts, (s) => s.mean());
}
/** Sample standard deviation by default (ddof 1), in one numerically stable pass. */
function stdOf(on: string, opts: AggOptions & { ddof?: number } = {}): AggregateFn {
  const ddof = opts.ddof ?? 1;
  if (!Number.isInteger(ddof) || ddof < 0) throw new RangeError(`agg.std() option ddof must be a non-negative integer, got ${String(ddof)}`);
  return statsAggregation("std", on, opts, (s) => s.std(ddof));
}
function absMaxOf(on: string, opts: AggOptions = {}): AggregateFn {
  return valuesAggregation("abs_max", on, opts, (values) => (values.length === 0 ? null : Math.max(...values.map((v) => Math.abs(v as number)))));
}
/** Exact quantile q in [0, 1], default 0.5, interpolated linearly between the two nearest values (numpy's default). */
function quantileOf(on: string, opts: AggOptions & { q?: number } = {}): AggregateFn {
  const q = opts.q ?? 0.5;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`agg.quantile() option q must be in [0, 1], got ${String(q)}`);
  return valuesAggregation("quantile", on, opts, (values) => {
    if (values.length === 0) return null;
    const sorted = (values as number[]).slice().sort((a, b) => a - b);
    const at = q * (sorted.length - 1);
    const lo = Math.floor(at);
    const hi = Math.ceil(at);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
  });
}
/** The distinct values, as an array. */
function uniqueOf(on: string, opts: AggOptions = {}): AggregateFn {
  return new Aggregation(opts.aliasName ?? `unique(${on})`, () => {
    const seen = new Set<unknown>();
    return {
      add(table) {
        for (const v of valuesOf(table, on)) if (v !== null || opts.ignoreNulls === false) seen.add(v);
      },
      result: () => [...seen],
    };
  });
}
type CustomSpec<A, O> = { name: string; init: (key: unknown) => A; accumulateRow: (acc: A, row: Row) => A;
  merge: (a: A, b: A) => A; finalize?: (acc: A) => O };

/**
 * A user aggregation: a state per block and group, merged in any order, then finalized. Its
 * functions are shipped as UDFs are, so groupby runs it in its reduce tasks (a closure over a
 * local variable then fails naming it); one that cannot be shipped (a built-in such as Math.max)
 * keeps the aggregation in the consuming process.
 */
export function custom<A, O = A>(spec: CustomSpec<A, O>): AggregateFn {
  if (typeof spec?.name !== "string" || typeof spec.init !== "function" || typeof spec.accumulateRow !== "function" || typeof spec.merge !== "function"
    || (spec.finalize !== undefined && typeof spec.finalize !== "function")) {
    throw new TypeError("agg.custom() takes { name, init, accumulateRow, merge, finalize? }");
  }
  const aggregation = customAggregation(spec);
  try {
    const ship = (fn: Function | undefined) => (fn === undefined ? null : ray.util.shipFunction(fn));
    aggregation.recipe = { fn: "custom", args: [spec.name, {
      init: ship(spec.init), accumulateRow: ship(spec.accumulateRow), merge: ship(spec.merge), finalize: ship(spec.finalize),
    }] };
  } catch {
    // Not describable as source (a native function): it stays in this process.
  }
  return aggregation;
}

function customAggregation<A, O>(spec: CustomSpec<A, O>): Aggregation {
  return new Aggregation(spec.name, (key = null) => {
    let total: { acc: A } | undefined;
    return {
      add(table) {
        // A state per block, merged into the total: the same path a distributed run takes.
        let acc = spec.init(key);
        for (const row of rowsOf(table)) acc = spec.accumulateRow(acc, row);
        total = total === undefined ? { acc } : { acc: spec.merge(total.acc, acc) };
      },
      result: () => {
        const acc = total?.acc ?? spec.init(key);
        return spec.finalize ? spec.finalize(acc) : acc;
      },
    };
  });
}

function statsAggregation(fn: string, on: string, opts: AggOptions, result: (s: ColumnStats) => unknown, numeric = true): AggregateFn {
  return new Aggregation(opts.aliasName ?? `${fn}(${on})`, () => {
    const stats = new ColumnStats(on, { numeric, unique: false });
    let sawNull = false;
    return {
      add(table) {
        const values = valuesOf(table, on);
        if (values.includes(null)) sawNull = true;
        stats.add(values);
      },
      result: () => (sawNull && opts.ignoreNulls === false ? null : result(stats)),
    };
  });
}

function valuesAggregation(fn: string, on: string, opts: AggOptions, result: (values: unknown[]) => unknown): AggregateFn {
  return new Aggregation(opts.aliasName ?? `${fn}(${on})`, () => {
    const values: unknown[] = [];
    let sawNull = false;
    return {
      add(table) {
        for (const v of valuesOf(table, on)) {
          if (v === null) sawNull = true;
          else values.push(v);
        }
      },
      result: () => (sawNull && opts.ignoreNulls === false ? null : result(values)),
    };
  });
}

function valuesOf(table: Table, column: string): unknown[] {
  if (table.numRows === 0 && table.numCols === 0) return [];
  const vector = table.getChild(column);
  if (!vector) throw new Error(`no column '${column}'; the columns are ${table.schema.fields.map((f) => f.name).join(", ") || "(none)"}`);
  return columnValues(column, vector);
}

function rowsOf(table: Table): Row[] {
  const names = table.schema.fields.map((f) => f.name);
  const columns = names.map((name) => columnValues(name, table.getChild(name)!));
  return Array.from({ length: table.numRows }, (_, i) => Object.fromEntries(names.map((name, c) => [name, columns[c]![i]])));
}

// The built-ins remember their recipe, so groupby can aggregate in tasks.
export const count = recorded("count", countOf);
export const sum = recorded("sum", sumOf);
export const min = recorded("min", minOf);
export const max = recorded("max", maxOf);
export const mean = recorded("mean", meanOf);
export const std = recorded("std", stdOf);
export const absMax = recorded("absMax", absMaxOf);
export const quantile = recorded("quantile", quantileOf);
export const unique = recorded("unique", uniqueOf);

function recorded<A extends unknown[]>(fn: BuiltInName, make: (...args: A) => AggregateFn): (...args: A) => AggregateFn {
  return (...args: A) => {
    const aggregation = make(...args) as Aggregation;
    aggregation.recipe = { fn, args };
    return aggregation;
  };
}

/**
 * @internal The aggregation a recipe describes, at once (a deserializer cannot wait): a custom one
 * gets its functions only when `ready()` loads them, which every consumer of aggregations awaits.
 */
export function fromRecipeNow(recipe: AggRecipe): Aggregation {
  if (recipe.fn !== "custom") return builtIn(recipe.fn, recipe.args);
  const pending = new Aggregation(recipe.args[0], () => {
    throw new Error(`internal: the custom aggregation '${recipe.args[0]}' was used before its functions were loaded`);
  });
  pending.recipe = recipe;
  pending.ready = () => fromRecipe(recipe);
  return pending;
}

/** @internal The aggregation a recipe describes, made again (in a worker). */
export async function fromRecipe(recipe: AggRecipe): Promise<Aggregation> {
  if (recipe.fn === "custom") {
    const [name, shipped] = recipe.args;
    const load = (fn: unknown) => (fn === null ? undefined : ray.util.loadFunction(fn as ray.util.ShippedFunction<never>));
    const [init, accumulateRow, merge, finalize] = await Promise.all([shipped.init, shipped.accumulateRow, shipped.merge, shipped.finalize].map(load));
    return customAggregation({ name, init, accumulateRow, merge, finalize } as unknown as CustomSpec<unknown, unknown>);
  }
  return builtIn(recipe.fn, recipe.args);
}

function builtIn(fn: BuiltInName, args: readonly unknown[]): Aggregation {
  const makers: Record<BuiltInName, (...args: never[]) => AggregateFn> = {
    count: countOf, sum: sumOf, min: minOf, max: maxOf, mean: meanOf, std: stdOf, absMax: absMaxOf, quantile: quantileOf, unique: uniqueOf,
  };
  const aggregation = makers[fn](...(args as never[])) as Aggregation;
  aggregation.recipe = { fn, args };
  return aggregation;
}
