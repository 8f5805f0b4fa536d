/**
 * Input checks for the public API. Each failure is a TypeError or RangeError whose message
 * names the option or argument that was wrong, the way piscina's options do.
 */

export function checkKnownOptions(what: string, opts: object | undefined, known: readonly string[]): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    throw new TypeError(`${what} must be an object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      throw new TypeError(`${what}: unknown option '${key}' (known options: ${known.join(", ")})`);
    }
  }
}

export function checkNonNegativeNumber(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (value < 0 || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
}

export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value)) throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  if (value < min || value > max) throw new RangeError(`${name} must be between ${min} and ${max}, got ${value}`);
}

export function checkBoolean(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
}

export function checkString(name: string, value: unknown, { nonEmpty = true } = {}): void {
  if (value === undefined) return;
  if (typeof value !== "string") throw new TypeError(`${name} must be a string, got ${describe(value)}`);
  if (nonEmpty && value.length === 0) throw new RangeError(`${name} must not be empty`);
}

export function checkResourceMap(name: string, value: unknown): void {
  if (value === undefined) return;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object of resource amounts, got ${describe(value)}`);
  }
  for (const [key, amount] of Object.entries(value)) {
    if (key === "") throw new RangeError(`${name} has an empty resource name`);
    checkNonNegativeNumber(`${name}.${key}`, amount);
  }
}

export function checkStringMap(name: string, value: unknown): void {
  if (value === undefined) return;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object of strings, got ${describe(value)}`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new TypeError(`${name}.${key} must be a string, got ${describe(v)}`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return `a function (${value.name || "anonymous"})`;
  if (typeof value === "object") return `an object (${Object.prototype.toString.call(value)})`;
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value} ${String(value)}`;
}
