/**
 * A built-in aggregation as plain data: its function's name and arguments. An aggregation's
 * accumulator is a closure, which does not travel to workers; its recipe does, and a worker makes
 * the aggregation again from it (agg.ts fromRecipe). A module of its own so that the declarations
 * of the exchange tasks need nothing internal of agg.ts.
 */
export type BuiltInName = "count" | "sum" | "min" | "max" | "mean" | "std" | "absMax" | "quantile" | "unique";
export interface AggRecipe { readonly fn: BuiltInName; readonly args: readonly unknown[] }
