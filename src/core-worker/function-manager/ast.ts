import type { AnyNode, Options, Program, Token } from "acorn";
import { lazyAcorn } from "./lazy-deps.js";

/** Small helpers over acorn's ESTree nodes (we do not depend on acorn-walk). */

export const PARSE_OPTIONS: Options = { ecmaVersion: "latest", sourceType: "module" };

export interface NameToken {
  name: string;
  start: number;
  /** Follows `.` or `?.`: a property name, not a reference to a binding. */
  member: boolean;
}

/** Parses `text` and collects its identifier tokens in source order. */
export function parseWithNames(text: string, options: Options = PARSE_OPTIONS): { program: Program; names: NameToken[] } {
  const names: NameToken[] = [];
  let previous: Token | undefined;
  const { parse, tokTypes } = lazyAcorn();
  const program = parse(text, {
    ...options,
    onToken(token) {
      if (token.type === tokTypes.name) {
        const member = previous?.type === tokTypes.dot || previous?.type === tokTypes.questionDot;
        names.push({ name: text.slice(token.start, token.end), start: token.start, member });
      }
      previous = token;
    },
  });
  return { program, names };
}

/** Names referenced between `start` and `end` (tokens sorted by start). */
export function namesIn(tokens: readonly NameToken[], start: number, end: number): Set<string> {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.start < start) lo = mid + 1;
    else hi = mid;
  }
  const names = new Set<string>();
  for (let i = lo; i < tokens.length && tokens[i]!.start < end; i++) {
    if (!tokens[i]!.member) names.add(tokens[i]!.name);
  }
  return names;
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

/** Visits `root` and its descendants; when `visit` returns false the node's children are skipped. */
export function walk(root: AnyNode, visit: (node: AnyNode) => boolean | void): void {
  const stack: AnyNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (visit(node) === false) continue;
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) stack.push(item);
      } else if (isNode(value)) {
        stack.push(value);
      }
    }
  }
}

/** `import.meta` occurrences in `root`, as [start, end) ranges. */
export function importMetaRanges(root: AnyNode): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  walk(root, (node) => {
    if (node.type === "MetaProperty" && node.meta.name === "import") ranges.push([node.start, node.end]);
  });
  return ranges.sort((a, b) => a[0] - b[0]);
}

/** `text[start, end)` with each range in `ranges` (sorted, absolute offsets) replaced by `by`. */
export function sliceReplacing(
  text: string,
  start: number,
  end: number,
  ranges: ReadonlyArray<readonly [number, number]>,
  by: string,
): string {
  let out = "";
  let at = start;
  for (const [s, e] of ranges) {
    if (s < start || e > end) continue;
    out += text.slice(at, s) + by;
    at = e;
  }
  return out + text.slice(at, end);
}
