/**
 * Classes whose instances keep their class across a serialization boundary. An instance is sent
 * as its own enumerable properties plus the class's tag, and revived by giving those properties
 * the registered class's prototype back (no constructor runs). Every thread that may receive
 * one must have loaded the module that registers the class.
 */
const tagByClass = new Map<Function, string>();
const prototypeByTag = new Map<string, object>();

export function registerSerializableClass(cls: Function, tag: string): void {
  tagByClass.set(cls, tag);
  prototypeByTag.set(tag, cls.prototype as object);
}

export function serializableTagOf(obj: object): string | undefined {
  return tagByClass.size === 0 ? undefined : tagByClass.get(obj.constructor);
}

export function registeredPrototype(tag: string): object | undefined {
  return prototypeByTag.get(tag);
}
