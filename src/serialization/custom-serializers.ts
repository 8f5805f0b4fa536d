/**
 * Serializers that users and libraries register for their classes (Ray's
 * `ray.util.register_serializer`): an instance is sent as whatever `serialize` makes of it (plain
 * data, typed arrays, ObjectRefs and other registered instances, all serialized as usual, so
 * large buffers go to the store zero-copy) and rebuilt on the other side by `deserialize`.
 *
 * Unlike registerSerializableClass (revivable.ts), nothing of the instance is sent but what
 * `serialize` returns, so private fields and objects whose classes are a graph of other classes
 * (an Arrow Table) travel too.
 *
 * A registration lives in the process (thread) that made it. So that a worker that never imported
 * the registering module can still read the value, a registration may name that module (`module`,
 * its import.meta.url): the value carries the URL, and a thread that meets a tag it does not know
 * imports the module first and decodes again (see `decodingWith`).
 */
export interface Serializer<T extends object = object, S = unknown> {
  /** The instance as a value tsray can send (serialized in turn). */
  serialize(instance: T): S;
  /** Rebuilds the instance in the receiving thread. */
  deserialize(state: S): T;
  /** The tag that names the class between processes. Default: the class's name. */
  tag?: string;
  /** The URL of a module whose import registers this serializer (import.meta.url), for threads that have not. */
  module?: string;
}

interface Registered {
  readonly tag: string;
  readonly serialize: (instance: object) => unknown;
  readonly deserialize: (state: unknown) => object;
  readonly module?: string;
}

const byClass = new Map<Function, Registered>();
const byTag = new Map<string, Registered>();

export function registerSerializer<T extends object, S>(cls: Function & { readonly prototype: T }, serializer: Serializer<T, S>): void {
  if (typeof cls !== "function" || !cls.prototype) throw new TypeError("registerSerializer() takes a class first");
  const { serialize, deserialize } = serializer ?? {};
  if (typeof serialize !== "function" || typeof deserialize !== "function") {
    throw new TypeError(`registerSerializer(${cls.name}): the second argument needs serialize(instance) and deserialize(state) functions`);
  }
  const tag = serializer.tag ?? cls.name;
  if (typeof tag !== "string" || tag === "") throw new TypeError(`registerSerializer(${cls.name || "anonymous class"}): give a tag (the class has no name)`);
  if (serializer.module !== undefined && !/^(file|data):/.test(serializer.module)) {
    throw new TypeError(`registerSerializer(${tag}): option module must be a module's URL (import.meta.url), got ${String(serializer.module)}`);
  }
  const registered: Registered = {
    tag, serialize: serialize as (instance: object) => unknown, deserialize: deserialize as (state: unknown) => object,
    ...(serializer.module !== undefined ? { module: serializer.module } : {}),
  };
  byClass.set(cls, registered);
  byTag.set(tag, registered);
}

/** Forgets the serializer of `cls` (Ray's deregister_serializer). */
export function deregisterSerializer(cls: Function): void {
  const registered = byClass.get(cls);
  if (!registered) return;
  byClass.delete(cls);
  if (byTag.get(registered.tag) === registered) byTag.delete(registered.tag);
}

/** The serializer of this object's class (not its superclasses': a subclass registers its own), if any. */
export function customSerializerOf(obj: object): Registered | undefined {
  return byClass.size === 0 ? undefined : byClass.get(obj.constructor);
}

export function customDeserializerOf(tag: string): Registered | undefined {
  return byTag.get(tag);
}

/** Thrown by a decode that met a tag this thread does not know, but whose registering module it can import. */
export class MissingSerializerModule extends Error {
  constructor(readonly tag: string, readonly module: string) {
    super(`no serializer registered for '${tag}' in this thread; importing ${module} registers it`);
  }
}

const imported = new Map<string, Promise<unknown>>();

/**
 * Runs a decode, importing the modules that register the serializers it lacks and decoding again
 * (once per missing module: a module that does not register its tag leaves the error standing).
 */
export async function decodingWith<T>(decode: () => T): Promise<T> {
  const tried = new Set<string>();
  for (;;) {
    try {
      return decode();
    } catch (err) {
      if (!(err instanceof MissingSerializerModule) || tried.has(err.module)) throw err;
      tried.add(err.module);
      let loading = imported.get(err.module);
      if (!loading) imported.set(err.module, (loading = import(err.module)));
      await loading;
    }
  }
}
