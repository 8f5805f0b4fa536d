/**
 * Datasets and DataIterators as values that tasks and actors receive working (the contract:
 * "Dataset, MaterializedDataset and DataIterator can be passed to tasks and actors"), through
 * tsray's util.registerSerializer. What travels is plain data:
 *
 * - a Dataset: its plan (sources, steps, UDFs as shipped functions, Arrow tables through
 *   arrow-serializer.ts, a materialized dataset's block refs, which the receiver borrows and so
 *   keeps alive while it holds them), rebuilt as a Dataset or MaterializedDataset of that plan;
 * - a built-in aggregation in a plan: its recipe (a custom one keeps closures, and cannot go);
 * - Dataset.iterator(): its dataset; a streamingSplit iterator: its coordinator's handle (made
 *   now if it was not) and its split.
 *
 * tsray/data's index imports this module; the registrations name it, so a worker that receives
 * one of these without having imported tsray/data imports it first.
 */
import * as ray from "tsray";
import { Aggregation, fromRecipeNow } from "./agg.js";
import type { AggRecipe } from "./agg-recipe.js";
import { DatasetIterator } from "./data-iterator.js";
import { Dataset, MaterializedDataset } from "./dataset.js";
import type { Plan } from "./plan.js";
import { SplitGroup, SplitIterator } from "./streaming-split.js";

const module = import.meta.url;

ray.util.registerSerializer(Dataset, {
  tag: "tsray.data.Dataset", module,
  serialize: (ds: Dataset<any>) => Dataset.planOf(ds),
  // The dataset keeps the context it was made with, not the receiving thread's.
  deserialize: (plan: Plan) => Dataset.fromPlan(plan, plan.context),
});

ray.util.registerSerializer(MaterializedDataset, {
  tag: "tsray.data.MaterializedDataset", module,
  serialize: (ds: MaterializedDataset<any>) => Dataset.planOf(ds),
  deserialize: (plan: Plan) => {
    if (plan.source.kind !== "blocks") throw new Error("internal: a MaterializedDataset arrived without its blocks");
    return MaterializedDataset.ofBlocks(plan.source.refs, plan.source.numRows, plan.context);
  },
});

ray.util.registerSerializer(Aggregation, {
  tag: "tsray.data.Aggregation", module,
  serialize: (aggregation: Aggregation) => {
    if (!aggregation.recipe) throw new TypeError(`the custom aggregation '${aggregation.name}' has functions that cannot be shipped (built-ins such as Math.max): it stays in this process`);
    return aggregation.recipe;
  },
  deserialize: (recipe: AggRecipe) => fromRecipeNow(recipe),
});

ray.util.registerSerializer(DatasetIterator, {
  tag: "tsray.data.DatasetIterator", module,
  serialize: (it: DatasetIterator<any>) => it.dataset,
  deserialize: (dataset: Dataset<any>) => new DatasetIterator(dataset),
});

ray.util.registerSerializer(SplitIterator, {
  tag: "tsray.data.SplitIterator", module,
  serialize: (it: SplitIterator<any>) => ({ coordinator: it.group.actor(), index: it.index, n: it.n }),
  deserialize: ({ coordinator, index, n }: { coordinator: ReturnType<SplitGroup["actor"]>; index: number; n: number }) =>
    new SplitIterator(SplitGroup.of(coordinator), index, n),
});
